//! Printing diagnostics: graphical for people (coloured on a terminal, plain otherwise), one
//! line each (`short`), JSON lines as SPEC.md defines, and SARIF 2.1.0 for code scanning.

use std::io::{self, Write};

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme};
use serde_json::json;

use super::printable::Printable;
use super::{Located, SpecError, codes};
use crate::source::SourceFile;
use crate::text::printable;

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// miette's graphical report, with the YAML excerpt.
    Human,
    /// `file:line:column: severity[code]: message`, one line each.
    Short,
    /// One JSON object per file, on one line of stdout.
    Json,
    /// One SARIF 2.1.0 log for all files, on stdout.
    Sarif,
}

/// The outcome of checking one file.
pub struct FileReport {
    pub file: SourceFile,
    pub errors: Vec<SpecError>,
}

/// Whether graphical output may use colour: a terminal, and `NO_COLOR` unset.
pub fn color_enabled(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Renders one diagnostic graphically. Without colour it is plain text that logs keep
/// readable; the width is fixed so output does not depend on the terminal.
pub fn render_human(file: &SourceFile, err: &SpecError, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    let shown = Printable::new(file, err);
    // A line too long to show would make the excerpt useless, and miette cannot lay out
    // columns past 65,535 (it panics): such a file gets the message and the position only.
    if file
        .text()
        .lines()
        .any(|l| l.chars().count() > EXCERPT_LINE_LIMIT)
    {
        let d = Located::new(file, err);
        // Writing into a String cannot fail.
        let _ = handler.render_report(&mut out, &NoExcerpt(&shown));
        out.push_str(&format!(
            "  at {}:{}:{} (no excerpt: the file has lines over {EXCERPT_LINE_LIMIT} characters)\n",
            printable(file.name()),
            d.line,
            d.column
        ));
        return out;
    }
    // Writing into a String cannot fail.
    let _ = handler.render_report(&mut out, &shown);
    out
}

/// A diagnostic without its source excerpt (and so without labels, which need one).
struct NoExcerpt<'a>(&'a dyn Diagnostic);

impl std::fmt::Debug for NoExcerpt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.0, f)
    }
}

impl std::fmt::Display for NoExcerpt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self.0, f)
    }
}

impl std::error::Error for NoExcerpt<'_> {}

impl Diagnostic for NoExcerpt<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.0.code()
    }

    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.0.help()
    }
}

/// The longest line the human report shows in an excerpt.
const EXCERPT_LINE_LIMIT: usize = 2000;

pub fn render_short(file: &SourceFile, err: &SpecError) -> String {
    let d = Located::new(file, err);
    // One diagnostic, one line: nothing in a message may break it or forge another.
    let mut line = format!(
        "{}:{}:{}: {}[{}]: {}",
        printable(file.name()),
        d.line,
        d.column,
        d.severity,
        d.code,
        printable(&d.message)
    );
    if !d.help.is_empty() {
        line.push_str(&format!(" (help: {})", printable(&d.help)));
    }
    line
}

/// SPEC.md's JSON line for one file.
pub fn json_line(report: &FileReport) -> String {
    let diagnostics: Vec<Located> = report
        .errors
        .iter()
        .map(|e| Located::new(&report.file, e))
        .collect();
    json!({
        "file": report.file.name(),
        "valid": report.errors.is_empty(),
        "diagnostics": diagnostics,
    })
    .to_string()
}

/// One SARIF 2.1.0 log with a run whose results cover every file.
pub fn sarif(reports: &[FileReport]) -> serde_json::Value {
    let rules: Vec<serde_json::Value> = codes::CODES
        .iter()
        .map(|c| {
            json!({
                "id": c.code,
                "shortDescription": { "text": c.summary },
                "fullDescription": { "text": c.explanation },
                "defaultConfiguration": { "level": "error" },
            })
        })
        .collect();
    let mut results = Vec::new();
    for report in reports {
        for err in &report.errors {
            let d = Located::new(&report.file, err);
            let rule_index = codes::CODES.iter().position(|c| c.code == d.code);
            let text = if d.help.is_empty() {
                d.message.clone()
            } else {
                format!("{} (help: {})", d.message, d.help)
            };
            let mut result = json!({
                "ruleId": d.code,
                "level": "error",
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": sarif_uri(report.file.name()) },
                        "region": {
                            "startLine": d.line,
                            "startColumn": d.column,
                            "endLine": d.end_line,
                            "endColumn": d.end_column,
                        }
                    }
                }],
            });
            if let (Some(i), Some(obj)) = (rule_index, result.as_object_mut()) {
                obj.insert("ruleIndex".into(), i.into());
            }
            results.push(result);
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "cloverlift",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

/// SARIF wants URIs: relative paths with `/`, spaces and the like percent-encoded.
fn sarif_uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let path = path.strip_prefix("./").unwrap_or(&path);
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The most diagnostics the human and short formats print per file. A crafted spec can hold
/// tens of thousands of errors; after the first hundred a reader learns nothing new, and the
/// JSON and SARIF formats still carry every one.
pub const SHOWN_PER_FILE: usize = 100;

/// "… and N more" after a capped list.
fn more_line(err: &mut dyn Write, r: &FileReport, prefix: &str) -> io::Result<()> {
    let hidden = r.errors.len().saturating_sub(SHOWN_PER_FILE);
    if hidden == 0 {
        return Ok(());
    }
    let name = printable(r.file.name());
    let lead = if prefix.is_empty() {
        String::new()
    } else {
        format!("{name}{prefix}")
    };
    writeln!(
        err,
        "{lead}{hidden} more diagnostic{} not shown; `--format json` or `--format sarif` lists them all",
        if hidden == 1 { "" } else { "s" }
    )
}

/// Prints all reports in `format`; human and short go to `err`, JSON and SARIF to `out`.
pub fn print(
    reports: &[FileReport],
    format: Format,
    color: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => {
            for r in reports {
                let name = printable(r.file.name());
                let masked = super::secret_mask::mask_literal_secrets(&r.file, &r.errors);
                let shown = masked.as_ref().unwrap_or(&r.file);
                for e in r.errors.iter().take(SHOWN_PER_FILE) {
                    write!(err, "{}", render_human(shown, e, color))?;
                    writeln!(err)?;
                }
                more_line(err, r, "")?;
                let n = r.errors.len();
                if n == 0 {
                    writeln!(err, "{name}: valid")?;
                } else {
                    let s = if n == 1 { "" } else { "s" };
                    writeln!(err, "{name}: {n} error{s}")?;
                }
            }
        }
        Format::Short => {
            for r in reports {
                for e in r.errors.iter().take(SHOWN_PER_FILE) {
                    writeln!(err, "{}", render_short(&r.file, e))?;
                }
                more_line(err, r, ": note: ")?;
            }
        }
        Format::Json => {
            for r in reports {
                writeln!(out, "{}", json_line(r))?;
            }
        }
        Format::Sarif => {
            let log = serde_json::to_string_pretty(&sarif(reports))
                .map_err(|e| io::Error::other(e.to_string()))?;
            writeln!(out, "{log}")?;
        }
    }
    Ok(())
}
