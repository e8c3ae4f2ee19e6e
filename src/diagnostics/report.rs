//! Printing diagnostics: graphical for people (coloured on a terminal, plain otherwise), one
//! line each (`short`), JSON lines as SPEC.md defines, and SARIF 2.1.0 for code scanning.

use std::io::{self, Write};

use miette::{GraphicalReportHandler, GraphicalTheme, Report};
use serde_json::json;

use super::{Located, SpecError, codes};
use crate::source::SourceFile;

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
    // A line too long to show would make the excerpt useless, and miette cannot lay out
    // columns past 65,535 (it panics): such a file gets the message and the position only.
    if file
        .text()
        .lines()
        .any(|l| l.chars().count() > EXCERPT_LINE_LIMIT)
    {
        let d = Located::new(file, err);
        // Writing into a String cannot fail.
        let _ = handler.render_report(&mut out, &err.clone());
        out.push_str(&format!(
            "  at {}:{}:{} (no excerpt: the file has lines over {EXCERPT_LINE_LIMIT} characters)\n",
            file.name(),
            d.line,
            d.column
        ));
        return out;
    }
    let report = Report::new(err.clone()).with_source_code(file.named_source());
    // Writing into a String cannot fail.
    let _ = handler.render_report(&mut out, report.as_ref());
    out
}

/// The longest line the human report shows in an excerpt.
const EXCERPT_LINE_LIMIT: usize = 2000;

pub fn render_short(file: &SourceFile, err: &SpecError) -> String {
    let d = Located::new(file, err);
    let mut line = format!(
        "{}:{}:{}: {}[{}]: {}",
        file.name(),
        d.line,
        d.column,
        d.severity,
        d.code,
        d.message
    );
    if !d.help.is_empty() {
        line.push_str(&format!(" (help: {})", d.help));
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
                for e in &r.errors {
                    write!(err, "{}", render_human(&r.file, e, color))?;
                    writeln!(err)?;
                }
                let n = r.errors.len();
                if n == 0 {
                    writeln!(err, "{}: valid", r.file.name())?;
                } else {
                    let s = if n == 1 { "" } else { "s" };
                    writeln!(err, "{}: {n} error{s}", r.file.name())?;
                }
            }
        }
        Format::Short => {
            for r in reports {
                for e in &r.errors {
                    writeln!(err, "{}", render_short(&r.file, e))?;
                }
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
