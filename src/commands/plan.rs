//! `cloverlift plan SPEC`: the step graph as text, JSON, DOT or Mermaid.

use std::path::PathBuf;

use super::{Io, exit, report_io};
use crate::diagnostics::report::{self, FileReport, Format};
use crate::plan::format::{self, PlanFormat};
use crate::source::{Loaded, SourceFile};

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
    let file = match SourceFile::read(&args.file) {
        Ok(Loaded::Text(file)) => file,
        Ok(Loaded::Rejected(file, error)) => {
            return invalid(
                FileReport {
                    file,
                    errors: vec![error],
                },
                io,
            );
        }
        Err(e) => {
            report_io(io, e);
            return exit::USAGE;
        }
    };
    match crate::check(&file) {
        Ok((valid, plan)) => {
            let text = format::render(&plan, &valid.spec, args.format);
            match io.out.write_all(text.as_bytes()) {
                Ok(()) => exit::OK,
                Err(_) => exit::USAGE,
            }
        }
        Err(errors) => invalid(FileReport { file, errors }, io),
    }
}

fn invalid(report: FileReport, io: &mut Io) -> u8 {
    let color = report::color_enabled(io.err_is_terminal);
    let _ = report::print(&[report], Format::Human, color, io.out, io.err);
    exit::INVALID
}
