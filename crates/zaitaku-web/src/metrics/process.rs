//! The process's resident memory, from `/proc/self/status` (Linux).

/// Bytes of resident memory (`VmRSS`), or `None` where there is no `/proc`.
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    vm_rss(&status)
}

fn vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_resident_size_is_read_in_kibibytes() {
        let status = "Name:\tzaitaku\nVmPeak:\t  9000 kB\nVmRSS:\t    2048 kB\nThreads:\t4\n";
        assert_eq!(super::vm_rss(status), Some(2048 * 1024));
        assert_eq!(super::vm_rss("Name:\tx\n"), None);
    }
}
