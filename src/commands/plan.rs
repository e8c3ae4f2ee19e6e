//! `cloverlift plan SPEC`: the step graph as text, JSON, DOT or Mermaid.

use std::path::PathBuf;

use super::{Io, exit, load_checked};
use crate::plan::format::{self, PlanFormat};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The spec file (`-` reads standard input).
    #[arg(value_name = "SPEC")]
    pub file: PathBuf,
    /// How to print the plan.
    #[arg(long, value_enum, default_value = "text")]
    pub format: PlanFormat,
}

pub fn run(args: &Args, io: &mut Io) -> u8 {
    let (valid, plan) = match load_checked(&args.file, io) {
        Ok(checked) => checked,
        Err(code) => return code,
    };
    let text = format::render(&plan, &valid.spec, args.format);
    // The text form quotes hook commands as written; DOT, Mermaid and JSON escape for their
    // own syntax and must stay exact.
    let text = match args.format {
        PlanFormat::Text => crate::text::printable_lines(&text),
        _ => text.into(),
    };
    match io.out.write_all(text.as_bytes()) {
        Ok(()) => exit::OK,
        // A reader that went away (`| head`) is main's to judge (WatchedOut): it exits 0.
        Err(_) => exit::USAGE,
    }
}
