//! The CloverDX Server configuration XML (`server/configuration/export`): finding the schedules
//! and event listeners in it, and rewriting their `enabled` attributes. Schedules are matched
//! by their description and listeners by their name, as the server's own import matches them.

use std::collections::BTreeSet;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, Writer};

/// One schedule or event listener of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub kind: Kind,
    pub identity: String,
    pub enabled: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Schedule,
    Listener,
}

impl Kind {
    fn of(local_name: &[u8]) -> Option<Kind> {
        match local_name {
            b"schedule" => Some(Kind::Schedule),
            b"eventListener" => Some(Kind::Listener),
            _ => None,
        }
    }

    /// The child element whose text identifies an item of this kind.
    fn identity_element(self) -> &'static [u8] {
        match self {
            Kind::Schedule => b"description",
            Kind::Listener => b"name",
        }
    }
}

/// The `cloverVersion` attribute of the export's root element (`5.4.0.546` in CloverDX's example
/// exports, cloverdx-server-docker `examples/*/conf/*.xml`), if it has one.
pub fn clover_version(xml: &str) -> Result<Option<String>, String> {
    let mut reader = Reader::from_str(xml);
    loop {
        match reader
            .read_event()
            .map_err(|e| format!("configuration XML: {e}"))?
        {
            Event::Start(e) | Event::Empty(e) => {
                let attr = e
                    .try_get_attribute("cloverVersion")
                    .map_err(|e| format!("configuration XML: {e}"))?;
                return match attr {
                    Some(a) => a
                        .unescape_value()
                        .map(|v| Some(v.into_owned()))
                        .map_err(|e| format!("configuration XML: {e}")),
                    None => Ok(None),
                };
            }
            Event::Eof => return Ok(None),
            _ => {}
        }
    }
}

/// Whether a `cloverVersion` (`7.0.1.27`, or `7.0.1`) is the release `version` (`7.0.1`).
pub fn is_release(clover_version: &str, version: &str) -> bool {
    clover_version == version
        || clover_version
            .strip_prefix(version)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('-'))
}

/// Every schedule and listener in document order.
pub fn items(xml: &str) -> Result<Vec<Item>, String> {
    let mut reader = Reader::from_str(xml);
    let mut out = Vec::new();
    // (kind, enabled, depth of the item element, identity so far)
    let mut current: Option<(Kind, bool, usize, Option<String>)> = None;
    let mut depth = 0usize;
    let mut in_identity = false;
    loop {
        match reader
            .read_event()
            .map_err(|e| format!("configuration XML: {e}"))?
        {
            Event::Start(e) => {
                depth += 1;
                if current.is_some() && Kind::of(e.local_name().as_ref()).is_some() {
                    return Err(nested_item());
                }
                if current.is_none() {
                    if let Some(kind) = Kind::of(e.local_name().as_ref()) {
                        current = Some((kind, enabled_attr(&e)?, depth, None));
                    }
                } else if let Some((kind, _, item_depth, _)) = &current {
                    in_identity = depth == item_depth + 1
                        && e.local_name().as_ref() == kind.identity_element();
                }
            }
            Event::Empty(e) => {
                if current.is_some() && Kind::of(e.local_name().as_ref()).is_some() {
                    return Err(nested_item());
                }
                if current.is_none()
                    && let Some(kind) = Kind::of(e.local_name().as_ref())
                {
                    out.push(Item {
                        kind,
                        identity: String::new(),
                        enabled: enabled_attr(&e)?,
                    });
                }
            }
            Event::Text(t) if in_identity => {
                let text = t.decode().map_err(|e| e.to_string())?;
                if let Some((_, _, _, identity)) = &mut current {
                    identity.get_or_insert_with(String::new).push_str(&text);
                }
            }
            Event::GeneralRef(r) if in_identity => {
                let resolved = super::xml_reference::resolve(&r)?;
                if let Some((_, _, _, identity)) = &mut current {
                    identity.get_or_insert_with(String::new).push_str(&resolved);
                }
            }
            Event::End(_) => {
                in_identity = false;
                if let Some((kind, enabled, item_depth, identity)) = current.take() {
                    if depth == item_depth {
                        out.push(Item {
                            kind,
                            identity: identity.unwrap_or_default().trim().to_owned(),
                            enabled,
                        });
                    } else {
                        current = Some((kind, enabled, item_depth, identity));
                    }
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// The server exports each schedule and listener at one level; one inside another means the
/// document is not an export (found by fuzzing: the rewrites then disagreed on what an item is).
fn nested_item() -> String {
    "configuration XML: a schedule or listener inside another one; this is not a server export"
        .to_owned()
}

/// Pause matches items by identity (schedules by description, listeners by name), as the
/// server's import does; an empty or repeated identity would make it switch the wrong items.
pub fn check_identities(xml: &str) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    for item in items(xml)? {
        let what = match item.kind {
            Kind::Schedule => "schedule description",
            Kind::Listener => "event listener name",
        };
        if item.identity.is_empty() {
            return Err(format!(
                "a {what} is empty; the server's import could not tell it apart, so pause changes nothing"
            ));
        }
        if !seen.insert((item.kind, item.identity.clone())) {
            return Err(format!(
                "the {what} `{}` is used twice; the server's import could not tell them apart, so pause changes nothing",
                item.identity
            ));
        }
    }
    Ok(())
}

fn enabled_attr(e: &BytesStart) -> Result<bool, String> {
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        if a.key.local_name().as_ref() == b"enabled" {
            return Ok(a.value.as_ref() == b"true");
        }
    }
    // The server's schema defaults `enabled` to true.
    Ok(true)
}

/// The same XML with `enabled` set to `enabled` on every item whose `(kind, identity)` is in
/// `targets`, and nothing else changed.
pub fn set_enabled(
    xml: &str,
    targets: &BTreeSet<(Kind, String)>,
    enabled: bool,
) -> Result<String, String> {
    let order = items(xml)?;
    let mut reader = Reader::from_str(xml);
    let mut writer = Writer::new(Vec::new());
    let mut index = 0usize;
    let mut depth = 0usize;
    let mut item_depth: Option<usize> = None;
    let value = if enabled { "true" } else { "false" };
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("configuration XML: {e}"))?;
        let event = match event {
            Event::Start(e) => {
                depth += 1;
                if item_depth.is_none() && Kind::of(e.local_name().as_ref()).is_some() {
                    item_depth = Some(depth);
                    let item = order.get(index);
                    index += 1;
                    match item {
                        Some(i) if targets.contains(&(i.kind, i.identity.clone())) => {
                            Event::Start(with_enabled(&e, value)?)
                        }
                        _ => Event::Start(e),
                    }
                } else {
                    Event::Start(e)
                }
            }
            // `<schedule …/>` is an item too (items() lists it): it is switched like any other,
            // or the rewrite would leave a targeted item as it was (found by fuzzing).
            Event::Empty(e) => {
                if item_depth.is_none() && Kind::of(e.local_name().as_ref()).is_some() {
                    let item = order.get(index);
                    index += 1;
                    match item {
                        Some(i) if targets.contains(&(i.kind, i.identity.clone())) => {
                            Event::Empty(with_enabled(&e, value)?)
                        }
                        _ => Event::Empty(e),
                    }
                } else {
                    Event::Empty(e)
                }
            }
            Event::End(e) => {
                if item_depth == Some(depth) {
                    item_depth = None;
                }
                depth = depth.saturating_sub(1);
                Event::End(e)
            }
            Event::Eof => break,
            other => other,
        };
        writer.write_event(event).map_err(|e| e.to_string())?;
    }
    String::from_utf8(writer.into_inner()).map_err(|e| e.to_string())
}

/// The configuration with only the items in `targets` (and everything outside the schedule
/// and listener lists), so an import touches nothing else: an edit made on the server between
/// export and import survives.
pub fn subset(xml: &str, targets: &BTreeSet<(Kind, String)>) -> Result<String, String> {
    let order = items(xml)?;
    let mut reader = Reader::from_str(xml);
    let mut writer = Writer::new(Vec::new());
    let mut index = 0usize;
    // While inside an item that is left out: the depth of its start tag.
    let mut skipping: Option<usize> = None;
    let mut depth = 0usize;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("configuration XML: {e}"))?;
        match &event {
            Event::Eof => break,
            Event::Start(e) => {
                depth += 1;
                if skipping.is_none() && Kind::of(e.local_name().as_ref()).is_some() {
                    let keep = order
                        .get(index)
                        .is_some_and(|i| targets.contains(&(i.kind, i.identity.clone())));
                    index += 1;
                    if !keep {
                        skipping = Some(depth);
                        continue;
                    }
                }
            }
            Event::Empty(e)
                if skipping.is_none() && Kind::of(e.local_name().as_ref()).is_some() =>
            {
                index += 1;
                continue;
            }
            Event::End(_) => {
                let closing = depth;
                depth = depth.saturating_sub(1);
                if skipping == Some(closing) {
                    skipping = None;
                    continue;
                }
            }
            _ => {}
        }
        if skipping.is_none() {
            writer.write_event(event).map_err(|e| e.to_string())?;
        }
    }
    String::from_utf8(writer.into_inner()).map_err(|e| e.to_string())
}

fn with_enabled(e: &BytesStart, value: &str) -> Result<BytesStart<'static>, String> {
    let name = String::from_utf8(e.name().as_ref().to_vec()).map_err(|e| e.to_string())?;
    let mut out = BytesStart::new(name);
    let mut seen = false;
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        if a.key.local_name().as_ref() == b"enabled" {
            out.push_attribute((a.key.as_ref(), value.as_bytes()));
            seen = true;
        } else {
            out.push_attribute(a);
        }
    }
    if !seen {
        out.push_attribute(("enabled", value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<cs:cloverServerConfiguration xmlns:cs="http://cloveretl.com/server/data" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <cs:schedulesList>
    <cs:schedule enabled="true"><cs:description>Nightly load &amp; merge</cs:description></cs:schedule>
    <cs:schedule enabled="false"><cs:description>Old report</cs:description></cs:schedule>
  </cs:schedulesList>
  <cs:eventListenersList>
    <cs:eventListener xsi:type="cs:groovyEventListener" enabled="true"><cs:name>orders-in</cs:name><cs:description>x</cs:description></cs:eventListener>
  </cs:eventListenersList>
</cs:cloverServerConfiguration>"#;

    #[test]
    fn finds_items_with_their_identity_and_state() {
        let found = items(XML).expect("parse");
        assert_eq!(
            found,
            vec![
                Item {
                    kind: Kind::Schedule,
                    identity: "Nightly load & merge".into(),
                    enabled: true
                },
                Item {
                    kind: Kind::Schedule,
                    identity: "Old report".into(),
                    enabled: false
                },
                Item {
                    kind: Kind::Listener,
                    identity: "orders-in".into(),
                    enabled: true
                },
            ]
        );
    }

    #[test]
    fn subsets_keep_only_the_targets() {
        let targets: BTreeSet<(Kind, String)> = [(Kind::Listener, "orders-in".to_owned())].into();
        let only = subset(XML, &targets).expect("subset");
        let kept = items(&only).expect("parse");
        assert_eq!(
            kept,
            vec![Item {
                kind: Kind::Listener,
                identity: "orders-in".into(),
                enabled: true
            }]
        );
        assert!(
            only.contains("cs:schedulesList"),
            "the lists themselves stay"
        );
    }

    #[test]
    fn rewrites_only_the_targets() {
        let targets: BTreeSet<(Kind, String)> = [
            (Kind::Schedule, "Nightly load & merge".to_owned()),
            (Kind::Listener, "orders-in".to_owned()),
        ]
        .into();
        let off = set_enabled(XML, &targets, false).expect("rewrite");
        let states: Vec<bool> = items(&off)
            .expect("parse")
            .iter()
            .map(|i| i.enabled)
            .collect();
        assert_eq!(states, [false, false, false]);
        assert!(off.contains("xsi:type=\"cs:groovyEventListener\""));
        let on = set_enabled(&off, &targets, true).expect("rewrite");
        let states: Vec<bool> = items(&on)
            .expect("parse")
            .iter()
            .map(|i| i.enabled)
            .collect();
        assert_eq!(states, [true, false, true], "the old report stays disabled");
    }
}
