//! `stormglass list`: the shipped scenarios, one line each.

use super::{EXIT_BAD_INPUT, EXIT_OK};
use std::path::Path;

pub fn list(dir: &Path) -> i32 {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            eprintln!(
                "error: cannot list '{}': {e}; run from the repository root or name the folder",
                dir.display()
            );
            return EXIT_BAD_INPUT;
        }
    };
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ron") && !p.to_string_lossy().contains(".min."))
        .collect();
    files.sort();
    let mut code = EXIT_OK;
    for f in files {
        match crate::systems::load(&f) {
            Ok(s) => println!("{:<32} {}", s.raw.name, s.raw.description),
            Err(e) => {
                eprintln!("error: {e}");
                code = EXIT_BAD_INPUT;
            }
        }
    }
    code
}
