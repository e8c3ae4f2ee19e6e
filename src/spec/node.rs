//! The YAML document as a tree that remembers where every node came from. Scalars keep their
//! source text; what type they are is decided later by the schema that reads them.

use miette::SourceSpan;

/// Byte range of a node in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start,
            end: end.max(start),
        }
    }
}

impl From<Span> for SourceSpan {
    fn from(s: Span) -> Self {
        (s.start, s.end - s.start).into()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub span: Span,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    pub text: String,
    /// Plain (unquoted, not tagged `!!str` or `!`) scalars are the only ones YAML's core
    /// schema resolves to null, booleans and numbers.
    pub plain: bool,
    /// A core-schema tag (`!!int`, `!!float`, `!!bool`, `!!null`) that fixes the type.
    pub tag: Option<CoreTag>,
}

/// The YAML 1.2 core-schema types a tag can name on a scalar (besides `!!str`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoreTag {
    Null,
    Bool,
    Int,
    Float,
}

impl Scalar {
    /// Whether the core schema may resolve this scalar as `tag`.
    fn may_be(&self, tag: CoreTag) -> bool {
        self.plain && self.tag.is_none_or(|t| t == tag)
    }

    pub fn is_null(&self) -> bool {
        self.may_be(CoreTag::Null)
            && matches!(self.text.as_str(), "" | "~" | "null" | "Null" | "NULL")
    }

    pub fn as_bool(&self) -> Option<bool> {
        if !self.may_be(CoreTag::Bool) {
            return None;
        }
        match self.text.as_str() {
            "true" | "True" | "TRUE" => Some(true),
            "false" | "False" | "FALSE" => Some(false),
            _ => None,
        }
    }

    /// Decimal, `0x` hexadecimal and `0o` octal integers, as the core schema reads them.
    pub fn as_int(&self) -> Option<i64> {
        if !self.may_be(CoreTag::Int) {
            return None;
        }
        let t = self.text.as_str();
        // from_str_radix takes a sign, which the core schema's `0x[0-9a-fA-F]+` and
        // `0o[0-7]+` do not: `0x+1` is a string there, not 1.
        if let Some(hex) = t.strip_prefix("0x") {
            let digits = !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
            return digits.then(|| i64::from_str_radix(hex, 16).ok()).flatten();
        }
        if let Some(oct) = t.strip_prefix("0o") {
            let digits = !oct.is_empty() && oct.bytes().all(|b| matches!(b, b'0'..=b'7'));
            return digits.then(|| i64::from_str_radix(oct, 8).ok()).flatten();
        }
        let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    }

    pub fn is_float(&self) -> bool {
        self.may_be(CoreTag::Float)
            && (matches!(
                self.text.as_str(),
                ".inf" | "-.inf" | "+.inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN"
            ) || (self.text.bytes().any(|b| b.is_ascii_digit())
                && self.text.parse::<f64>().is_ok()))
    }
}

impl Node {
    /// A short name for what this node is, for "expected X, found Y" messages.
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            Kind::Map(_) => "a mapping",
            Kind::Seq(_) => "a list",
            Kind::Scalar(s) if s.is_null() => "nothing (null)",
            Kind::Scalar(s) if s.as_bool().is_some() => "a boolean",
            Kind::Scalar(s) if s.as_int().is_some() || s.is_float() => "a number",
            Kind::Scalar(_) => "a string",
        }
    }

    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.kind {
            Kind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            Kind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.as_map()?.iter().find(|e| e.key == key)
    }

    /// Follows a path of mapping keys and list indices (as decimal strings).
    pub fn lookup(&self, path: &[&str]) -> Option<&Node> {
        let mut node = self;
        for seg in path {
            node = match &node.kind {
                Kind::Map(entries) => &entries.iter().find(|e| e.key == *seg)?.value,
                Kind::Seq(items) => items.get(seg.parse::<usize>().ok()?)?,
                Kind::Scalar(_) => return None,
            };
        }
        Some(node)
    }

    /// The span of the key that introduces `path`'s last segment, falling back to the node.
    pub fn key_span(&self, path: &[&str]) -> Option<Span> {
        let (last, parent) = path.split_last()?;
        let parent = self.lookup(parent)?;
        match parent.entry(last) {
            Some(e) => Some(e.key_span),
            None => self.lookup(path).map(|n| n.span),
        }
    }

    /// Nodes in this subtree, counted when anchors are expanded so aliases cannot multiply
    /// the document past a budget.
    pub fn size(&self) -> usize {
        match &self.kind {
            Kind::Scalar(_) => 1,
            Kind::Seq(items) => 1 + items.iter().map(Node::size).sum::<usize>(),
            Kind::Map(entries) => 1 + entries.iter().map(|e| 1 + e.value.size()).sum::<usize>(),
        }
    }
}
