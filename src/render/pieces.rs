//! Compiles a template in top-level pieces. Handlebars records every element's line and column
//! with pest's `Position::line_col`, which counts from the start of the text each time, so
//! compiling one template costs time quadratic in its length: half of a whole `render`
//! process went there. The text is cut at line ends where no block, comment or tag is open
//! and no `~` whitespace control reaches across; each piece compiles on its own to the
//! elements the whole would have, and they are joined into one template with their lines
//! shifted, so diagnostics name positions in the whole file. Anything the cutter is unsure of
//! compiles whole, and so does a piece that fails (the whole then reports the exact error).

use handlebars::Template;
use handlebars::TemplateError;
use handlebars::template::TemplateElement;

/// Tagged text is compiled in pieces of about this length: few compilations, each short.
const PIECE_BYTES: usize = 1024;

pub fn compile(text: &str, name: &str) -> Result<Template, TemplateError> {
    let whole = || Template::compile_with_name(text, name.to_owned());
    let Some(cuts) = cuts(text) else {
        return whole();
    };
    let mut joined = Template::compile_with_name("", name.to_owned())?;
    for piece in pieces(text, &cuts) {
        let Some(mut part) = piece.compile(text, name) else {
            return whole();
        };
        joined.elements.append(&mut part.elements);
        joined.mapping.append(&mut part.mapping);
    }
    Ok(joined)
}

/// A stretch of the text between two cuts: raw (no tag at all), or tagged.
struct Piece {
    start: usize,
    end: usize,
    /// Lines of the text before it.
    line: usize,
    raw: bool,
}

/// The segments between cuts, merged: neighbouring raw ones into one, neighbouring tagged ones
/// up to `PIECE_BYTES`.
fn pieces(text: &str, cuts: &[usize]) -> Vec<Piece> {
    let mut pieces: Vec<Piece> = Vec::new();
    let (mut start, mut line) = (0, 0);
    for end in cuts.iter().copied().chain(std::iter::once(text.len())) {
        if end <= start {
            continue;
        }
        let segment = &text[start..end];
        let raw = !segment.contains("{{");
        match pieces.last_mut() {
            Some(p) if p.raw == raw && (raw || p.end - p.start < PIECE_BYTES) => p.end = end,
            _ => pieces.push(Piece {
                start,
                end,
                line,
                raw,
            }),
        }
        line += segment.matches('\n').count();
        start = end;
    }
    pieces
}

impl Piece {
    /// The piece as a template of its own, with the whole text's line numbers; `None` when it
    /// does not compile alone.
    fn compile(&self, text: &str, name: &str) -> Option<Template> {
        let source = &text[self.start..self.end];
        let mut t = if self.raw {
            // Raw text is one raw string: nothing to parse. Handlebars' element types cannot
            // be built outside it, so a one-character template lends its element.
            let mut one = Template::compile_with_name("x", name.to_owned()).ok()?;
            match one.elements.first_mut() {
                Some(TemplateElement::RawString(s)) => *s = source.to_owned(),
                _ => return None,
            }
            one
        } else {
            Template::compile_with_name(source, name.to_owned()).ok()?
        };
        shift(&mut t, self.line);
        Some(t)
    }
}

/// Where to cut: byte offsets just after a newline. `None` when
/// the text uses what the cutter does not follow (raw blocks, escaped mustaches) or its
/// blocks do not balance.
fn cuts(text: &str) -> Option<Vec<usize>> {
    if text.contains("{{{{") || text.contains("\\{{") {
        return None;
    }
    let mut cuts = Vec::new();
    let mut depth: usize = 0;
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        if let Some(comment) = rest.strip_prefix("{{!--") {
            i += 5 + comment.find("--}}")? + 4;
        } else if rest.starts_with("{{") {
            let close = rest.find("}}")?;
            let tag = rest[2..close].trim_start_matches('~').trim_start();
            depth = match tag.as_bytes().first() {
                Some(b'!') => depth,
                Some(b'^') if tag[1..].trim_end_matches('~').trim().is_empty() => depth,
                Some(b'#' | b'^') => depth + 1,
                Some(b'/') => depth.checked_sub(1)?,
                _ => depth,
            };
            i += close + 2;
        } else if rest.starts_with('\n') {
            i += 1;
            if depth == 0 && i < text.len() && no_whitespace_control_across(text, i) {
                cuts.push(i);
            }
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    (depth == 0).then_some(cuts)
}

/// `~}}` strips the whitespace after it, `{{~` the whitespace before it, newlines included.
fn no_whitespace_control_across(text: &str, at: usize) -> bool {
    !text[..at].trim_end().ends_with("~}}") && !text[at..].trim_start().starts_with("{{~")
}

/// Moves every recorded line, nested blocks' included, down by `by`.
fn shift(t: &mut Template, by: usize) {
    for m in &mut t.mapping {
        m.0 += by;
    }
    for element in &mut t.elements {
        match element {
            TemplateElement::Expression(h) | TemplateElement::HelperBlock(h) => {
                for nested in h.template.iter_mut().chain(h.inverse.iter_mut()) {
                    shift(nested, by);
                }
            }
            TemplateElement::DecoratorExpression(d)
            | TemplateElement::DecoratorBlock(d)
            | TemplateElement::PartialExpression(d)
            | TemplateElement::PartialBlock(d) => {
                for nested in d.template.iter_mut() {
                    shift(nested, by);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(template: Template, context: &serde_json::Value) -> String {
        let mut h = handlebars::Handlebars::new();
        h.register_template("t", template);
        h.render("t", context).expect("renders")
    }

    #[test]
    fn pieces_render_as_the_whole_and_keep_whole_file_positions() {
        let mut text = String::new();
        for i in 0..200 {
            text.push_str(&format!(
                "line {i}: {{{{#each items}}}}\n  - {{{{this}}}}\n{{{{/each}}}}\nplain text\n  indented plain\n{{{{#if name}}}}\n  standalone\n{{{{/if}}}}\n    {{{{#if name}}}}\n    indented standalone\n    {{{{/if}}}}\n{{{{!-- a\n}}}} comment --}}}}\n"
            ));
        }
        text.push_str("end {{name}}\n");
        assert!(cuts(&text).is_some_and(|c| c.len() > 5));
        let context = serde_json::json!({ "items": ["a", "b"], "name": "x" });
        let whole = Template::compile_with_name(&text, "t".into()).expect("whole");
        let pieces = compile(&text, "t").expect("pieces");
        // A cut splits the text between two tags into two raw strings; every other element is
        // where the whole file has it.
        let tags = |t: &Template| -> Vec<(usize, usize)> {
            t.elements
                .iter()
                .zip(&t.mapping)
                .filter(|(e, _)| !matches!(e, TemplateElement::RawString(_)))
                .map(|(_, m)| (m.0, m.1))
                .collect()
        };
        assert_eq!(tags(&pieces), tags(&whole));
        assert_eq!(rendered(pieces, &context), rendered(whole, &context));
    }

    #[test]
    fn whitespace_control_and_raw_blocks_are_not_cut_across() {
        let long = "x".repeat(PIECE_BYTES);
        let tilde = format!("{long}\n\n{{{{~name}}}}\n");
        assert_eq!(cuts(&tilde), Some(vec![]), "no cut before `{{{{~`");
        let tilde = format!("{{{{name~}}}}\n\n{long}\n");
        assert_eq!(cuts(&tilde), Some(vec![]), "no cut after `~}}}}`");
        let raw = format!("{long}\n{{{{{{{{raw}}}}}}}}{{{{x}}}}{{{{{{{{/raw}}}}}}}}\n");
        assert_eq!(cuts(&raw), None);
        assert_eq!(cuts("{{/each}}\n"), None, "an unbalanced close");
    }
}
