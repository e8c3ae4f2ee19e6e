//! Text that is safe to print to a terminal or a log.
//!
//! Spec text reaches our human-readable output (unknown keys, values, excerpts). A control
//! character in it could repaint the terminal (`ESC[2K`, `\r`) and hide the report, a newline
//! could forge extra `file:line:col:` lines, and a bidirectional override could make text read
//! differently from what it is. Such characters are shown as escapes (`\u{1b}`, `\n`);
//! machine-readable formats (JSON, SARIF) carry the exact text instead.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal as itself.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        // Bidirectional embeddings, overrides and isolates; marks that reorder text.
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
        // Line and paragraph separators break lines in some terminals and editors.
        || matches!(c, '\u{2028}' | '\u{2029}')
}

/// `s` with every unsafe character escaped, newlines and tabs included.
pub fn printable(s: &str) -> Cow<'_, str> {
    escape(s, |_| false)
}

/// `s` with every unsafe character escaped except newline, for multi-line text we composed
/// ourselves around spec values.
pub fn printable_lines(s: &str) -> Cow<'_, str> {
    escape(s, |c| c == '\n')
}

fn escape(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(|c| is_unsafe(c) && !keep(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !is_unsafe(c) || keep(c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            _ => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_could_repaint_or_forge_output() {
        assert_eq!(
            printable("\u{1b}[2K\rOK\nx.yaml:1:1: fine\u{202e}"),
            "\\u{1b}[2K\\rOK\\nx.yaml:1:1: fine\\u{202e}"
        );
        assert_eq!(printable("a\u{2028}b\u{85}"), "a\\u{2028}b\\u{85}");
        assert_eq!(printable_lines("a\nb\u{7}"), "a\nb\\u{7}");
    }

    #[test]
    fn ordinary_text_is_borrowed_untouched() {
        assert!(matches!(printable("ünïcødé `key` 日本"), Cow::Borrowed(_)));
    }
}
