//! Waiting for Google Cloud's three kinds of long-running work, each by its own documented
//! protocol: Compute Engine operations (zonal, regional, global; `status` PENDING → RUNNING →
//! DONE, then `error.errors[]`), Cloud SQL operations (`status` PENDING → RUNNING → DONE, then
//! `error.errors[]`) and `google.longrunning` operations of Infrastructure Manager (`done`,
//! then `error` or `response`). Apply journals an operation's name before it waits, so a
//! resumed run waits for the same operation instead of starting another.

use std::time::Duration;

use google_cloud_compute_v1::model::Operation as ComputeOperation;
use google_cloud_compute_v1::model::operation::Status as ComputeStatus;
use google_cloud_longrunning::model::Operation as LongRunning;
use google_cloud_sql_v1::model::Operation as SqlOperation;
use google_cloud_sql_v1::model::operation::SqlOperationStatus;
use serde_json::Value;

use super::clients::{Clients, error};

/// Where a Compute Engine operation lives, which decides the collection it is polled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Zone(String),
    Region(String),
    Global,
}

impl Scope {
    /// The scope of an operation as Compute returns it (`zone`/`region` are URLs).
    pub fn of(op: &ComputeOperation) -> Scope {
        let last = |url: &String| url.rsplit('/').next().unwrap_or_default().to_owned();
        match (&op.zone, &op.region) {
            (Some(zone), _) if !zone.is_empty() => Scope::Zone(last(zone)),
            (_, Some(region)) if !region.is_empty() => Scope::Region(last(region)),
            _ => Scope::Global,
        }
    }
}

/// Waits until a Compute Engine operation is DONE; its error, if any, becomes the step's.
pub async fn compute(
    clients: &Clients,
    project: &str,
    scope: &Scope,
    name: &str,
    poll: Duration,
    what: &str,
) -> Result<ComputeOperation, String> {
    loop {
        let op = match scope {
            Scope::Zone(zone) => {
                clients
                    .zone_operations
                    .get()
                    .set_project(project)
                    .set_zone(zone.as_str())
                    .set_operation(name)
                    .send()
                    .await
            }
            Scope::Region(region) => {
                clients
                    .region_operations
                    .get()
                    .set_project(project)
                    .set_region(region.as_str())
                    .set_operation(name)
                    .send()
                    .await
            }
            Scope::Global => {
                clients
                    .global_operations
                    .get()
                    .set_project(project)
                    .set_operation(name)
                    .send()
                    .await
            }
        }
        .map_err(error(&format!("{what}: operation {name}")))?;
        if op.status == Some(ComputeStatus::Done) {
            return compute_outcome(op, what);
        }
        tokio::time::sleep(poll).await;
    }
}

/// Starts a Compute Engine call and waits for its operation.
pub async fn compute_call(
    clients: &Clients,
    project: &str,
    started: google_cloud_compute_v1::Result<ComputeOperation>,
    poll: Duration,
    what: &str,
) -> Result<ComputeOperation, String> {
    let op = started.map_err(error(what))?;
    let name = op.name.clone().unwrap_or_default();
    if op.status == Some(ComputeStatus::Done) {
        return compute_outcome(op, what);
    }
    compute(clients, project, &Scope::of(&op), &name, poll, what).await
}

/// A DONE operation: itself, or its error as the step's.
fn compute_outcome(op: ComputeOperation, what: &str) -> Result<ComputeOperation, String> {
    match compute_error(&op) {
        None => Ok(op),
        Some(message) => Err(format!("{what}: {message}")),
    }
}

fn compute_error(op: &ComputeOperation) -> Option<String> {
    let errors = op.error.as_ref()?;
    let lines: Vec<String> = errors
        .errors
        .iter()
        .map(|e| {
            format!(
                "{}: {}",
                e.code.as_deref().unwrap_or("ERROR"),
                e.message.as_deref().unwrap_or_default()
            )
        })
        .collect();
    let status = op
        .http_error_status_code
        .map(|c| format!("HTTP {c} "))
        .unwrap_or_default();
    Some(format!("{status}{}", lines.join("; ")))
}

/// Waits until a Cloud SQL operation is DONE.
pub async fn sql(
    clients: &Clients,
    project: &str,
    name: &str,
    poll: Duration,
    what: &str,
) -> Result<SqlOperation, String> {
    loop {
        let op = clients
            .sql_operations
            .get()
            .set_project(project)
            .set_operation(name)
            .send()
            .await
            .map_err(error(&format!("{what}: Cloud SQL operation {name}")))?;
        if op.status == SqlOperationStatus::Done {
            return match sql_error(&op) {
                None => Ok(op),
                Some(message) => Err(format!("{what}: {message}")),
            };
        }
        tokio::time::sleep(poll).await;
    }
}

fn sql_error(op: &SqlOperation) -> Option<String> {
    let errors = op.error.as_ref()?;
    if errors.errors.is_empty() {
        return None;
    }
    Some(
        errors
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.code, e.message))
            .collect::<Vec<_>>()
            .join("; "),
    )
}

/// Waits until an Infrastructure Manager operation is done; gives its response as JSON.
pub async fn long_running(
    clients: &Clients,
    name: &str,
    poll: Duration,
    what: &str,
    mut progress: impl FnMut(&Value),
) -> Result<Option<Value>, String> {
    loop {
        let op: LongRunning = clients
            .config
            .get_operation()
            .set_name(name)
            .send()
            .await
            .map_err(error(&format!("{what}: operation {name}")))?;
        let view = serde_json::to_value(&op).unwrap_or(Value::Null);
        progress(&view["metadata"]);
        if op.done {
            if let Some(e) = view.get("error").filter(|e| !e.is_null()) {
                return Err(format!(
                    "{what}: {} {}",
                    e["code"]
                        .as_i64()
                        .map(|c| c.to_string())
                        .unwrap_or_default(),
                    e["message"].as_str().unwrap_or_default()
                ));
            }
            return Ok(view.get("response").cloned());
        }
        tokio::time::sleep(poll).await;
    }
}
