//! Builds handlebars' `Template` from the static tree. Most of handlebars' template types have
//! public constructors; the two that do not are borrowed from handlebars itself: a position
//! (`TemplateMapping`) is cloned from a one-character template's and then set, and the few
//! paths whose segments only handlebars' grammar can mark are parsed by handlebars.

use std::collections::HashMap;
use std::sync::LazyLock;

use handlebars::template::{
    BlockParam as HbBlockParam, DecoratorTemplate, ExpressionSpec, ExpressionSpecBuilder,
    HelperTemplate, Parameter, TemplateElement, TemplateMapping,
};
use handlebars::{Path, PathSeg, Template};
use serde_json::Value;

use super::{BlockParam, Decorator, Helper, Kind, Param, Tree};

/// A position to clone: handlebars gives no way to make one outside a parse.
static POSITION: LazyLock<Option<TemplateMapping>> = LazyLock::new(|| {
    Template::compile("x")
        .ok()
        .and_then(|t| t.mapping.into_iter().next())
});

/// The tree as a handlebars template; `None` if any part cannot be made (the caller then
/// parses the text instead).
pub fn template(tree: &Tree) -> Option<Template> {
    let prototype = POSITION.as_ref()?;
    let mut out = Template::new();
    out.name = tree.name.map(str::to_owned);
    out.mapping = tree
        .at
        .iter()
        .map(|&(line, column)| {
            let mut at = prototype.clone();
            (at.0, at.1) = (line, column);
            at
        })
        .collect();
    out.elements = tree.elements.iter().map(element).collect::<Option<_>>()?;
    Some(out)
}

fn element(kind: &Kind) -> Option<TemplateElement> {
    Some(match kind {
        Kind::Raw(text) => TemplateElement::RawString((*text).to_owned()),
        Kind::Comment(text) => TemplateElement::Comment((*text).to_owned()),
        Kind::Expression(h) => TemplateElement::Expression(Box::new(helper(h)?)),
        Kind::HtmlExpression(h) => TemplateElement::HtmlExpression(Box::new(helper(h)?)),
        Kind::HelperBlock(h) => TemplateElement::HelperBlock(Box::new(helper(h)?)),
        Kind::DecoratorExpression(d) => TemplateElement::DecoratorExpression(decorator(d)?),
        Kind::DecoratorBlock(d) => TemplateElement::DecoratorBlock(decorator(d)?),
        Kind::PartialExpression(d) => TemplateElement::PartialExpression(decorator(d)?),
        Kind::PartialBlock(d) => TemplateElement::PartialBlock(decorator(d)?),
    })
}

/// A helper with everything public left to set: handlebars' constructor takes the private
/// `indent_before_write`, and going through its builder would copy every part once more.
static HELPERS: LazyLock<Option<[HelperTemplate; 2]>> = LazyLock::new(|| {
    let spec = empty_spec()?;
    Some([false, true].map(|indent| HelperTemplate::new(spec.clone(), false, indent)))
});

/// The same for decorators and partials.
static DECORATORS: LazyLock<Option<[DecoratorTemplate; 2]>> = LazyLock::new(|| {
    let spec = empty_spec()?;
    Some([false, true].map(|indent| DecoratorTemplate::new(spec.clone(), indent)))
});

fn empty_spec() -> Option<ExpressionSpec> {
    ExpressionSpecBuilder::default()
        .name(Parameter::Name(String::new()))
        .params(Vec::new())
        .hash(HashMap::new())
        // Whitespace control is applied to the raw text beside the tag; the helper itself
        // keeps no trace of it.
        .omit_pre_ws(false)
        .omit_pro_ws(false)
        .build()
        .ok()
}

fn helper(h: &Helper) -> Option<HelperTemplate> {
    let mut out = HELPERS.as_ref()?[usize::from(h.indent_before_write)].clone();
    out.name = param(&h.name)?;
    out.params = params(h.params)?;
    out.hash = hash(h.hash)?;
    out.block_param = match &h.block_param {
        None => None,
        Some(bp) => Some(block_param(bp)?),
    };
    out.template = nested(h.template)?;
    out.inverse = nested(h.inverse)?;
    out.block = h.block;
    out.chain = h.chain;
    Some(out)
}

fn decorator(d: &Decorator) -> Option<Box<DecoratorTemplate>> {
    let mut out = DECORATORS.as_ref()?[usize::from(d.indent_before_write)].clone();
    out.name = param(&d.name)?;
    out.params = params(d.params)?;
    out.hash = hash(d.hash)?;
    out.template = nested(d.template)?;
    out.indent = d.indent.map(str::to_owned);
    Some(Box::new(out))
}

/// A block's body or `else` part: `Some(None)` when there is none, `None` when it fails.
fn nested(tree: Option<&Tree>) -> Option<Option<Template>> {
    match tree {
        None => Some(None),
        Some(tree) => template(tree).map(Some),
    }
}

fn block_param(bp: &BlockParam) -> Option<HbBlockParam> {
    Some(match bp {
        BlockParam::Single(p) => HbBlockParam::Single(param(p)?),
        BlockParam::Pair(a, b) => HbBlockParam::Pair((param(a)?, param(b)?)),
    })
}

fn params(ps: &[Param]) -> Option<Vec<Parameter>> {
    ps.iter().map(param).collect()
}

fn hash(entries: &[(&str, Param)]) -> Option<HashMap<String, Parameter>> {
    entries
        .iter()
        .map(|(k, p)| Some(((*k).to_owned(), param(p)?)))
        .collect()
}

fn param(p: &Param) -> Option<Parameter> {
    Some(match p {
        Param::Name(n) => Parameter::Name((*n).to_owned()),
        Param::Path(segments, raw) => Parameter::Path(Path::Relative((
            segments
                .iter()
                .map(|s| PathSeg::Named((*s).to_owned()))
                .collect(),
            (*raw).to_owned(),
        ))),
        Param::Local(level, name, raw) => {
            Parameter::Path(Path::Local((*level, (*name).to_owned(), (*raw).to_owned())))
        }
        Param::Literal(json) => Parameter::Literal(serde_json::from_str::<Value>(json).ok()?),
        Param::Parsed(text) => Parameter::parse(text).ok()?,
    })
}
