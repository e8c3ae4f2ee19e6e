//! The plan as JSON: SPEC.md's `{"steps":[{"id","kind","depends_on","level"}],"critical_path"}`
//! plus what reviewers and executors need (touches, idempotence, compensation, durations,
//! hooks, the downtime window and, for the war strategy, the rollback path).

use serde_json::{Value, json};

use super::super::Plan;
use super::super::step::StepKind;
use crate::spec::model::{Spec, Strategy};

pub fn value(plan: &Plan, spec: &Spec) -> Value {
    let ids = |ixs: &[petgraph::graph::NodeIndex]| -> Vec<String> {
        ixs.iter().map(|&ix| plan.step(ix).id.clone()).collect()
    };
    let steps: Vec<Value> = plan
        .schedule
        .order
        .iter()
        .map(|&ix| {
            let step = plan.step(ix);
            let kind = step.kind;
            let mut v = json!({
                "id": step.id,
                "kind": kind.kind_name(),
                "depends_on": ids(&plan.depends_on(ix)),
                "level": plan.schedule.level(ix),
                "description": kind.describe(),
                "touches": kind.touches_in(plan.strategy).iter().map(|(r, a)| json!({"resource": r, "access": a})).collect::<Vec<_>>(),
                "idempotent": kind.idempotent(),
                "compensation": kind.compensation().map(StepKind::id),
                "duration_class": kind.duration_class().as_str(),
            });
            if kind == StepKind::RestoreDatabase
                && let (Some(op), Some(obj)) = (restore_operation(spec), v.as_object_mut())
            {
                obj.insert("operation".into(), op);
            }
            if let (Some(i), Some(obj)) = (step.hook, v.as_object_mut())
                && let Some(hook) = spec.hooks.get(i)
            {
                let action = match (&hook.command, &hook.http) {
                    (Some(cmd), _) => json!({ "command": cmd }),
                    (None, Some(http)) => json!({ "http": { "url": http.url, "method": http.method } }),
                    (None, None) => Value::Null,
                };
                obj.insert("hook".into(), action);
            }
            v
        })
        .collect();
    let downtime = if plan.schedule.downtime.is_empty() {
        Value::Null
    } else {
        let typical: u64 = window_seconds(plan);
        json!({
            "steps": ids(&plan.schedule.downtime),
            "typical_seconds": typical,
        })
    };
    let rollback = match plan.strategy {
        Strategy::War => json!({
            "point": ["snapshot-database", "snapshot-data"],
            "steps": [
                "stop the clover service",
                "restore the system database from the database snapshot taken by snapshot-database",
                "replace the data disk with a volume created from the snapshot taken by snapshot-data",
                "put the previous clover.war back (war-upgrade.sh rollback; replace keeps it as clover.war.before-PLAN) and start the clover service",
                "re-enable the schedules and listeners recorded by pause",
            ],
        }),
        Strategy::Architecture => json!({
            "point": Value::Null,
            "command": "cloverlift rollback",
            "steps": architecture_rollback(spec),
        }),
    };
    json!({
        "format": 1,
        "name": plan.name,
        "cloud": plan.cloud.as_str(),
        "strategy": match plan.strategy { Strategy::Architecture => "architecture", Strategy::War => "war" },
        "from_version": spec.from.version,
        "to_version": spec.to.version,
        "steps": steps,
        "levels": plan.schedule.depth(),
        "critical_path": ids(&plan.schedule.critical_path),
        "critical_path_typical_seconds": plan.schedule.critical_seconds,
        "downtime": downtime,
        "rollback": rollback,
        "cutover": plan.find(StepKind::Cutover.id()).map(|_| json!({
            "before": "the old server runs the schedules and listeners",
            "after": "the new server runs exactly what the old one ran; the old one runs none of it",
        })),
        "prerequisites": super::super::prerequisites::of(spec),
    })
}

/// What `cloverlift rollback` does, in order, for the architecture strategy.
pub fn architecture_rollback(spec: &Spec) -> Vec<String> {
    let mut steps = vec![
        "disable on the new server what cutover enabled".to_owned(),
        "re-enable on the old server exactly what cutover disabled".to_owned(),
    ];
    if spec.steps.move_address {
        steps.push("move the address back to the old server".into());
    }
    steps.push(
        "stop the new server; the new deployment stays intact (--delete-new deletes it, snapshots are kept)"
            .into(),
    );
    steps.push(
        "not brought back: what the new server wrote to its own database after cutover (run history, configuration)"
            .into(),
    );
    steps
}

/// The API call of Google Cloud's restore-database step, spelled out for reviewers: Cloud SQL
/// restores a backup into an instance by `instances.restoreBackup`, not as a template resource.
fn restore_operation(spec: &Spec) -> Option<Value> {
    let from = spec.from.gcp.as_ref()?;
    let names = crate::render::gcp::Names::of(spec);
    let project = from.project.as_str();
    let backup = spec
        .snapshots
        .as_ref()
        .map_or("the backup taken by snapshot-database", |s| {
            s.database.as_str()
        });
    Some(json!({
        "api": "Cloud SQL Admin v1beta4 instances.restoreBackup",
        "method": "POST",
        "url": format!(
            "https://sqladmin.googleapis.com/sql/v1beta4/projects/{project}/instances/{}/restoreBackup",
            names.database
        ),
        "body": {
            "restoreBackupContext": {
                "backupRunId": backup,
                "instanceId": from.sql_instance,
                "project": project,
            }
        },
        "then": format!(
            "wait for the operation, then set metadata {}=true on instance {} (zone {}); its boot guard then starts clover",
            crate::render::gcp::RESTORED_KEY,
            names.instance,
            from.zone
        ),
    }))
}

/// Typical seconds of the longest chain inside the downtime window.
pub fn window_seconds(plan: &Plan) -> u64 {
    let window = &plan.schedule.downtime;
    let mut best: std::collections::BTreeMap<usize, u64> = std::collections::BTreeMap::new();
    for &ix in window {
        let w = plan.step(ix).kind.duration_class().typical_seconds();
        let before = plan
            .depends_on(ix)
            .iter()
            .filter_map(|d| best.get(&d.index()).copied())
            .max()
            .unwrap_or(0);
        best.insert(ix.index(), before + w);
    }
    best.values().copied().max().unwrap_or(0)
}

pub fn render(plan: &Plan, spec: &Spec) -> String {
    let mut text = serde_json::to_string_pretty(&value(plan, spec)).unwrap_or_default();
    text.push('\n');
    text
}
