//! `cloverlift explain CODE`: what a diagnostic code means.

use super::{Io, exit};
use crate::diagnostics::codes;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A code such as `spec::unknown_field` (or `unknown_field`); none lists them all.
    pub code: Option<String>,
}

pub fn run(args: &Args, io: &mut Io) -> u8 {
    let result = match &args.code {
        None => codes::CODES
            .iter()
            .try_for_each(|c| writeln!(io.out, "{:<28} {}", c.code, c.summary)),
        Some(code) => {
            let full = if code.contains("::") {
                code.clone()
            } else {
                format!("spec::{code}")
            };
            match codes::find(&full) {
                Some(c) => writeln!(io.out, "{}: {}\n\n{}", c.code, c.summary, c.explanation),
                None => {
                    let _ = writeln!(
                        io.err,
                        "error: unknown code `{code}`; `cloverlift explain` lists them"
                    );
                    return exit::USAGE;
                }
            }
        }
    };
    if result.is_err() {
        exit::USAGE
    } else {
        exit::OK
    }
}
