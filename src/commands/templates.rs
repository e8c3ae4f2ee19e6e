//! `cloverlift templates export DIR`: writes the embedded templates as files, the starting point
//! for a `--templates DIR` override (edit what you need, delete the rest).

use std::path::{Path, PathBuf};

use super::{Io, exit};
use crate::render::engine::TEMPLATES;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Write every embedded template to DIR/<cloud>/<name>.hbs (DIR is created if needed; no
    /// existing file is overwritten).
    Export {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

pub fn run(args: &Args, io: &mut Io) -> u8 {
    match &args.action {
        Action::Export { dir } => export(dir, io),
    }
}

fn export(dir: &Path, io: &mut Io) -> u8 {
    let targets: Vec<(PathBuf, &str)> = TEMPLATES
        .iter()
        .map(|t| (dir.join(format!("{}.hbs", t.name)), t.source))
        .collect();
    // All or nothing: an export over an earlier one would mix two versions' templates.
    let existing: Vec<String> = targets
        .iter()
        .filter(|(path, _)| std::fs::symlink_metadata(path).is_ok())
        .map(|(path, _)| path.display().to_string())
        .collect();
    if !existing.is_empty() {
        let _ = writeln!(
            io.err,
            "error[render::io]: these files exist and would be overwritten: {}\n  \
             export into a new directory",
            existing.join(", ")
        );
        return exit::USAGE;
    }
    for (path, source) in &targets {
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| crate::output::replace_file(path, source.as_bytes()));
        if let Err(e) = written {
            let _ = writeln!(
                io.err,
                "error[render::io]: cannot write {}: {e}",
                path.display()
            );
            return exit::USAGE;
        }
        let _ = writeln!(io.err, "wrote {}", path.display());
    }
    exit::OK
}
