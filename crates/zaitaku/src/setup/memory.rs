//! How the process gives memory back. glibc's malloc serves a large block from
//! its heap (kept resident after `free`) once an earlier block of that size was
//! freed: its mmap threshold grows by itself, up to 32 MiB. Every console login
//! hashes with argon2 in a 19 MiB block, so after a few logins those blocks
//! stayed resident, one per malloc arena (each blocking thread may get its
//! own), and the process sat above its 64 MiB budget long after the logins.
//! A fixed threshold keeps large blocks in their own mappings, returned to the
//! kernel when freed; small allocations are unaffected.

/// Blocks at least this large are mapped on their own and unmapped when freed
/// (glibc's starting threshold, held fixed).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 128 * 1024;

/// Call once, first thing in `main`, before other threads exist.
pub fn return_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a malloc parameter; called before any other
    // thread exists, so no allocation races with the change.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}
