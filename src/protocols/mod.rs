//! The kernel benchmark's model (PHOLD), which runs on the bare kernel. Systems live in
//! `systems/`.
pub mod phold;
