//! `cloverlift validate SPEC…`: every problem of every file, in the chosen format.

use std::path::PathBuf;

use super::{Io, exit};
use crate::diagnostics::SpecError;
use crate::diagnostics::report::{self, FileReport, Format};
use crate::source::{Loaded, ReadError, SourceFile};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Spec files to check (`-` reads standard input).
    #[arg(required = true, value_name = "SPEC")]
    pub files: Vec<PathBuf>,
    /// How to print the diagnostics.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

pub fn run(args: &Args, io: &mut Io) -> u8 {
    if let Err(code) = super::stdin_at_most_once(&args.files, io) {
        return code;
    }
    let mut reports = Vec::new();
    let mut unreadable = false;
    for path in &args.files {
        match SourceFile::read(path) {
            Ok(Loaded::Text(file)) => {
                let errors = crate::check(&file).err().unwrap_or_default();
                reports.push(FileReport { file, errors });
            }
            Ok(Loaded::Rejected(file, error)) => reports.push(FileReport {
                file,
                errors: vec![error],
            }),
            Err(ReadError::Io { path, source }) => {
                unreadable = true;
                reports.push(FileReport {
                    file: SourceFile::new(path.clone(), ""),
                    errors: vec![SpecError::Unreadable {
                        path,
                        message: source.to_string(),
                        span: (0, 0).into(),
                        help: "check that the path exists and is a readable file".into(),
                    }],
                });
            }
        }
    }
    let color = report::color_enabled(io.err_is_terminal);
    if let Err(e) = report::print(&reports, args.format, color, io.out, io.err) {
        // A reader that stopped early (`| head`) is not an error; main exits 0 quietly.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            let _ = writeln!(io.err, "error: cannot write output: {e}");
        }
        return exit::USAGE;
    }
    if unreadable {
        exit::USAGE
    } else if reports.iter().any(|r| !r.errors.is_empty()) {
        exit::INVALID
    } else {
        exit::OK
    }
}
