//! `cloverlift plan SPEC…`: the step graph as text, JSON, DOT or Mermaid. Several specs print
//! one plan after another, each exactly as alone (JSON: a stream of documents).

use std::path::PathBuf;

use super::{Io, exit};
use crate::plan::format::{self, PlanFormat};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The spec files (`-` reads standard input). With several, their plans follow one
    /// another in the order given, each as it prints alone; nothing prints when one is invalid.
    #[arg(value_name = "SPEC", required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// How to print the plan.
    #[arg(long, value_enum, default_value = "text")]
    pub format: PlanFormat,
}

pub fn run(args: &Args, io: &mut Io) -> u8 {
    let checked = match super::load_all_checked(&args.files, io) {
        Ok(checked) => checked,
        Err(code) => return code,
    };
    for (valid, plan) in &checked {
        let text = format::render(plan, &valid.spec, args.format);
        // The text form quotes hook commands as written; DOT, Mermaid and JSON escape for
        // their own syntax and must stay exact.
        let text = match args.format {
            PlanFormat::Text => crate::text::printable_lines(&text),
            _ => text.into(),
        };
        if io.out.write_all(text.as_bytes()).is_err() {
            // A reader that went away (`| head`) is main's to judge (WatchedOut): it exits 0.
            return exit::USAGE;
        }
    }
    exit::OK
}
