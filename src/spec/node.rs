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
    /// Plain (unquoted, untagged-as-string) scalars are the only ones YAML's core schema
    /// resolves to null, booleans and numbers.
    pub plain: bool,
}

impl Scalar {
    pub fn is_null(&self) -> bool {
        self.plain && matches!(self.text.as_str(), "" | "~" | "null" | "Null" | "NULL")
    }

    pub fn as_bool(&self) -> Option<bool> {
        if !self.plain {
            return None;
        }
        match self.text.as_str() {
            "true" | "True" | "TRUE" => Some(true),
            "false" | "False" | "FALSE" => Some(false),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        if !self.plain {
            return None;
        }
        let t = self.text.strip_prefix('+').unwrap_or(&self.text);
        t.parse().ok()
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
            Kind::Scalar(s) if s.as_int().is_some() => "a number",
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
