//! A spec file's text, read with a size cap, and the byte-offset ⇄ line/column arithmetic
//! every diagnostic format needs.

use std::io::Read;
use std::path::Path;

use miette::{NamedSource, SourceSpan};

use crate::diagnostics::SpecError;

/// A spec never needs more than a few kilobytes; anything past this is refused before it is
/// parsed, so hostile input cannot make us allocate or scan without bound.
pub const MAX_SPEC_BYTES: u64 = 1024 * 1024;

/// One loaded spec file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    name: String,
    text: String,
    /// Byte offset at which each line starts (line 1 is index 0).
    line_starts: Vec<usize>,
}

/// Why a file could not be read at all (exit code 2), as opposed to a spec that is invalid.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ReadError {
    #[error("cannot read {path}: {source}")]
    #[diagnostic(code(io::read), help("check that the path exists and is readable"))]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// What reading produced: the text, or a spec-level diagnostic (too large, not text) that is
/// reported like any other invalid spec.
pub enum Loaded {
    Text(SourceFile),
    Rejected(SourceFile, SpecError),
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        // YAML breaks lines at LF, CRLF and a lone CR; so do our line numbers.
        let bytes = text.as_bytes();
        let line_starts = std::iter::once(0)
            .chain(bytes.iter().enumerate().filter_map(|(i, &b)| match b {
                b'\n' => Some(i + 1),
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => Some(i + 1),
                _ => None,
            }))
            .collect();
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// Reads `path` (or standard input for `-`) with the size cap applied while reading,
    /// so a 50 MB file costs one bounded read, not 50 MB of memory.
    pub fn read(path: &Path) -> Result<Loaded, ReadError> {
        let name = path.display().to_string();
        let io = |source| ReadError::Io {
            path: name.clone(),
            source,
        };
        let mut bytes = Vec::new();
        if name == "-" {
            std::io::stdin()
                .lock()
                .take(MAX_SPEC_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(io)?;
        } else {
            // Checked before opening: opening a FIFO blocks until a writer appears, and a
            // device could be read for ever. Only a regular file (or `-`) is a spec.
            let kind = std::fs::metadata(path).map_err(io)?.file_type();
            if !kind.is_file() {
                return Err(io(std::io::Error::other(format!(
                    "{} is not a regular file; pass a spec file, or `-` for standard input",
                    describe_kind(kind)
                ))));
            }
            let file = std::fs::File::open(path).map_err(io)?;
            file.take(MAX_SPEC_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(io)?;
        }
        Ok(Self::from_bytes(name, bytes))
    }

    /// Classifies raw bytes: oversized and non-text input become diagnostics with a position.
    pub fn from_bytes(name: String, bytes: Vec<u8>) -> Loaded {
        if bytes.len() as u64 > MAX_SPEC_BYTES {
            let file = SourceFile::new(name, "");
            let err = SpecError::Limit {
                message: format!(
                    "the file is larger than {} KiB; an upgrade spec is a few kilobytes",
                    MAX_SPEC_BYTES / 1024
                ),
                span: (0, 0).into(),
                help: "check that this is the spec you meant; cloverlift refuses larger files \
                       without reading them whole"
                    .into(),
            };
            return Loaded::Rejected(file, err);
        }
        match String::from_utf8(bytes) {
            Ok(text) => {
                let nul = text.find('\0');
                let file = SourceFile::new(name, text);
                match nul {
                    Some(at) => {
                        let err = not_text(at, "it contains a NUL byte");
                        Loaded::Rejected(file, err)
                    }
                    None => Loaded::Text(file),
                }
            }
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let bytes = e.into_bytes();
                // Keep the valid prefix so the diagnostic can point into it.
                let prefix = String::from_utf8_lossy(&bytes[..at]).into_owned();
                let file = SourceFile::new(name, prefix);
                Loaded::Rejected(file, not_text(at, "it is not valid UTF-8"))
            }
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// 1-based line and 1-based column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let mut start = self.line_starts[line];
        // A byte-order mark is not a column.
        if start == 0 && self.text.starts_with('\u{feff}') {
            start = '\u{feff}'.len_utf8().min(offset);
        }
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, column + 1)
    }

    /// The text as miette wants it, named after the file.
    pub fn named_source(&self) -> NamedSource<String> {
        NamedSource::new(self.name.clone(), self.text.clone()).with_language("yaml")
    }

    /// The end of the text, for diagnostics about something missing at the end.
    pub fn end_span(&self) -> SourceSpan {
        (self.text.len(), 0).into()
    }
}

/// What a non-regular file is, in the words `ls -l` users know.
fn describe_kind(kind: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "a device";
        }
    }
    if kind.is_dir() { "a directory" } else { "it" }
}

fn not_text(at: usize, why: &str) -> SpecError {
    SpecError::Yaml {
        message: format!("the file is not a YAML text: {why}"),
        span: (at, 0).into(),
        help: "an upgrade spec is a UTF-8 YAML file; is this a binary file?".into(),
    }
}
