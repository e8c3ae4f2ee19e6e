//! Handlebars' errors, translated for the person who wrote the template: the file, the line
//! and column, what went wrong in our words, and for a missing variable the names the
//! template can use there.

use handlebars::{RenderError, RenderErrorReason, TemplateError, TemplateErrorReason};
use serde_json::Value;

use super::RenderFailure;

/// A template that does not parse.
pub fn syntax(name: &str, origin: &str, e: &TemplateError) -> RenderFailure {
    let what = match e.reason() {
        TemplateErrorReason::MismatchingClosedHelper(open, close) => {
            format!("block `{open}` is closed by `{close}`")
        }
        TemplateErrorReason::MismatchingClosedDecorator(open, close) => {
            format!("decorator `{open}` is closed by `{close}`")
        }
        // The parser's own message lists grammar rules, which help nobody.
        TemplateErrorReason::InvalidSyntax(_) => {
            "handlebars syntax error (an unclosed `{{`, a stray `}}` or a malformed expression)"
                .to_owned()
        }
        TemplateErrorReason::InvalidParam(p) => format!("invalid parameter `{p}`"),
        other => other.to_string(),
    };
    let at = e
        .pos()
        .map_or_else(String::new, |(line, column)| format!(":{line}:{column}"));
    RenderFailure::Template {
        name: name.to_owned(),
        message: format!("{origin}{at}: {what}"),
    }
}

/// A template that parsed but failed while rendering.
pub fn render(name: &str, origin: &str, e: &RenderError, context: &Value) -> RenderFailure {
    let what = match e.reason() {
        RenderErrorReason::MissingVariable(Some(path)) => format!(
            "no variable `{path}` here; the variables are {}",
            variables(context)
        ),
        RenderErrorReason::MissingVariable(None) => format!(
            "a variable is missing; the variables are {}",
            variables(context)
        ),
        RenderErrorReason::PartialNotFound(p) => format!("no partial `{p}`"),
        RenderErrorReason::HelperNotFound(h) => format!(
            "no helper `{h}`; the helpers are `json` (JSON and YAML templates, ARM included), \
             `expression` (ARM), `sh` (shell) and handlebars' built-ins"
        ),
        other => other.to_string(),
    };
    let at = match (e.line_no, e.column_no) {
        (Some(line), Some(column)) => format!(":{line}:{column}"),
        (Some(line), None) => format!(":{line}"),
        _ => String::new(),
    };
    RenderFailure::Template {
        name: name.to_owned(),
        message: format!("{origin}{at}: {what}"),
    }
}

/// The top-level names of the render context, with nested object keys one level down.
fn variables(context: &Value) -> String {
    let Value::Object(map) = context else {
        return "none".into();
    };
    let mut names = Vec::new();
    for (k, v) in map {
        match v {
            Value::Object(inner) if !inner.is_empty() && inner.len() <= 8 => {
                names.extend(inner.keys().map(|i| format!("`{k}.{i}`")));
            }
            _ => names.push(format!("`{k}`")),
        }
    }
    names.join(", ")
}
