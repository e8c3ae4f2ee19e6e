//! EC2's answers as a tree of elements. The Query protocol's responses are small, namespaced
//! documents whose lists are `<xxxSet><item>…</item></xxxSet>`; a tree read once and walked by
//! local name is all the operations need, and keeps each one's parsing a few readable lines.

use quick_xml::Reader;
use quick_xml::events::Event;

/// One element: its local name (namespace prefix dropped), its text and its children.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub text: String,
    pub children: Vec<Node>,
}

/// How deep a document may nest: EC2's deepest answer (security group rules) is under ten;
/// the limit keeps a hostile answer from growing the stack without bound.
const MAX_DEPTH: usize = 64;

/// A finished element joins its parent; without one it is the root, given back.
fn close(stack: &mut [Node], node: Node) -> Option<Node> {
    match stack.last_mut() {
        Some(parent) => {
            parent.children.push(node);
            None
        }
        None => Some(node),
    }
}

/// Text (or a reference's character) belongs to the element open around it.
fn append(stack: &mut [Node], text: &str) {
    if let Some(node) = stack.last_mut() {
        node.text.push_str(text);
    }
}

impl Node {
    /// Reads a whole document; gives its root element.
    pub fn parse(text: &str) -> Result<Node, String> {
        let mut reader = Reader::from_str(text);
        let mut stack: Vec<Node> = Vec::new();
        loop {
            let event = reader
                .read_event()
                .map_err(|e| format!("malformed XML at byte {}: {e}", reader.buffer_position()))?;
            match event {
                Event::Start(e) => {
                    if stack.len() >= MAX_DEPTH {
                        return Err("XML nested too deeply".into());
                    }
                    stack.push(Node::named(e.local_name().as_ref()));
                }
                Event::Empty(e) => {
                    if let Some(root) = close(&mut stack, Node::named(e.local_name().as_ref())) {
                        return Ok(root);
                    }
                }
                Event::End(_) => {
                    let node = stack.pop().ok_or("XML closes an element it never opened")?;
                    if let Some(root) = close(&mut stack, node) {
                        return Ok(root);
                    }
                }
                Event::Text(t) => append(&mut stack, &t.decode().map_err(|e| e.to_string())?),
                Event::CData(t) => append(&mut stack, &t.decode().map_err(|e| e.to_string())?),
                Event::GeneralRef(r) => {
                    append(&mut stack, &crate::apply::xml_reference::resolve(&r)?);
                }
                Event::Eof => return Err("XML ends before its root element closes".into()),
                _ => {}
            }
        }
    }

    fn named(name: &[u8]) -> Node {
        Node {
            name: String::from_utf8_lossy(name).into_owned(),
            ..Node::default()
        }
    }

    /// The first child called `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The text of the first child called `name`, if it has any.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name)
            .map(|c| c.text.trim())
            .filter(|t| !t.is_empty())
    }

    /// The `<item>`s of the list element `name` (`<groupSet><item>…`); none when it is absent.
    pub fn items<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Node> + 'a {
        self.child(name)
            .into_iter()
            .flat_map(|list| list.children.iter().filter(|c| c.name == "item"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_texts_and_entities_read_by_local_name() {
        let doc = Node::parse(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>7a62c49f</requestId>
  <vpcSet>
    <item><vpcId>vpc-1</vpcId><cidrBlock>10.0.0.0/16</cidrBlock><tagSet/></item>
    <item><vpcId>vpc-2</vpcId><description>R&amp;D &#38; ops</description></item>
  </vpcSet>
</DescribeVpcsResponse>"#,
        )
        .expect("parses");
        assert_eq!(doc.name, "DescribeVpcsResponse");
        let vpcs: Vec<&Node> = doc.items("vpcSet").collect();
        assert_eq!(vpcs.len(), 2);
        assert_eq!(vpcs[0].text_of("cidrBlock"), Some("10.0.0.0/16"));
        assert_eq!(vpcs[0].text_of("tagSet"), None);
        assert_eq!(vpcs[1].text_of("description"), Some("R&D & ops"));
        assert_eq!(doc.items("subnetSet").count(), 0);
    }

    #[test]
    fn truncated_or_hostile_documents_are_errors() {
        assert!(Node::parse("<a><b>").is_err());
        assert!(Node::parse("").is_err());
        assert!(Node::parse(&"<a>".repeat(100)).is_err());
        assert!(Node::parse("<a>&bogus;</a>").is_err());
    }
}
