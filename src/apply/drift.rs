//! How the old server's configuration drifted from the new server's, which was restored from
//! a snapshot: items added, changed or removed on the old server since. Each schedule and
//! listener is compared by its own element, with `enabled` set aside (pause and cutover change
//! that by design), so a header that differs between versions is no difference.

use std::collections::{BTreeMap, BTreeSet};

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, Writer};
use sha2::{Digest, Sha256};

use super::server_config::{self, Kind};

pub type Id = (Kind, String);

/// The items that differ, by identity.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Drift {
    /// On the old server only: created after the snapshot.
    pub added: BTreeSet<Id>,
    /// On both, defined differently: edited on the old server after the snapshot.
    pub changed: BTreeSet<Id>,
    /// On the new server only: deleted from the old server after the snapshot.
    pub removed: BTreeSet<Id>,
}

impl Drift {
    pub fn between(old_xml: &str, new_xml: &str) -> Result<Drift, String> {
        let old = fingerprints(old_xml)?;
        let new = fingerprints(new_xml)?;
        let mut drift = Drift::default();
        for (id, digest) in &old {
            match new.get(id) {
                None => {
                    drift.added.insert(id.clone());
                }
                Some(d) if d != digest => {
                    drift.changed.insert(id.clone());
                }
                Some(_) => {}
            }
        }
        drift.removed = new
            .keys()
            .filter(|id| !old.contains_key(*id))
            .cloned()
            .collect();
        Ok(drift)
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }

    /// Item by item, for people: `added schedule "Nightly load"`.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (what, set) in [
            ("added", &self.added),
            ("changed", &self.changed),
            ("removed", &self.removed),
        ] {
            for (kind, id) in set {
                out.push(format!("{what} {} {id:?}", kind_name(*kind)));
            }
        }
        out
    }
}

pub fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Schedule => "schedule",
        Kind::Listener => "listener",
    }
}

/// Each item's element, `enabled` left out, as a SHA-256.
fn fingerprints(xml: &str) -> Result<BTreeMap<Id, String>, String> {
    let order = server_config::items(xml)?;
    let mut reader = Reader::from_str(xml);
    let mut out = BTreeMap::new();
    let mut index = 0usize;
    let mut depth = 0usize;
    // While inside an item: its start depth and the writer of its element.
    let mut current: Option<(usize, Writer<Vec<u8>>)> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("configuration XML: {e}"))?;
        match event {
            Event::Eof => break,
            Event::Start(e) => {
                depth += 1;
                if current.is_none() && is_item(&e) {
                    let mut w = Writer::new(Vec::new());
                    w.write_event(Event::Start(without_enabled(&e)?))
                        .map_err(|e| e.to_string())?;
                    current = Some((depth, w));
                    continue;
                }
                write(&mut current, Event::Start(e))?;
            }
            Event::Empty(e) => {
                if current.is_none() && is_item(&e) {
                    let mut w = Writer::new(Vec::new());
                    w.write_event(Event::Empty(without_enabled(&e)?))
                        .map_err(|e| e.to_string())?;
                    record(&mut out, &order, &mut index, w.into_inner());
                    continue;
                }
                write(&mut current, Event::Empty(e))?;
            }
            Event::End(e) => {
                let closing = depth;
                depth = depth.saturating_sub(1);
                if let Some((start, mut w)) = current.take() {
                    w.write_event(Event::End(e)).map_err(|e| e.to_string())?;
                    if start == closing {
                        record(&mut out, &order, &mut index, w.into_inner());
                    } else {
                        current = Some((start, w));
                    }
                }
            }
            other => write(&mut current, other)?,
        }
    }
    Ok(out)
}

fn is_item(e: &BytesStart) -> bool {
    matches!(e.local_name().as_ref(), b"schedule" | b"eventListener")
}

fn write(current: &mut Option<(usize, Writer<Vec<u8>>)>, event: Event) -> Result<(), String> {
    if let Some((_, w)) = current {
        // Whitespace between elements is layout, not definition.
        if let Event::Text(t) = &event
            && t.iter().all(u8::is_ascii_whitespace)
        {
            return Ok(());
        }
        w.write_event(event).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn record(
    out: &mut BTreeMap<Id, String>,
    order: &[server_config::Item],
    index: &mut usize,
    bytes: Vec<u8>,
) {
    if let Some(item) = order.get(*index) {
        let digest = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        out.insert((item.kind, item.identity.clone()), digest);
    }
    *index += 1;
}

fn without_enabled<'a>(e: &BytesStart<'a>) -> Result<BytesStart<'a>, String> {
    let mut copy = BytesStart::new(String::from_utf8_lossy(e.name().as_ref()).into_owned());
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        if a.key.local_name().as_ref() != b"enabled" {
            copy.push_attribute(a);
        }
    }
    Ok(copy)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = "xmlns:cs=\"http://cloveretl.com/server/data\"";

    fn config(root_attrs: &str, items: &str) -> String {
        format!(
            "<cs:cloverServerConfiguration {NS}{root_attrs}><cs:schedulesList>{items}</cs:schedulesList></cs:cloverServerConfiguration>"
        )
    }

    fn schedule(desc: &str, enabled: bool, job: &str) -> String {
        format!(
            "<cs:schedule enabled=\"{enabled}\">\n  <cs:description>{desc}</cs:description><cs:jobFile>{job}</cs:jobFile></cs:schedule>"
        )
    }

    #[test]
    fn enabled_and_headers_are_no_drift() {
        let old = config("", &schedule("Nightly", true, "a.grf"));
        let new = config(" version=\"7.0.1\"", &schedule("Nightly", false, "a.grf"));
        assert!(Drift::between(&old, &new).expect("drift").is_empty());
    }

    #[test]
    fn added_changed_and_removed_items_are_named() {
        let old = config(
            "",
            &format!(
                "{}{}",
                schedule("Nightly", true, "b.grf"),
                schedule("Hourly", true, "h.grf")
            ),
        );
        let new = config(
            "",
            &format!(
                "{}{}",
                schedule("Nightly", false, "a.grf"),
                schedule("Weekly", false, "w.grf")
            ),
        );
        let drift = Drift::between(&old, &new).expect("drift");
        assert_eq!(
            drift.lines(),
            [
                "added schedule \"Hourly\"",
                "changed schedule \"Nightly\"",
                "removed schedule \"Weekly\""
            ]
        );
    }
}
