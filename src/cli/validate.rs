//! `stormglass validate FILE...`: load and check, run nothing.

use super::{EXIT_BAD_INPUT, EXIT_OK};
use std::path::PathBuf;

pub fn validate(files: &[PathBuf]) -> i32 {
    let mut code = EXIT_OK;
    for f in files {
        match crate::systems::load(f) {
            Ok(s) => println!("ok  {}  ({})", f.display(), s.raw.name),
            Err(e) => {
                eprintln!("error: {e}");
                code = EXIT_BAD_INPUT;
            }
        }
    }
    code
}
