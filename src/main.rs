//! The `stormglass` binary: parse, call the library, map the result to an exit code.
fn main() {
    // Die quietly on a closed pipe (`stormglass run x.ron | head`), as Unix tools do,
    // instead of panicking on the next print.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // A sweep builds and drops one world per seed, each tens of megabytes. By default glibc
    // hands large blocks back to the kernel at every free and takes them again (zeroed,
    // page fault by page fault) for the next seed; keep them in the heap instead.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
    std::process::exit(stormglass::cli::main());
}
