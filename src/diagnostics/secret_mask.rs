//! Literal secrets are masked before a report shows its source excerpt.
//!
//! A spec that writes `password: hunter2` is refused (`spec::literal_secret`), but the human
//! report quotes source lines, and CI logs keep stderr: the value would leak through the very
//! diagnostic that refuses it, in its own excerpt or in any other diagnostic near that line.
//! Messages never quote a secret's value, so masking the excerpt source is enough.

use super::SpecError;
use crate::source::SourceFile;

/// `file` with the value of every literal secret among `errors` replaced by `*`, byte for
/// byte, so every span of every diagnostic still points at the same text.
pub fn mask_literal_secrets(file: &SourceFile, errors: &[SpecError]) -> Option<SourceFile> {
    let spans: Vec<(usize, usize)> = errors
        .iter()
        .filter_map(|e| match e {
            SpecError::LiteralSecret { span, .. } => Some((span.offset(), span.len())),
            _ => None,
        })
        .collect();
    if spans.is_empty() {
        return None;
    }
    let mut bytes = file.text().as_bytes().to_vec();
    for (start, len) in spans {
        let end = start.saturating_add(len).min(bytes.len());
        for b in bytes.get_mut(start..end).unwrap_or_default() {
            // Every byte, not every character: `*` is ASCII, so the text stays UTF-8 and keeps
            // its length.
            *b = b'*';
        }
    }
    let text = String::from_utf8(bytes).ok()?;
    Some(SourceFile::new(file.name().to_owned(), text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_literal_secret_is_masked_and_spans_still_fit() {
        let text = "password: hünter2\nname: x\n";
        let file = SourceFile::new("s.yaml", text);
        let start = text.find('h').unwrap_or(0);
        let err = SpecError::LiteralSecret {
            context: "password".into(),
            span: (start, "hünter2".len()).into(),
            help: String::new(),
        };
        let masked = mask_literal_secrets(&file, &[err]).expect("masked");
        assert_eq!(masked.text(), "password: ********\nname: x\n");
        assert_eq!(masked.text().len(), text.len());
    }
}
