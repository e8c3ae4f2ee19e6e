//! Builds the positioned [`Node`] tree from saphyr-parser's event stream.
//!
//! Why our own builder rather than a serde layer: we need every node's span, duplicate keys
//! as errors (serde paths keep the last silently), and hard limits on nesting and on alias
//! expansion, checked while events stream in so hostile input stops early.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Tag};

use super::node::{CoreTag, Entry, Kind, Node, Scalar, Span};
use crate::diagnostics::SpecError;
use crate::source::SourceFile;

/// Deeper than any spec needs, shallow enough that nothing downstream can overflow a stack.
pub const MAX_DEPTH: usize = 64;
/// Nodes after alias expansion: a real spec has a few hundred; a "billion laughs" has 10⁹.
pub const MAX_NODES: usize = 100_000;

/// The byte offset of the tab that a scanner error at `at` is about, when it is one in the
/// indentation of the line the error is on or the next one. The scanner reports such an error
/// where the token before it started (the end of the previous line), not at the tab.
fn indentation_tab(text: &str, at: usize) -> Option<usize> {
    let line_start = text.get(..at)?.rfind('\n').map_or(0, |i| i + 1);
    let mut start = line_start;
    for _ in 0..2 {
        let line = text.get(start..)?.split('\n').next()?;
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        if let Some(tab) = line[..indent].find('\t') {
            return Some(start + tab);
        }
        start += line.len() + 1;
    }
    None
}

/// Parses one YAML document. Returns the tree when the YAML itself is readable, and every
/// problem found on the way (duplicate keys do not stop the build; syntax errors do).
pub fn parse(file: &SourceFile) -> (Option<Node>, Vec<SpecError>) {
    let mut builder = Builder::new(file.text());
    for event in Parser::new_from_str(file.text()) {
        let flow = match event {
            Ok((event, span)) => {
                let span = builder.span(span.start.index(), span.end.index());
                builder.on_event(event, span)
            }
            Err(e) if e.info().contains("recursion limit") => {
                // The scanner's own guard on flow nesting (`[[[[…`): a limit, not a typo.
                let at = builder.offset(e.marker().index());
                builder.errors.push(SpecError::Limit {
                    message: "the YAML nests too deep".into(),
                    span: (at, 0).into(),
                    help: "an upgrade spec nests a few levels; check what generated this file"
                        .into(),
                });
                Flow::Stop
            }
            Err(e) => {
                let at = builder.offset(e.marker().index());
                let error = match indentation_tab(file.text(), at) {
                    Some(tab) => SpecError::Yaml {
                        message: "the YAML does not parse: a tab in indentation".into(),
                        span: (tab, 1).into(),
                        help: "YAML indents with spaces only; replace the tab (shown as \\t) \
                               with spaces"
                            .into(),
                    },
                    None => SpecError::Yaml {
                        message: format!("the YAML does not parse: {}", e.info()),
                        span: (at, 0).into(),
                        help: "fix the YAML syntax here (indentation, quotes, a missing `:`)"
                            .into(),
                    },
                };
                builder.errors.push(error);
                Flow::Stop
            }
        };
        if matches!(flow, Flow::Stop) {
            return (None, builder.errors);
        }
    }
    let root = builder.root.take();
    if root.is_none() && builder.errors.is_empty() {
        builder.errors.push(SpecError::InvalidValue {
            other: None,
            context: String::new(),
            reason: "the spec is empty: the file holds no YAML document".into(),
            span: (0, 0).into(),
            help: "an upgrade spec is a mapping that starts with `version: 1`".into(),
        });
    }
    (root, builder.errors)
}

enum Flow {
    Go,
    Stop,
}

enum Frame {
    Seq {
        start: usize,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        start: usize,
        anchor: usize,
        entries: Vec<Entry>,
        /// The key waiting for its value, and whether it was a plain `<<` (a merge key).
        key: Option<(String, Span, bool)>,
        seen: HashMap<String, Span>,
        /// Values of `<<` merge keys, applied when the mapping ends.
        merges: Vec<Node>,
    },
}

struct Builder<'a> {
    text: &'a str,
    /// saphyr reports positions in characters; miette and our spans use bytes.
    char_to_byte: Option<Vec<usize>>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    documents: usize,
    nodes: usize,
    errors: Vec<SpecError>,
}

impl<'a> Builder<'a> {
    fn new(text: &'a str) -> Self {
        let char_to_byte = (!text.is_ascii()).then(|| {
            text.char_indices()
                .map(|(i, _)| i)
                .chain(std::iter::once(text.len()))
                .collect()
        });
        Builder {
            text,
            char_to_byte,
            stack: Vec::new(),
            anchors: HashMap::new(),
            root: None,
            documents: 0,
            nodes: 0,
            errors: Vec::new(),
        }
    }

    fn offset(&self, char_index: usize) -> usize {
        match &self.char_to_byte {
            None => char_index.min(self.text.len()),
            Some(map) => map.get(char_index).copied().unwrap_or(self.text.len()),
        }
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.offset(start), self.offset(end))
    }

    fn on_event(&mut self, event: Event<'_>, span: Span) -> Flow {
        match event {
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => Flow::Go,
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    self.errors.push(SpecError::Yaml {
                        message: "the file holds more than one YAML document".into(),
                        span: span.into(),
                        help: "put one spec in each file; remove the second `---` document".into(),
                    });
                    return Flow::Stop;
                }
                Flow::Go
            }
            Event::Scalar(text, style, anchor, tag) => {
                let (plain, tag) = match tag_kind(tag.as_deref()) {
                    TagKind::None => (style == ScalarStyle::Plain, None),
                    TagKind::Str => (false, None),
                    TagKind::Core(core) => (style == ScalarStyle::Plain, Some(core)),
                    TagKind::Collection(name) | TagKind::Custom(name) => {
                        return self.unsupported_tag(&name, span);
                    }
                };
                let node = Node {
                    span,
                    kind: Kind::Scalar(Scalar {
                        text: text.into_owned(),
                        plain,
                        tag,
                    }),
                };
                self.complete(node, anchor)
            }
            Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                match tag_kind(tag.as_deref()) {
                    TagKind::None | TagKind::Collection(_) => {}
                    TagKind::Str | TagKind::Core(_) | TagKind::Custom(_) => {
                        let name = tag.as_deref().map(full_tag).unwrap_or_default();
                        return self.unsupported_tag(&name, span);
                    }
                }
                if self.stack.len() >= MAX_DEPTH {
                    self.errors.push(SpecError::Limit {
                        message: format!("the YAML nests deeper than {MAX_DEPTH} levels"),
                        span: span.into(),
                        help: "an upgrade spec nests a few levels; check what generated this file"
                            .into(),
                    });
                    return Flow::Stop;
                }
                let is_map = matches!(event, Event::MappingStart(..));
                self.stack.push(if is_map {
                    Frame::Map {
                        start: span.start,
                        anchor,
                        entries: Vec::new(),
                        key: None,
                        seen: HashMap::new(),
                        merges: Vec::new(),
                    }
                } else {
                    Frame::Seq {
                        start: span.start,
                        anchor,
                        items: Vec::new(),
                    }
                });
                Flow::Go
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Flow::Go;
                };
                let (start, anchor, kind, last_end) = match frame {
                    Frame::Seq {
                        start,
                        anchor,
                        items,
                    } => {
                        let last = items.last().map(|n| n.span.end);
                        (start, anchor, Kind::Seq(items), last)
                    }
                    Frame::Map {
                        start,
                        anchor,
                        mut entries,
                        merges,
                        ..
                    } => {
                        let last = entries.last().map(|e| e.value.span.end);
                        if let Err(err) = merge(&mut entries, merges) {
                            self.errors.push(err);
                            return Flow::Stop;
                        }
                        (start, anchor, Kind::Map(entries), last)
                    }
                };
                // Block collections end with an empty span wherever the next token is (maybe
                // lines later); flow collections end at their bracket. Take what is tighter.
                let end = if span.end > span.start {
                    span.end
                } else {
                    last_end.unwrap_or(span.end)
                };
                let node = Node {
                    span: Span::new(start, end),
                    kind,
                };
                self.complete(node, anchor)
            }
            Event::Alias(id) => {
                let Some(node) = self.anchors.get(&id) else {
                    self.errors.push(SpecError::Yaml {
                        message: "an alias refers to an unknown anchor".into(),
                        span: span.into(),
                        help: "define the anchor (`&name`) before its alias (`*name`)".into(),
                    });
                    return Flow::Stop;
                };
                let size = node.size();
                if self.nodes + size > MAX_NODES {
                    self.errors.push(SpecError::Limit {
                        message: format!(
                            "aliases expand the document past {MAX_NODES} nodes (an alias bomb?)"
                        ),
                        span: span.into(),
                        help: "an upgrade spec needs a few hundred nodes; use fewer or smaller \
                               aliases"
                            .into(),
                    });
                    return Flow::Stop;
                }
                // The alias stands where it is written, with the anchored content.
                let mut node = node.clone();
                node.span = span;
                self.nodes += size - 1;
                self.complete(node, 0)
            }
        }
    }

    fn unsupported_tag(&mut self, name: &str, span: Span) -> Flow {
        self.errors.push(SpecError::Yaml {
            message: format!("unsupported YAML tag `{}`", name.replace(CORE, "!!")),
            span: span.into(),
            help:
                "specs are plain YAML; tags such as CloudFormation's `!Ref` belong in templates, \
                   quote the value if it is text"
                    .into(),
        });
        Flow::Stop
    }

    /// Hands a finished node to its parent (or makes it the root).
    fn complete(&mut self, node: Node, anchor: usize) -> Flow {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            self.errors.push(SpecError::Limit {
                message: format!("the document has more than {MAX_NODES} nodes"),
                span: node.span.into(),
                help: "an upgrade spec needs a few hundred nodes".into(),
            });
            return Flow::Stop;
        }
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                key,
                seen,
                merges,
                ..
            }) => match key.take() {
                None => {
                    let Kind::Scalar(scalar) = node.kind else {
                        self.errors.push(SpecError::Yaml {
                            message: "a mapping key is not a plain string".into(),
                            span: node.span.into(),
                            help: "use plain text keys such as `region:`".into(),
                        });
                        return Flow::Stop;
                    };
                    let is_merge = scalar.plain && scalar.text == "<<";
                    *key = Some((scalar.text, node.span, is_merge));
                }
                Some((_, _, true)) => merges.push(node),
                Some((name, key_span, false)) => {
                    if let Some(first) = seen.get(&name) {
                        self.errors.push(SpecError::DuplicateKey {
                            help: format!(
                                "YAML keeps only one value per key; remove one of the `{name}` \
                                 entries"
                            ),
                            key: name,
                            span: key_span.into(),
                            first: (*first).into(),
                        });
                    } else {
                        seen.insert(name.clone(), key_span);
                        entries.push(Entry {
                            key: name,
                            key_span,
                            value: node,
                        });
                    }
                }
            },
        }
        Flow::Go
    }
}

/// Applies YAML merge keys (`<<: *defaults`, `<<: [*a, *b]`): keys written in the mapping win,
/// then earlier merged mappings over later ones.
fn merge(entries: &mut Vec<Entry>, merges: Vec<Node>) -> Result<(), SpecError> {
    for source in merges {
        let maps = match source.kind {
            Kind::Map(m) => vec![m],
            Kind::Seq(items) => items
                .into_iter()
                .map(|n| match n.kind {
                    Kind::Map(m) => Ok(m),
                    _ => Err(merge_error(n.span)),
                })
                .collect::<Result<Vec<_>, _>>()?,
            Kind::Scalar(_) => return Err(merge_error(source.span)),
        };
        for map in maps {
            for entry in map {
                if !entries.iter().any(|e| e.key == entry.key) {
                    entries.push(entry);
                }
            }
        }
    }
    Ok(())
}

fn merge_error(span: Span) -> SpecError {
    SpecError::Yaml {
        message: "a merge key `<<` takes a mapping or a list of mappings".into(),
        span: span.into(),
        help: "merge an anchored mapping, e.g. `<<: *defaults`".into(),
    }
}

enum TagKind {
    None,
    /// `!!str`, or the non-specific `!`: the scalar is a string whatever it looks like.
    Str,
    /// `!!null`, `!!bool`, `!!int`, `!!float`: the core type the scalar must have.
    Core(CoreTag),
    /// `!!map`, `!!seq`: fine on collections, wrong on scalars.
    Collection(String),
    Custom(String),
}

const CORE: &str = "tag:yaml.org,2002:";

/// The tag as written in full: `tag:yaml.org,2002:str`, `!`, `!Ref`.
fn full_tag(t: &Tag) -> String {
    format!("{}{}", t.handle, t.suffix)
}

fn tag_kind(tag: Option<&Tag>) -> TagKind {
    let Some(t) = tag else { return TagKind::None };
    let full = full_tag(t);
    match full.strip_prefix(CORE) {
        Some("str") => TagKind::Str,
        Some("null") => TagKind::Core(CoreTag::Null),
        Some("bool") => TagKind::Core(CoreTag::Bool),
        Some("int") => TagKind::Core(CoreTag::Int),
        Some("float") => TagKind::Core(CoreTag::Float),
        Some("map" | "seq") => TagKind::Collection(full),
        _ if full == "!" => TagKind::Str,
        _ => TagKind::Custom(full),
    }
}
