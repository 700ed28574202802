//! The process's peak resident memory, for the benchmarks that report it (Linux only:
//! `/proc/self/status` and `/proc/self/clear_refs`; elsewhere the figures are 0).

/// Resets the peak resident size (`VmHWM`) to the current resident size.
pub fn reset_peak_rss() {
    // Writing "5" to clear_refs resets VmHWM; a kernel without it leaves the peak as it is.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The peak resident size since the process started or since `reset_peak_rss`, in KiB.
#[must_use]
pub fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
