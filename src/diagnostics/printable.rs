//! A diagnostic as the human report shows it: message, labels, help and the source excerpt
//! with every unsafe character escaped (see `crate::text`). Escaping lengthens the source, so
//! each label's span is moved to where its text now is.

use std::fmt;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode, SourceSpan};

use super::SpecError;
use crate::source::SourceFile;
use crate::text::{is_unsafe, printable};

pub struct Printable<'a> {
    inner: &'a SpecError,
    source: NamedSource<String>,
    /// Byte offsets in the original text where an escape starts, and the bytes it adds.
    shifts: Vec<(usize, usize)>,
}

impl<'a> Printable<'a> {
    pub fn new(file: &SourceFile, inner: &'a SpecError) -> Self {
        let text = file.text();
        let mut escaped = String::with_capacity(text.len());
        let mut shifts = Vec::new();
        for (at, c) in text.char_indices() {
            // Newlines lay the excerpt out. A tab is shown as `\t`: expanded to spaces, the
            // excerpt would hide the very character YAML refuses in indentation.
            if is_unsafe(c) && c != '\n' {
                let e = printable(c.encode_utf8(&mut [0; 4])).into_owned();
                shifts.push((at, e.len() - c.len_utf8()));
                escaped.push_str(&e);
            } else {
                escaped.push(c);
            }
        }
        let source = NamedSource::new(printable(file.name()), escaped).with_language("yaml");
        Printable {
            inner,
            source,
            shifts,
        }
    }

    fn moved(&self, span: SourceSpan) -> SourceSpan {
        let shift = |offset: usize| {
            offset
                + self
                    .shifts
                    .iter()
                    .take_while(|(at, _)| *at < offset)
                    .map(|(_, added)| added)
                    .sum::<usize>()
        };
        let start = shift(span.offset());
        let end = shift(span.offset() + span.len());
        (start, end - start).into()
    }
}

impl fmt::Debug for Printable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.inner, f)
    }
}

impl fmt::Display for Printable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&printable(&self.inner.to_string()))
    }
}

impl std::error::Error for Printable<'_> {}

impl Diagnostic for Printable<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.inner.code()
    }

    fn severity(&self) -> Option<miette::Severity> {
        self.inner.severity()
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.inner
            .help()
            .map(|h| Box::new(printable(&h.to_string()).into_owned()) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let labels: Vec<LabeledSpan> = self
            .inner
            .labels()?
            .map(|l| {
                let text = l.label().map(|t| printable(t).into_owned());
                let span = self.moved(*l.inner());
                if l.primary() {
                    LabeledSpan::new_primary_with_span(text, span)
                } else {
                    LabeledSpan::new_with_span(text, span)
                }
            })
            .collect();
        Some(Box::new(labels.into_iter()))
    }
}
