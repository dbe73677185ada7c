//! Whether a host is this machine. One test for the whole workspace: origins
//! (plain http only on loopback), the database host (TLS off this machine) and
//! the listening address all ask it.

use std::net::IpAddr;

/// Whether `host` names this machine: `localhost`, or an address in 127.0.0.0/8 or `::1`
/// (bare or in brackets), parsed as an address, never matched as a text prefix
/// (`127.example.jp` is a remote name). The one loopback test of the workspace: origins,
/// the database host and the listening address all use it.
pub fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse::<IpAddr>().is_ok_and(is_loopback_ip)
}

/// 127.0.0.0/8 or `::1`.
pub fn is_loopback_ip(ip: IpAddr) -> bool {
    ip.is_loopback()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_parsed_as_an_address() {
        for yes in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.0.0.2",
            "127.200.1.9",
            "127.255.255.255",
            "::1",
            "[::1]",
            "0:0:0:0:0:0:0:1",
        ] {
            assert!(is_loopback_host(yes), "{yes}");
        }
        for no in [
            "",
            "127.",
            "127.example.jp",
            "127.0.0.1.example.jp",
            "127.0.0.256",
            "1270.0.0.1",
            "126.255.255.255",
            "128.0.0.1",
            "0.0.0.0",
            "::",
            "[::]",
            "::2",
            "[::1",
            "localhost.example.jp",
            "10.0.0.1",
        ] {
            assert!(!is_loopback_host(no), "{no}");
        }
    }
}
