//! The `stormglass` binary: parse, call the library, map the result to an exit code.
fn main() {
    // Die quietly on a closed pipe (`stormglass run x.ron | head`), as Unix tools do,
    // instead of panicking on the next print.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    std::process::exit(stormglass::cli::main());
}
