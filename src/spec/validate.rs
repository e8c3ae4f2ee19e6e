//! Rules across fields, checked on the typed spec after the schema reader has accepted its
//! shape: the cloud blocks, the strategy's needs, version order, snapshot identifiers per
//! cloud, tags, and hooks. Spans come from the positioned tree, by path.

use miette::SourceSpan;

use super::checked::Version;
use super::model::{Cloud, FromGcp, Hook, Spec, Strategy};
use super::node::{Kind, Node};
use crate::cloud::{self, Check, aws, azure, gcp};
use crate::diagnostics::SpecError;
use crate::plan::step::StepId;

pub fn validate(spec: &Spec, tree: &Node) -> Vec<SpecError> {
    let mut cx = Cx {
        tree,
        errors: Vec::new(),
    };
    strategy(spec, &mut cx);
    move_address(spec, &mut cx);
    snapshots(spec, &mut cx);
    if let Some(g) = &spec.from.gcp {
        gcp_zone(g, &mut cx);
    }
    tags(spec, &mut cx);
    hooks(&spec.hooks, &mut cx);
    verify(spec, &mut cx);
    cx.errors
}

/// The hook rules alone, for a spec whose other parts are malformed.
pub(super) fn hook_rules(hooks: &[Hook], tree: &Node) -> Vec<SpecError> {
    let mut cx = Cx {
        tree,
        errors: Vec::new(),
    };
    self::hooks(hooks, &mut cx);
    cx.errors
}

/// The zone-in-region rule alone, for a spec whose other parts are malformed.
pub(super) fn gcp_zone_rules(from: &FromGcp, tree: &Node) -> Vec<SpecError> {
    let mut cx = Cx {
        tree,
        errors: Vec::new(),
    };
    gcp_zone(from, &mut cx);
    cx.errors
}

struct Cx<'a> {
    tree: &'a Node,
    errors: Vec<SpecError>,
}

impl Cx<'_> {
    /// The value at `path`, or the closest ancestor that exists.
    fn value(&self, path: &[&str]) -> SourceSpan {
        (0..=path.len())
            .rev()
            .find_map(|n| self.tree.lookup(&path[..n]))
            .map_or(self.tree.span, |node| node.span)
            .into()
    }

    /// The key that introduces `path`, or the closest ancestor's.
    fn key(&self, path: &[&str]) -> SourceSpan {
        (1..=path.len())
            .rev()
            .find_map(|n| self.tree.key_span(&path[..n]))
            .map_or(self.tree.span.into(), Into::into)
    }

    fn requires(&mut self, span: SourceSpan, message: String, label: &str, help: &str) {
        self.errors.push(SpecError::Requires {
            message,
            span,
            label: label.into(),
            help: help.into(),
        });
    }

    fn id(&mut self, path: &[&str], kind: &str, value: &str, check: Check) {
        if let Err(p) = check {
            let span = self.value(path);
            self.errors.push(SpecError::InvalidId {
                kind: kind.into(),
                value: value.into(),
                reason: p.reason,
                span,
                help: p.help,
            });
        }
    }

    fn invalid(&mut self, path: &[&str], reason: String, help: String) {
        let span = self.value(path);
        self.errors.push(SpecError::InvalidValue {
            other: None,
            context: field_path(path),
            reason,
            span,
            help,
        });
    }
}

/// A document path as every message writes it, `hooks[1].http.url`: fields joined by dots,
/// list indices in brackets (the reader's notation).
fn field_path(path: &[&str]) -> String {
    let mut out = String::new();
    for seg in path {
        if seg.parse::<usize>().is_ok() {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(seg);
        }
    }
    out
}

/// Removes `from.<other>` and `to.<other>` blocks for clouds other than `cloud:` from the tree,
/// reporting each as `spec::cloud_mismatch`. Runs before the schema reader, so a block for the
/// wrong cloud is one clear diagnostic rather than a dozen about its fields.
pub fn prune_other_clouds(tree: &mut Node) -> Vec<SpecError> {
    let chosen = tree
        .entry("cloud")
        .and_then(|e| e.value.as_scalar())
        .and_then(|s| Cloud::ALL.into_iter().find(|c| c.as_str() == s.text));
    let Some(chosen) = chosen else {
        // No valid `cloud:`: the reader reports that, and every block is read as written.
        return Vec::new();
    };
    let mut errors = Vec::new();
    let Kind::Map(entries) = &mut tree.kind else {
        return errors;
    };
    for side in entries
        .iter_mut()
        .filter(|e| e.key == "from" || e.key == "to")
    {
        let Kind::Map(blocks) = &mut side.value.kind else {
            continue;
        };
        let side_name = side.key.as_str();
        blocks.retain(|block| {
            let other = Cloud::ALL
                .into_iter()
                .find(|c| *c != chosen && c.as_str() == block.key);
            let Some(other) = other else { return true };
            errors.push(SpecError::CloudMismatch {
                message: format!(
                    "`{side_name}.{}` is given, but the spec's cloud is {}",
                    other.as_str(),
                    chosen.as_str()
                ),
                span: block.key_span.into(),
                label: format!("a block for {}", other.as_str()),
                help: format!(
                    "use `{side_name}.{0}` for cloud {0}, or change `cloud:` to {1}",
                    chosen.as_str(),
                    other.as_str()
                ),
            });
            false
        });
    }
    errors
}

/// Rules that need only a few scalars of the tree, so they run even when other parts of the
/// spec have errors: the block for `cloud:` must exist, and `to.version` must be newer.
pub fn tree_rules(tree: &Node) -> Vec<SpecError> {
    let mut errors = Vec::new();
    let text = |path: &[&str]| {
        tree.lookup(path)
            .and_then(Node::as_scalar)
            .map(|s| s.text.clone())
    };
    let chosen = text(&["cloud"]).and_then(|c| Cloud::ALL.into_iter().find(|k| k.as_str() == c));
    let architecture = match text(&["strategy"]) {
        None => true,
        Some(s) => s == "architecture",
    };
    if let Some(chosen) = chosen {
        for side in ["from", "to"] {
            if side == "to" && !architecture {
                continue;
            }
            let Some(entry) = tree.entry(side) else {
                continue;
            };
            if entry.value.as_map().is_none() {
                continue;
            }
            if let Some(block) = entry.value.entry(chosen.as_str()) {
                // `aws:` with nothing under it reads as absent: say so here, or the spec would
                // validate and then fail to render.
                if block.value.as_scalar().is_some_and(|s| s.is_null()) {
                    errors.push(SpecError::CloudMismatch {
                        message: format!("`{side}.{}` is empty", chosen.as_str()),
                        span: block.key_span.into(),
                        label: "no fields under this key".into(),
                        help: format!(
                            "describe the {} deployment under `{side}.{}`",
                            if side == "from" { "running" } else { "new" },
                            chosen.as_str()
                        ),
                    });
                }
                continue;
            }
            errors.push(SpecError::CloudMismatch {
                message: format!(
                    "the spec's cloud is {0}, but `{side}.{0}` is missing",
                    chosen.as_str()
                ),
                span: entry.key_span.into(),
                label: format!("no `{}` block here", chosen.as_str()),
                help: format!(
                    "add `{side}.{}` describing the {} deployment",
                    chosen.as_str(),
                    if side == "from" { "running" } else { "new" }
                ),
            });
        }
    }
    let version = |path: &[&str]| text(path).and_then(|v| Version::try_from(v).ok());
    if let (Some(from), Some(to)) = (version(&["from", "version"]), version(&["to", "version"]))
        && to.triple() <= from.triple()
    {
        let span = |path: &[&str]| tree.lookup(path).map_or(tree.span, |n| n.span).into();
        errors.push(SpecError::VersionOrder {
            from: from.to_string(),
            to: to.to_string(),
            span: span(&["to", "version"]),
            from_span: span(&["from", "version"]),
            help: "an upgrade goes to a newer CloverDX version; check both versions".into(),
        });
    }
    errors
}

fn strategy(spec: &Spec, cx: &mut Cx) {
    match spec.strategy {
        Strategy::Architecture => {
            if spec.to.war.is_some() {
                let span = cx.key(&["to", "war"]);
                cx.requires(
                    span,
                    "`to.war` needs `strategy: war`".into(),
                    "only used by the war strategy",
                    "set `strategy: war` to replace clover.war in place, or remove `to.war`",
                );
            }
        }
        Strategy::War => {
            let chosen = spec.cloud.as_str();
            match &spec.to.war {
                None => {
                    let span = cx.key(&["strategy"]);
                    cx.requires(
                        span,
                        "`strategy: war` needs `to.war`".into(),
                        "the war strategy",
                        "add `to.war: { url: https://…, sha256: … }` or `{ file: …, sha256: … }`",
                    );
                }
                Some(war) => match (&war.url, &war.file) {
                    (None, None) => {
                        let span = cx.key(&["to", "war"]);
                        cx.errors.push(SpecError::MissingField {
                            field: "url | file".into(),
                            context: "`to.war`".into(),
                            span,
                            help: "add `url: https://…` or `file: PATH` for the new clover.war"
                                .into(),
                        });
                    }
                    (Some(_), Some(_)) => cx.invalid(
                        &["to", "war", "file"],
                        "both `url` and `file` are given".into(),
                        "give exactly one source for clover.war".into(),
                    ),
                    _ => {}
                },
            }
            let to_block = match spec.cloud {
                Cloud::Aws => spec.to.aws.is_some(),
                Cloud::Azure => spec.to.azure.is_some(),
                Cloud::Gcp => spec.to.gcp.is_some(),
            };
            if to_block {
                let span = cx.key(&["to", chosen]);
                cx.requires(
                    span,
                    format!("`to.{chosen}` is not allowed with `strategy: war`"),
                    "a new deployment",
                    "the war strategy upgrades the running instance in place; remove this block \
                     or use `strategy: architecture`",
                );
            }
            if spec.snapshots.is_some() {
                let span = cx.key(&["snapshots"]);
                cx.requires(
                    span,
                    "`snapshots` needs `strategy: architecture`".into(),
                    "reused snapshots",
                    "the war strategy takes fresh snapshots as its rollback point; an older \
                     snapshot would lose the data written since. Remove `snapshots`",
                );
            }
        }
    }
}

fn move_address(spec: &Spec, cx: &mut Cx) {
    if !spec.steps.move_address {
        return;
    }
    let span = cx.value(&["steps", "move_address"]);
    if spec.strategy == Strategy::War {
        cx.requires(
            span,
            "`steps.move_address` needs `strategy: architecture`".into(),
            "nothing to move",
            "the war strategy keeps the running instance and its address; remove move_address",
        );
        return;
    }
    let (has, field) = match spec.cloud {
        Cloud::Aws => (
            spec.from
                .aws
                .as_ref()
                .is_none_or(|a| a.elastic_ip.is_some()),
            "from.aws.elastic_ip",
        ),
        Cloud::Azure => (
            spec.from
                .azure
                .as_ref()
                .is_none_or(|a| a.public_ip.is_some()),
            "from.azure.public_ip",
        ),
        Cloud::Gcp => (
            spec.from.gcp.as_ref().is_none_or(|a| a.address.is_some()),
            "from.gcp.address",
        ),
    };
    if !has {
        cx.requires(
            span,
            format!("`steps.move_address` needs `{field}`"),
            "moves the old address",
            &format!(
                "add `{field}` naming the running server's address, or set move_address: false"
            ),
        );
    }
}

fn snapshots(spec: &Spec, cx: &mut Cx) {
    let Some(s) = &spec.snapshots else { return };
    let db = ["snapshots", "database"];
    let data = ["snapshots", "data"];
    match spec.cloud {
        Cloud::Aws => {
            cx.id(
                &db,
                "RDS DB snapshot",
                &s.database,
                aws::db_snapshot(&s.database).and_then(|()| same_region(spec, &s.database)),
            );
            cx.id(&data, "EBS snapshot id", &s.data, aws::snapshot_id(&s.data));
        }
        Cloud::Azure => {
            if let Err(p) = restore_point(&s.database) {
                cx.invalid(&db, p.reason, p.help);
            }
            cx.id(&data, "Azure snapshot", &s.data, azure::snapshot(&s.data));
        }
        Cloud::Gcp => {
            cx.id(
                &db,
                "Cloud SQL backup id",
                &s.database,
                gcp::backup_id(&s.database),
            );
            cx.id(&data, "disk snapshot name", &s.data, gcp::name(&s.data));
        }
    }
}

/// An RDS snapshot given by ARN must be in `from.aws.region`: RestoreDBInstanceFromDBSnapshot
/// restores only a snapshot of its own region, and a copy from another region is a separate,
/// slow step (CopyDBSnapshot) that this plan does not take.
fn same_region(spec: &Spec, snapshot: &str) -> Check {
    let Some(region) = spec.from.aws.as_ref().map(|a| a.region.as_str()) else {
        return Ok(());
    };
    match snapshot.split(':').nth(3) {
        Some(arn_region) if snapshot.starts_with("arn:") && arn_region != region => cloud::problem(
            format!("the snapshot is in {arn_region}, the deployment in {region}"),
            format!(
                "copy it to {region} first (`aws rds copy-db-snapshot --region {region} \
                 --source-db-snapshot-identifier ARN --target-db-snapshot-identifier NAME`) \
                 and give the copy"
            ),
        ),
        _ => Ok(()),
    }
}

/// An RFC 3339 UTC instant, `YYYY-MM-DDTHH:MM:SS[.fff]Z`, as Azure's point-in-time restore
/// takes it.
pub fn restore_point(v: &str) -> Check {
    if crate::timestamp::parse_utc(v).is_none() {
        return cloud::problem(
            "not an RFC 3339 UTC time",
            "write the restore point as `2026-11-20T22:00:00Z` (UTC, with the `Z`)",
        );
    }
    Ok(())
}

fn gcp_zone(g: &FromGcp, cx: &mut Cx) {
    if gcp::zone_region(g.zone.as_str()) != Some(g.region.as_str()) {
        let path = ["from", "gcp", "zone"];
        cx.id(
            &path,
            "Google Cloud zone",
            g.zone.as_str(),
            cloud::problem(
                format!("not a zone of region {}", g.region),
                format!("use a zone of {0}, e.g. `{0}-b`", g.region),
            ),
        );
    }
}

fn tags(spec: &Spec, cx: &mut Cx) {
    type Rule = fn(&str) -> Check;
    let (map, field, key_rule, value_rule): (_, _, Rule, Rule) = match spec.cloud {
        Cloud::Aws => match &spec.to.aws {
            Some(t) => (&t.tags, "tags", aws::tag_key, aws::tag_value),
            None => return,
        },
        Cloud::Azure => match &spec.to.azure {
            Some(t) => (&t.tags, "tags", azure::tag_name, azure::tag_value),
            None => return,
        },
        Cloud::Gcp => match &spec.to.gcp {
            Some(t) => (&t.labels, "labels", gcp::label_key, gcp::label_value),
            None => return,
        },
    };
    let block = spec.cloud.as_str();
    for (k, v) in map {
        let key_path = ["to", block, field, k.as_str()];
        if let Err(p) = key_rule(k) {
            let span = cx.key(&key_path);
            cx.errors.push(SpecError::InvalidValue {
                other: None,
                context: format!("to.{block}.{field}"),
                reason: format!("`{k}` is not a valid key: {}", p.reason),
                span,
                help: p.help,
            });
        }
        if let Err(p) = value_rule(v) {
            cx.invalid(&key_path, p.reason, p.help);
        }
    }
}

fn hooks(hooks: &[Hook], cx: &mut Cx) {
    let mut first_index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, hook) in hooks.iter().enumerate() {
        let idx = i.to_string();
        let name = hook.name.as_str();
        if StepId::parse(name).is_some() {
            cx.invalid(
                &["hooks", &idx, "name"],
                format!("`{name}` is a built-in step id"),
                "choose another name for the hook".into(),
            );
        } else if let Some(&first) = first_index.get(name) {
            // Both places are labelled, as for a duplicate key: either may be the one to rename.
            let first = cx.value(&["hooks", &first.to_string(), "name"]);
            cx.errors.push(SpecError::InvalidValue {
                other: Some(first),
                context: format!("hooks[{i}].name"),
                reason: format!("another hook is already named `{name}`"),
                span: cx.value(&["hooks", &idx, "name"]),
                help: "hook names are unique; rename one of them".into(),
            });
        } else {
            first_index.insert(name, i);
        }
        match (&hook.command, &hook.http) {
            (None, None) => {
                let span = cx.key(&["hooks", &idx, "name"]);
                cx.errors.push(SpecError::MissingField {
                    field: "command | http".into(),
                    context: format!("hook `{name}`"),
                    span,
                    help: "add `command: [program, args…]` or `http: { url: https://… }`".into(),
                });
            }
            (Some(_), Some(_)) => cx.invalid(
                &["hooks", &idx, "http"],
                "both `command` and `http` are given".into(),
                "a hook does one thing; split it into two hooks".into(),
            ),
            (Some(cmd), None) if cmd.first().is_none_or(|p| p.trim().is_empty()) => cx.invalid(
                &["hooks", &idx, "command"],
                "the command is empty".into(),
                "give the program first, then its arguments: `[./smoke.sh, --env, prod]`".into(),
            ),
            _ => {}
        }
    }
}

fn verify(spec: &Spec, cx: &mut Cx) {
    let enable = &spec.steps.verify.enable;
    for (i, e) in enable.iter().enumerate() {
        if enable[..i].contains(e) {
            cx.invalid(
                &["steps", "verify", "enable", &i.to_string()],
                "listed twice".into(),
                "list each of schedules, listeners once".into(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::restore_point;

    #[test]
    fn restore_points_are_utc_rfc3339() {
        assert!(restore_point("2026-11-20T22:00:00Z").is_ok());
        assert!(restore_point("2026-11-20T22:00:00.123Z").is_ok());
        assert!(restore_point("2024-02-29T00:00:00Z").is_ok());
        assert!(restore_point("2026-02-29T00:00:00Z").is_err());
        assert!(restore_point("2026-11-20T22:00:00").is_err());
        assert!(restore_point("2026-11-20T22:00:00+01:00").is_err());
        assert!(restore_point("2026-13-01T00:00:00Z").is_err());
        assert!(restore_point("+026-11-20T22:00:00Z").is_err());
    }
}
