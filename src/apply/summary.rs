//! The summary after an apply that did not complete: what was done, what was changed (read
//! from the journal), whether the old server is paused, and how to go on or go back, with
//! commands that work as printed.

use crate::text::printable;
use std::io::Write;

use super::changes::Changes;
use super::executor::Outcome;

/// What the summary needs to know besides the outcome and the changes.
pub struct Context<'a> {
    pub plan: &'a str,
    pub journal: &'a str,
    /// `cloverlift apply … --resume`, with every option that matters repeated.
    pub resume_command: &'a str,
    /// The AWS region, for the commands that undo what exists.
    pub region: Option<&'a str>,
    /// The old server's instance and Elastic IP allocation, to move the address back.
    pub old_instance: Option<&'a str>,
    pub allocation: Option<&'a str>,
    /// The Google Cloud project and region, when the plan runs there.
    pub gcp: Option<(&'a str, &'a str)>,
}

pub fn write(out: &mut dyn Write, outcome: &Outcome, changes: &Changes, cx: &Context) {
    let _ = writeln!(out, "\napply of plan {} did not complete.", cx.plan);
    let _ = writeln!(out, "  done:     {}", list(&outcome.finished));
    for (step, error) in &outcome.failed {
        let _ = writeln!(out, "  failed:   {step}: {}", printable(error));
    }
    let _ = writeln!(out, "  not run:  {}", list(&outcome.not_run));
    old_server(out, outcome, changes);
    created(out, changes, cx);
    let _ = writeln!(out, "  journal:  {}", cx.journal);
    let _ = writeln!(out, "  to continue: {}", cx.resume_command);
    roll_back(out, changes, cx);
}

/// The old server's state as the journal shows it: paused only when items were disabled and
/// not re-enabled since.
fn old_server(out: &mut dyn Write, outcome: &Outcome, changes: &Changes) {
    if !changes.cutover_moving.is_empty() && !changes.cutover_reversed {
        let items: Vec<&str> = changes.cutover_moving.iter().map(String::as_str).collect();
        let _ = writeln!(
            out,
            "  cutover moved {} to the new server ({}); `cloverlift rollback` moves them back",
            items.len(),
            items.join(", ")
        );
    } else if !changes.still_paused.is_empty() {
        let items: Vec<&str> = changes.still_paused.iter().map(String::as_str).collect();
        let _ = writeln!(
            out,
            "  ATTENTION: the old server is paused: {} still disabled ({}); the command under \"to continue\" resumes it",
            items.len(),
            items.join(", ")
        );
        for (step, error) in &outcome.compensation_failed {
            let _ = writeln!(out, "  ATTENTION: {step} failed: {}", printable(error));
        }
    } else if changes.ever_paused {
        let _ = writeln!(
            out,
            "  the old server runs and is resumed (its schedules and listeners are re-enabled)"
        );
    } else {
        let _ = writeln!(out, "  the old server was not changed (nothing was paused)");
    }
}

fn created(out: &mut dyn Write, changes: &Changes, cx: &Context) {
    let mut made: Vec<String> = Vec::new();
    made.extend(
        changes
            .db_snapshots
            .iter()
            .map(|s| format!("RDS snapshot {s}")),
    );
    made.extend(changes.volume_snapshots.iter().map(|s| {
        if s.starts_with("/subscriptions/") {
            format!("managed disk snapshot {s}")
        } else if cx.gcp.is_some() {
            format!("Compute Engine snapshot {s}")
        } else {
            format!("EBS snapshot {s}")
        }
    }));
    made.extend(
        changes
            .restore_points
            .iter()
            .map(|p| format!("the database restore point {p} (journaled; nothing to delete)")),
    );
    made.extend(
        changes
            .backups
            .iter()
            .map(|b| format!("Cloud SQL backup {b}")),
    );
    if changes.stack_created {
        made.push(if cx.region.is_some() {
            "the new stack".into()
        } else {
            format!("the new deployment {}", cx.plan)
        });
    }
    if changes.address_moved {
        made.push("the old address moved to the new server".into());
    }
    let _ = writeln!(out, "  changed:  {}", list(&made));
}

/// Undo only what exists: the stack if one was created, the address if it moved.
fn roll_back(out: &mut dyn Write, changes: &Changes, cx: &Context) {
    let region = cx
        .region
        .map(|r| format!(" --region {r}"))
        .unwrap_or_default();
    if changes.address_moved
        && let (Some(instance), Some(allocation)) = (cx.old_instance, cx.allocation)
    {
        let _ = writeln!(
            out,
            "  to move the address back: aws ec2 associate-address --allocation-id {allocation} --instance-id {instance} --allow-reassociation{region}"
        );
    }
    if changes.stack_created && cx.region.is_some() {
        let _ = writeln!(
            out,
            "  to roll back: aws cloudformation delete-stack --stack-name {}{region} (the old deployment is unchanged; the new database and volume leave final snapshots)",
            cx.plan
        );
    } else if changes.stack_created
        && let Some((project, region)) = cx.gcp
    {
        let _ = writeln!(
            out,
            "  to roll back: `cloverlift rollback` (the address home, the new VM stopped; `--delete-new` deletes the VM, its address and firewall rules), or gcloud infra-manager deployments delete projects/{project}/locations/{region}/deployments/{} --delete-policy=abandon then delete its resources (the old deployment is unchanged, and `--resume` redeploys it instead)",
            cx.plan
        );
    } else if changes.stack_created {
        let _ = writeln!(
            out,
            "  to roll back: delete the resources of deployment {} (listed by `az deployment group show`; the old deployment is unchanged, and `--resume` redeploys it instead)",
            cx.plan
        );
    } else if !changes.db_snapshots.is_empty()
        || !changes.volume_snapshots.is_empty()
        || !changes.backups.is_empty()
    {
        let _ = writeln!(
            out,
            "  nothing was deployed; the snapshots above are kept for a resumed run"
        );
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "-".into()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(finished: &[&str], failed: &[(&str, &str)]) -> Outcome {
        Outcome {
            succeeded: false,
            interrupted: false,
            finished: finished.iter().map(|s| s.to_string()).collect(),
            failed: failed
                .iter()
                .map(|(s, e)| (s.to_string(), e.to_string()))
                .collect(),
            not_run: Vec::new(),
            compensation_failed: Vec::new(),
            downtime_seconds: None,
        }
    }

    fn text(outcome: &Outcome, changes: &Changes) -> String {
        let mut out = Vec::new();
        let cx = Context {
            plan: "prod-eu",
            journal: "/s/prod-eu/journal.jsonl",
            resume_command: "cloverlift apply spec.yaml --resume --state-dir /s --yes",
            region: Some("eu-west-1"),
            old_instance: Some("i-0123456789abcdef0"),
            allocation: Some("eipalloc-0123456789abcdef0"),
            gcp: None,
        };
        write(&mut out, outcome, changes, &cx);
        String::from_utf8(out).expect("text")
    }

    #[test]
    fn a_pause_that_failed_before_disabling_anything_touched_nothing() {
        let t = text(&outcome(&[], &[("pause", "HTTP 500")]), &Changes::default());
        assert!(t.contains("the old server was not changed"), "{t}");
        assert!(!t.contains("paused:") && !t.contains("delete-stack"), "{t}");
        assert!(t.contains("--state-dir /s --yes"), "{t}");
    }

    #[test]
    fn the_stack_is_deleted_only_when_it_exists() {
        let mut changes = Changes {
            ever_paused: true,
            ..Changes::default()
        };
        changes.db_snapshots.insert("prod-eu-db".into());
        let t = text(&outcome(&["pause"], &[("deploy", "x")]), &changes);
        assert!(
            !t.contains("delete-stack") && t.contains("RDS snapshot prod-eu-db"),
            "{t}"
        );
        assert!(t.contains("the old server runs and is resumed"), "{t}");
        changes.stack_created = true;
        let t = text(&outcome(&["pause"], &[("deploy", "x")]), &changes);
        assert!(
            t.contains("delete-stack --stack-name prod-eu --region eu-west-1"),
            "{t}"
        );
    }

    #[test]
    fn still_disabled_items_are_named() {
        let mut changes = Changes {
            ever_paused: true,
            ..Changes::default()
        };
        changes.still_paused.insert("Nightly load".into());
        let t = text(&outcome(&["pause"], &[("resume", "HTTP 503")]), &changes);
        assert!(
            t.contains("ATTENTION: the old server is paused: 1 still disabled (Nightly load)"),
            "{t}"
        );
    }
}
