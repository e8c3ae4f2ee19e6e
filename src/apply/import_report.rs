//! What a CloverDX configuration import answers. The server validates an import before it
//! commits it and reports "added/updated items or errors"; one with errors "cannot be
//! committed until the error(s) are fixed", one with warnings "can be committed, but the
//! warning(s) should be resolved" ("Server configuration", admin/server-config). The Simple
//! HTTP API's twin "returns Result message or XML report" (`verbose=MESSAGE|FULL`,
//! operations/simple-http-api). Neither page shows the report's schema; the server's SOAP API
//! publishes its twin as `ImportServerConfigurationResult`, a `status` attribute of `SUCCESS`
//! or `FAILURE` around a free-form `report` (cloverdx/cloverdx-examples,
//! `BasicFeatures/meta/clover/webservice.xml`). So this reads both forms defensively: in an XML
//! answer a `status="FAILURE"` and every element whose name says error or warning count, with
//! its text and attributes; in a message, the documented wording of a refusal counts. An
//! answer this cannot read as a clean report is never taken for success by itself: the callers
//! read the configuration back.

use quick_xml::Reader;
use quick_xml::events::Event;

/// An import's report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

impl ImportReport {
    /// Why the server would not (or did not) commit the import, if it says so.
    pub fn refusal(&self) -> Option<String> {
        if self.errors.is_empty() {
            return None;
        }
        let shown: Vec<&str> = self.errors.iter().take(5).map(String::as_str).collect();
        let more = self.errors.len().saturating_sub(shown.len());
        Some(if more > 0 {
            format!("{} (and {more} more)", shown.join("; "))
        } else {
            shown.join("; ")
        })
    }
}

/// Phrases of a refusal in the server's message form ("The dry run ended with error(s): the
/// configuration cannot be committed", admin/server-config), lowercase.
const REFUSALS: [&str; 3] = ["ended with error", "cannot be committed", "import failed"];

/// The report in `body`, XML or a message.
pub fn read(body: &str) -> ImportReport {
    let trimmed = body.trim_start();
    if trimmed.starts_with('<')
        && let Some(report) = read_xml(trimmed)
    {
        return report;
    }
    read_message(body)
}

fn read_message(body: &str) -> ImportReport {
    let mut report = ImportReport::default();
    for line in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let lower = line.to_lowercase();
        if REFUSALS.iter().any(|r| lower.contains(r)) {
            report.errors.push(excerpt(line));
        } else if lower.starts_with("warning") {
            report.warnings.push(excerpt(line));
        }
    }
    report
}

/// Which list an element's local name puts its text in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Severity {
    Error,
    Warning,
}

fn severity(local_name: &[u8]) -> Option<Severity> {
    let name = String::from_utf8_lossy(local_name).to_lowercase();
    // `errorsList`/`warnings` wrappers hold the entries; an empty wrapper says nothing.
    if name.ends_with("list") || name.ends_with('s') {
        return None;
    }
    if name.contains("error") {
        Some(Severity::Error)
    } else if name.contains("warning") {
        Some(Severity::Warning)
    } else {
        None
    }
}

/// None when the body is not well-formed XML (then it is read as a message).
fn read_xml(body: &str) -> Option<ImportReport> {
    let mut reader = Reader::from_str(body);
    let mut report = ImportReport::default();
    // The open error or warning element: its severity, depth, and text so far.
    let mut open: Option<(Severity, usize, String)> = None;
    let mut depth = 0usize;
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => {
                depth += 1;
                failed(&e, &mut report);
                if open.is_none()
                    && let Some(sev) = severity(e.local_name().as_ref())
                {
                    open = Some((sev, depth, attributes(&e)));
                }
            }
            Event::Empty(e) => {
                failed(&e, &mut report);
                if open.is_none()
                    && let Some(sev) = severity(e.local_name().as_ref())
                {
                    push(&mut report, sev, attributes(&e));
                }
            }
            Event::Text(t) => {
                if let Some((_, _, text)) = &mut open {
                    let piece = t.decode().ok()?;
                    let piece = piece.trim();
                    if !piece.is_empty() {
                        if !text.is_empty() {
                            text.push(' ');
                        }
                        text.push_str(piece);
                    }
                }
            }
            Event::End(_) => {
                if let Some((sev, at, text)) = &open
                    && *at == depth
                {
                    push(&mut report, *sev, text.clone());
                    open = None;
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof => return Some(report),
            _ => {}
        }
    }
}

/// `status="FAILURE"` on an element: the import did not (or would not) commit.
fn failed(e: &quick_xml::events::BytesStart, report: &mut ImportReport) {
    let status = e
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == b"status")
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()));
    if status.is_some_and(|s| s.eq_ignore_ascii_case("FAILURE")) {
        report.errors.push(format!(
            "{} status=FAILURE",
            String::from_utf8_lossy(e.local_name().as_ref())
        ));
    }
}

fn attributes(e: &quick_xml::events::BytesStart) -> String {
    e.attributes()
        .flatten()
        .filter_map(|a| {
            let value = a.unescape_value().ok()?;
            Some(format!(
                "{}={value}",
                String::from_utf8_lossy(a.key.local_name().as_ref())
            ))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn push(report: &mut ImportReport, severity: Severity, text: String) {
    let text = if text.is_empty() {
        "(no detail)".to_owned()
    } else {
        excerpt(&text)
    };
    match severity {
        Severity::Error => report.errors.push(text),
        Severity::Warning => report.warnings.push(text),
    }
}

fn excerpt(text: &str) -> String {
    let mut out: String = text.chars().take(300).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_report_or_message_refuses_nothing() {
        assert_eq!(read("<importResult/>").refusal(), None);
        assert_eq!(
            read("<importResult><errors/><warnings/></importResult>").refusal(),
            None
        );
        assert_eq!(
            read("The dry run ended successfully: the configuration can be committed").refusal(),
            None
        );
        assert_eq!(read("").refusal(), None);
    }

    #[test]
    fn errors_in_a_report_or_a_message_refuse_with_their_text() {
        let xml = r#"<importResult><errors><error item="schedule" key="Nightly load">owner user etl does not exist</error></errors><warnings><warning>sandbox missing</warning></warnings></importResult>"#;
        let r = read(xml);
        assert_eq!(
            r.errors,
            ["item=schedule key=Nightly load owner user etl does not exist"]
        );
        assert_eq!(r.warnings, ["sandbox missing"]);
        assert!(
            r.refusal()
                .is_some_and(|t| t.contains("etl does not exist"))
        );
        let soap = read(
            r#"<importServerConfigurationResult status="FAILURE"><report>bad</report></importServerConfigurationResult>"#,
        );
        assert!(soap.refusal().is_some());
        assert_eq!(
            read(r#"<importServerConfigurationResult status="SUCCESS"/>"#).refusal(),
            None
        );
        let msg = read(
            "The dry run ended with error(s): the configuration cannot be committed until the error(s) are fixed",
        );
        assert!(msg.refusal().is_some());
    }

    #[test]
    fn malformed_xml_is_read_as_a_message() {
        assert!(
            read("<html>Import failed: bad file</html")
                .refusal()
                .is_some()
        );
    }
}
