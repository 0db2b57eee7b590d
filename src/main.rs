//! The `stormglass` binary: parse, call the library, map the result to an exit code.
fn main() {
    std::process::exit(stormglass::cli::main());
}
