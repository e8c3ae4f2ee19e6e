//! Checks a parsed template for output that bypasses escaping.
//!
//! Handlebars writes `{{{v}}}`, `{{& v}}` and their whitespace-control variants (`{{~{v}~}}`)
//! without the escape function, so a spec value would land raw in JSON or shell. They all
//! parse to the same element, so the check walks the parsed template, not its text, and no
//! spelling of it slips through.

use handlebars::Template;
use handlebars::template::TemplateElement;

/// The 1-based line and column of the first unescaped output in `t`, if any.
pub fn first_unescaped(t: &Template) -> Option<(usize, usize)> {
    for (i, element) in t.elements.iter().enumerate() {
        let position = || t.mapping.get(i).map_or((0, 0), |m| (m.0, m.1));
        let nested: Vec<&Template> = match element {
            TemplateElement::HtmlExpression(_) => return Some(position()),
            TemplateElement::Expression(h) | TemplateElement::HelperBlock(h) => {
                h.template.iter().chain(h.inverse.iter()).collect()
            }
            TemplateElement::DecoratorExpression(d)
            | TemplateElement::DecoratorBlock(d)
            | TemplateElement::PartialExpression(d)
            | TemplateElement::PartialBlock(d) => d.template.iter().collect(),
            TemplateElement::RawString(_) | TemplateElement::Comment(_) => Vec::new(),
            // An element kind this audit does not know could write raw output: refuse it.
            _ => return Some(position()),
        };
        if let Some(found) = nested.into_iter().find_map(first_unescaped) {
            return Some(found);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audit(source: &str) -> Option<(usize, usize)> {
        first_unescaped(&Template::compile(source).expect("parses"))
    }

    #[test]
    fn every_unescaped_spelling_is_found() {
        for source in [
            "{{{v}}}",
            "{{& v}}",
            "{{~{v}~}}",
            "{{~& v~}}",
            "a\n{{#if x}}{{else}}{{{v}}}{{/if}}",
            "{{#each xs}}{{#with this}}{{& v}}{{/with}}{{/each}}",
            "{{#*inline \"p\"}}{{{v}}}{{/inline}}",
            "{{#> p}}{{{v}}}{{/p}}",
        ] {
            assert!(audit(source).is_some(), "{source} passed the audit");
        }
    }

    #[test]
    fn escaped_output_and_raw_text_pass() {
        for source in [
            "{{v}}",
            "{{json v}}",
            "{{#if x}}{{v}}{{/if}}",
            "{{!-- {{{v}}} --}}",
            "{ \"a\": 1 }",
        ] {
            assert_eq!(audit(source), None, "{source}");
        }
    }

    #[test]
    fn the_position_is_the_line_and_column_of_the_element() {
        assert_eq!(audit("{\n  \"a\": {{{v}}}\n}"), Some((2, 8)));
    }
}
