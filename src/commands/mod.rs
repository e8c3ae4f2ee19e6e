//! One module per subcommand. Each takes its parsed arguments and injectable output streams
//! and returns the process exit code, so the CLI tests can drive them in-process too.

#[cfg(feature = "aws")]
pub mod apply;
pub mod diff;
pub mod explain;
pub mod plan;
pub mod render;
#[cfg(feature = "aws")]
pub mod rollback;
pub mod schema;
pub mod templates;
pub mod validate;

use std::io::Write;

/// Exit codes, as SPEC.md fixes them for every command.
pub mod exit {
    pub const OK: u8 = 0;
    /// The spec is invalid, or `diff` found differences.
    pub const INVALID: u8 = 1;
    /// Usage or I/O error.
    pub const USAGE: u8 = 2;
    /// An apply step failed; the old version is left running and resumed.
    pub const APPLY_FAILED: u8 = 3;
}

/// Where a command writes, and whether stderr is a terminal (for colour).
/// Standard output that remembers whether its reader went away (`cloverlift schema | head`),
/// so `main` can end quietly with 0 as Unix filters do, whatever the command made of the error.
pub struct WatchedOut<W: Write> {
    inner: W,
    closed: bool,
}

impl<W: Write> WatchedOut<W> {
    pub fn new(inner: W) -> Self {
        WatchedOut {
            inner,
            closed: false,
        }
    }

    /// Whether a write failed because the reading end of the pipe was closed.
    pub fn reader_went_away(&self) -> bool {
        self.closed
    }

    fn watch<T>(&mut self, result: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(e) = &result
            && e.kind() == std::io::ErrorKind::BrokenPipe
        {
            self.closed = true;
        }
        result
    }
}

impl<W: Write> Write for WatchedOut<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let result = self.inner.write(buf);
        self.watch(result)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let result = self.inner.flush();
        self.watch(result)
    }
}

pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub out_is_terminal: bool,
    pub err_is_terminal: bool,
}

/// Standard input can be read once: a second `-` would check an empty spec.
pub(crate) fn stdin_at_most_once(files: &[std::path::PathBuf], io: &mut Io) -> Result<(), u8> {
    if files.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        let _ = writeln!(
            io.err,
            "error: `-` (standard input) is given more than once; it can be read only once"
        );
        return Err(exit::USAGE);
    }
    Ok(())
}

/// Loads, validates and compiles every spec, reporting every problem of every file; the
/// worst exit code when any fails (nothing is produced for a fleet with an invalid member).
pub(crate) fn load_all_checked(
    files: &[std::path::PathBuf],
    io: &mut Io,
) -> Result<Vec<(crate::spec::load::ValidSpec, crate::plan::Plan)>, u8> {
    stdin_at_most_once(files, io)?;
    let mut checked = Vec::with_capacity(files.len());
    let mut worst = exit::OK;
    for path in files {
        match load_checked(path, io) {
            Ok(c) => checked.push(c),
            Err(code) => worst = worst.max(code),
        }
    }
    if worst != exit::OK {
        return Err(worst);
    }
    Ok(checked)
}

/// Reads, validates and compiles one spec; on failure prints why and returns the exit code
/// (1 for an invalid spec, 2 for an unreadable file).
pub(crate) fn load_checked(
    path: &std::path::Path,
    io: &mut Io,
) -> Result<(crate::spec::load::ValidSpec, crate::plan::Plan), u8> {
    use crate::diagnostics::report::{self, FileReport, Format};
    use crate::source::{Loaded, SourceFile};
    let (file, errors) = match SourceFile::read(path) {
        Ok(Loaded::Text(file)) => match crate::check(&file) {
            Ok(checked) => return Ok(checked),
            Err(errors) => (file, errors),
        },
        Ok(Loaded::Rejected(file, error)) => (file, vec![error]),
        Err(e) => {
            report_io(io, e);
            return Err(exit::USAGE);
        }
    };
    let color = report::color_enabled(io.err_is_terminal);
    let _ = report::print(
        &[FileReport { file, errors }],
        Format::Human,
        color,
        io.out,
        io.err,
    );
    Err(exit::INVALID)
}

/// Prints an I/O error as a diagnostic on stderr.
pub(crate) fn report_io(io: &mut Io, error: impl miette::Diagnostic + Send + Sync + 'static) {
    let theme = if crate::diagnostics::report::color_enabled(io.err_is_terminal) {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut text = String::new();
    let _ = handler.render_report(&mut text, &error);
    let _ = write!(io.err, "{text}");
}
