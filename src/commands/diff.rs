//! `cloverlift diff OLD_SPEC NEW_SPEC`: renders both specs in memory and prints what changes
//! in each rendered file as a unified diff. Exit codes follow GNU diff, so a CI gate can tell
//! them apart: 0 nothing changes, 1 something does, 2 trouble (an invalid spec, with its
//! diagnostics, or an I/O error).

use std::path::PathBuf;

use similar::TextDiff;

use super::{Io, exit, load_checked, report_io};
use crate::render::{self, Artifacts, TemplateSource};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The spec as it was.
    #[arg(value_name = "OLD_SPEC")]
    pub old: PathBuf,
    /// The spec as it is now.
    #[arg(value_name = "NEW_SPEC")]
    pub new: PathBuf,
    /// Directory of template overrides, as for `render`.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Lines of context around each change.
    #[arg(long, default_value_t = 3)]
    pub context: usize,
    /// Which rendered form to compare, as for `render` (`terraform` and `deployment-manager`
    /// are Google Cloud's).
    #[arg(long, value_enum, default_value = "native")]
    pub format: render::OutputFormat,
}

pub fn run(args: &Args, io: &mut Io) -> u8 {
    let source = TemplateSource {
        override_dir: args.templates.clone(),
    };
    let renderer = match render::Renderer::new(&source) {
        Ok(r) => r,
        Err(e) => {
            report_io(io, e);
            return exit::USAGE;
        }
    };
    let mut rendered: Vec<Artifacts> = Vec::new();
    for path in [&args.old, &args.new] {
        let (valid, plan) = match load_checked(path, io) {
            Ok(checked) => checked,
            // An invalid spec is trouble, not a difference.
            Err(_) => return exit::USAGE,
        };
        match renderer.render_as(&valid, &plan, args.format) {
            Ok(a) => rendered.push(a),
            Err(e) => {
                report_io(io, e);
                return exit::USAGE;
            }
        }
    }
    let (old, new) = (&rendered[0], &rendered[1]);
    let color = io.out_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut names: Vec<&String> = old.files.keys().chain(new.files.keys()).collect();
    names.sort();
    names.dedup();
    let mut changed = 0;
    for name in names {
        let a = old.files.get(name).map_or("", String::as_str);
        let b = new.files.get(name).map_or("", String::as_str);
        if a == b {
            continue;
        }
        changed += 1;
        let diff = TextDiff::from_lines(a, b);
        let text = diff
            .unified_diff()
            .context_radius(args.context)
            .header(
                &format!("a/{name}\t({})", args.old.display()),
                &format!("b/{name}\t({})", args.new.display()),
            )
            .to_string();
        let result = if color {
            write_colored(io, &text)
        } else {
            io.out.write_all(text.as_bytes())
        };
        if result.is_err() {
            return exit::USAGE;
        }
    }
    if changed == 0 {
        let _ = writeln!(io.err, "no differences in the rendered files");
        exit::OK
    } else {
        let s = if changed == 1 { "" } else { "s" };
        let _ = writeln!(io.err, "{changed} rendered file{s} differ");
        exit::INVALID
    }
}

/// Colours a unified diff the way `git diff` does: headers bold, hunks cyan, - red, + green.
fn write_colored(io: &mut Io, text: &str) -> std::io::Result<()> {
    for line in text.split_inclusive('\n') {
        let style = if line.starts_with("---") || line.starts_with("+++") {
            "\x1b[1m"
        } else if line.starts_with("@@") {
            "\x1b[36m"
        } else {
            match line.chars().next() {
                Some('-') => "\x1b[31m",
                Some('+') => "\x1b[32m",
                _ => "",
            }
        };
        if style.is_empty() {
            io.out.write_all(line.as_bytes())?;
        } else {
            let body = line.trim_end_matches('\n');
            write!(io.out, "{style}{body}\x1b[0m")?;
            if line.ends_with('\n') {
                writeln!(io.out)?;
            }
        }
    }
    Ok(())
}
