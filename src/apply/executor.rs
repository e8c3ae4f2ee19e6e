//! Runs the plan: every step whose dependencies have finished starts at once (tokio), outputs
//! of finished steps feed later ones, and every start, note and finish is journaled before the
//! executor moves on. When a step fails or the process is told to stop, no new step starts and
//! the compensations run: `start-service` after a `stop-service`, `resume` after a `pause`, so
//! the old version always ends running and resumed.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use petgraph::Direction;
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::clock;
use super::events::{Event, Events};
use super::journal::{History, Journal, Record};
use crate::plan::{Plan, Step, step::StepKind};

pub type StepFuture<'a> = Pin<Box<dyn Future<Output = Result<Value, String>> + Send + 'a>>;

/// What a step sees: the outputs of the steps before it, and a way to journal what it must not
/// forget (written and flushed before `note` returns).
#[derive(Clone)]
pub struct StepContext {
    pub outputs: BTreeMap<String, Value>,
    /// Notes this step wrote in earlier, interrupted runs.
    pub earlier_notes: Vec<Value>,
    step: String,
    journal: Arc<Mutex<Journal>>,
}

impl StepContext {
    pub fn note(&self, data: Value) -> Result<(), String> {
        let mut journal = self
            .journal
            .lock()
            .map_err(|_| "journal lock poisoned".to_owned())?;
        journal
            .append(&Record::Note {
                at: clock::rfc3339(clock::now_secs()),
                step: self.step.clone(),
                data,
            })
            .map_err(|e| e.to_string())
    }

    /// The outputs of a finished step.
    pub fn output(&self, step: &str) -> Option<&Value> {
        self.outputs.get(step)
    }

    /// Notes pause wrote, in this run or an interrupted earlier one: what it disabled, even if
    /// it never finished (resume needs exactly that set).
    pub fn pause_notes(&self) -> Result<Vec<Value>, String> {
        let path = self
            .journal
            .lock()
            .map(|j| j.path().to_path_buf())
            .map_err(|_| "journal lock poisoned".to_owned())?;
        let history = super::journal::read(&path).map_err(|e| e.to_string())?;
        Ok(history.notes.get("pause").cloned().unwrap_or_default())
    }
}

/// Carries out steps. Implementations talk to the clouds and the CloverDX Server.
pub trait Runner: Send + Sync + 'static {
    /// The calls the step would make, in order, for `--dry-run`.
    fn describe(&self, step: &Step) -> Vec<String>;
    /// Runs the step and returns its outputs.
    fn run(&self, step: Step, cx: StepContext) -> StepFuture<'_>;
}

/// How an apply ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub succeeded: bool,
    pub interrupted: bool,
    pub finished: Vec<String>,
    pub failed: Vec<(String, String)>,
    pub not_run: Vec<String>,
    /// Compensations that were needed and failed: the old version may not be resumed.
    pub compensation_failed: Vec<(String, String)>,
    /// Seconds between pause starting and resume finishing, when both happened.
    pub downtime_seconds: Option<f64>,
}

pub struct Executor<'a> {
    pub plan: &'a Plan,
    pub runner: Arc<dyn Runner>,
    pub journal: Arc<Mutex<Journal>>,
    pub history: History,
    pub events: &'a dyn Events,
    pub stop: watch::Receiver<bool>,
}

impl Executor<'_> {
    pub async fn run(mut self) -> Outcome {
        let g = &self.plan.graph;
        let mut done: BTreeMap<String, Value> = self.history.finished.clone();
        let mut started_at: BTreeMap<String, f64> = self.history.started.clone();
        let mut finished_at: BTreeMap<String, f64> = self.history.finished_at.clone();
        for id in done.keys() {
            self.events.emit(&Event::Skipped { step: id.clone() });
        }
        let mut running: BTreeMap<tokio::task::Id, (String, tokio::task::AbortHandle)> =
            BTreeMap::new();
        let mut tasks: JoinSet<Result<Value, String>> = JoinSet::new();
        let mut failed: Vec<(String, String)> = Vec::new();
        let mut compensation_failed = Vec::new();
        let mut interrupted = false;

        loop {
            let stopping = !failed.is_empty() || interrupted;
            if !stopping {
                for &ix in &self.plan.schedule.order {
                    let step = &g[ix];
                    if done.contains_key(&step.id) || running.values().any(|(r, _)| *r == step.id) {
                        continue;
                    }
                    let ready = g
                        .neighbors_directed(ix, Direction::Incoming)
                        .all(|d| done.contains_key(&g[d].id));
                    if ready {
                        self.launch(step, &done, &mut tasks, &mut running, &mut started_at);
                    }
                }
            } else if running.is_empty() {
                // One compensation at a time, in order: the service first, then the jobs.
                for (done_kind, compensation) in [
                    (StepKind::StopService, StepKind::StartService),
                    (StepKind::Pause, StepKind::Resume),
                ] {
                    let Some(ix) = self.find(compensation) else {
                        continue;
                    };
                    let needed = started_at.contains_key(done_kind.id())
                        && !done.contains_key(compensation.id());
                    if !needed {
                        continue;
                    }
                    let step = g[ix].clone();
                    self.events.emit(&Event::Compensating {
                        step: step.id.clone(),
                    });
                    self.launch(&step, &done, &mut tasks, &mut running, &mut started_at);
                    match tasks.join_next_with_id().await {
                        Some(Ok((task, result))) => {
                            let id = running.remove(&task).map(|(s, _)| s).unwrap_or_default();
                            match result {
                                Ok(outputs) => {
                                    self.finish(
                                        &id,
                                        outputs.clone(),
                                        &mut done,
                                        &started_at,
                                        &mut finished_at,
                                    );
                                    // After the Finish record: reading the journal, this voids
                                    // the whole cycle, the compensation's own finish included.
                                    self.compensated(&id, &outputs);
                                }
                                Err(e) => {
                                    self.fail(&id, &e);
                                    compensation_failed.push((id, e));
                                }
                            }
                        }
                        Some(Err(join)) => {
                            running.remove(&join.id());
                            compensation_failed.push((step.id.clone(), join.to_string()));
                        }
                        None => {}
                    }
                }
                break;
            }
            if running.is_empty() {
                if stopping {
                    continue;
                }
                break;
            }
            tokio::select! {
                joined = tasks.join_next_with_id() => {
                    let Some(joined) = joined else { continue };
                    match joined {
                        Ok((task, Ok(outputs))) => {
                            let id = running.remove(&task).map(|(s, _)| s).unwrap_or_default();
                            self.finish(&id, outputs, &mut done, &started_at, &mut finished_at);
                        }
                        Ok((task, Err(e))) => {
                            let id = running.remove(&task).map(|(s, _)| s).unwrap_or_default();
                            self.fail(&id, &e);
                            failed.push((id, e));
                        }
                        Err(join) => {
                            // A panic in a step: it did not finish.
                            let id = running.remove(&join.id()).map(|(s, _)| s).unwrap_or_default();
                            self.fail(&id, &join.to_string());
                            failed.push((id, join.to_string()));
                        }
                    }
                }
                changed = self.stop.changed(), if !interrupted => {
                    if changed.is_ok() && *self.stop.borrow() {
                        interrupted = true;
                        self.events.emit(&Event::Interrupted);
                        // Steps in flight are waits or single API calls; stop waiting for them,
                        // but let pause, resume and cutover finish: an aborted request could
                        // still reach a server after the compensation has run, and a cutover
                        // cut off between its phases would leave neither server running the
                        // schedules (it ends, or reverses itself, within its own timeout).
                        for (step, handle) in running.values() {
                            if !matches!(step.as_str(), "pause" | "resume" | "cutover") {
                                handle.abort();
                            }
                        }
                        while let Some(j) = tasks.join_next_with_id().await {
                            match j {
                                Ok((task, result)) => {
                                    let id = running.remove(&task).map(|(s, _)| s).unwrap_or_default();
                                    match result {
                                        Ok(outputs) => self.finish(&id, outputs, &mut done, &started_at, &mut finished_at),
                                        Err(e) => {
                                            self.fail(&id, &e);
                                            failed.push((id, e));
                                        }
                                    }
                                }
                                Err(join) => {
                                    running.remove(&join.id());
                                }
                            }
                        }
                        running.clear();
                    }
                }
            }
        }

        let all: Vec<String> = self
            .plan
            .schedule
            .order
            .iter()
            .map(|&ix| g[ix].id.clone())
            .collect();
        let not_run: Vec<String> = all
            .iter()
            .filter(|id| !done.contains_key(*id) && !failed.iter().any(|(f, _)| f == *id))
            .cloned()
            .collect();
        // The windows in which no server runs the schedules: pause → resume, and the cutover's
        // own (old disabled → new enabled).
        let pause_window = match (started_at.get("pause"), finished_at.get("resume")) {
            (Some(a), Some(b)) if b >= a => Some(b - a),
            _ => None,
        };
        let cutover_window = done
            .get("cutover")
            .and_then(|o| o["window_seconds"].as_f64());
        let downtime_seconds = match (pause_window, cutover_window) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
        };
        let succeeded = failed.is_empty()
            && !interrupted
            && compensation_failed.is_empty()
            && not_run.is_empty();
        let outcome = if succeeded {
            "succeeded"
        } else if interrupted {
            "interrupted"
        } else {
            "failed"
        };
        if let Ok(mut j) = self.journal.lock() {
            let _ = j.append(&Record::End {
                at: clock::rfc3339(clock::now_secs()),
                outcome: outcome.into(),
            });
        }
        Outcome {
            succeeded,
            interrupted,
            finished: all
                .iter()
                .filter(|id| done.contains_key(*id))
                .cloned()
                .collect(),
            failed,
            not_run,
            compensation_failed,
            downtime_seconds,
        }
    }

    fn find(&self, kind: StepKind) -> Option<petgraph::graph::NodeIndex> {
        self.plan
            .graph
            .node_indices()
            .find(|&ix| self.plan.graph[ix].kind == kind)
    }

    fn launch(
        &self,
        step: &Step,
        done: &BTreeMap<String, Value>,
        tasks: &mut JoinSet<Result<Value, String>>,
        running: &mut BTreeMap<tokio::task::Id, (String, tokio::task::AbortHandle)>,
        started_at: &mut BTreeMap<String, f64>,
    ) {
        let now = clock::now_secs();
        let record = Record::Start {
            at: clock::rfc3339(now),
            step: step.id.clone(),
        };
        if let Err(e) = self
            .journal
            .lock()
            .map_err(|e| e.to_string())
            .and_then(|mut j| j.append(&record).map_err(|e| e.to_string()))
        {
            // Without a journal entry the step must not run: a resume could repeat it.
            let handle = tasks.spawn(std::future::ready(Err(e)));
            running.insert(handle.id(), (step.id.clone(), handle));
            return;
        }
        started_at.entry(step.id.clone()).or_insert(now);
        self.events.emit(&Event::Started {
            step: step.id.clone(),
        });
        let cx = StepContext {
            outputs: done.clone(),
            earlier_notes: self
                .history
                .notes
                .get(&step.id)
                .cloned()
                .unwrap_or_default(),
            step: step.id.clone(),
            journal: Arc::clone(&self.journal),
        };
        let runner = Arc::clone(&self.runner);
        let owned = step.clone();
        let handle = tasks.spawn(async move { runner.run(owned, cx).await });
        running.insert(handle.id(), (step.id.clone(), handle));
    }

    fn finish(
        &self,
        id: &str,
        outputs: Value,
        done: &mut BTreeMap<String, Value>,
        started_at: &BTreeMap<String, f64>,
        finished_at: &mut BTreeMap<String, f64>,
    ) {
        let now = clock::now_secs();
        let seconds = started_at.get(id).map_or(0.0, |s| now - s);
        if let Ok(mut j) = self.journal.lock() {
            let _ = j.append(&Record::Finish {
                at: clock::rfc3339(now),
                step: id.to_owned(),
                seconds,
                outputs: outputs.clone(),
            });
        }
        finished_at.insert(id.to_owned(), now);
        tracing::info!(step = %id, seconds, "step finished");
        self.events.emit(&Event::Finished {
            step: id.to_owned(),
            seconds,
            outputs: outputs.clone(),
        });
        done.insert(id.to_owned(), outputs);
    }

    /// Journals that a compensation finished, which voids its cycle for a later `--resume`.
    fn compensated(&self, id: &str, outputs: &Value) {
        if let Ok(mut j) = self.journal.lock() {
            let _ = j.append(&Record::Compensated {
                at: clock::rfc3339(clock::now_secs()),
                step: id.to_owned(),
                outputs: outputs.clone(),
            });
        }
    }

    fn fail(&self, id: &str, error: &str) {
        tracing::warn!(step = %id, %error, "step failed");
        if let Ok(mut j) = self.journal.lock() {
            let _ = j.append(&Record::Fail {
                at: clock::rfc3339(clock::now_secs()),
                step: id.to_owned(),
                error: error.to_owned(),
            });
        }
        self.events.emit(&Event::Failed {
            step: id.to_owned(),
            error: error.to_owned(),
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex as StdMutex;

    use super::*;
    use crate::apply::events::Event;

    /// Records what ran; fails or sleeps on request. A test double for the executor's own
    /// logic (ordering, journaling, compensation); the real runner is tested end to end.
    struct Script {
        ran: StdMutex<Vec<String>>,
        fail: Option<&'static str>,
        slow: Option<&'static str>,
    }

    impl Runner for Script {
        fn describe(&self, step: &Step) -> Vec<String> {
            vec![step.id.clone()]
        }

        fn run(&self, step: Step, _cx: StepContext) -> StepFuture<'_> {
            Box::pin(async move {
                if self.slow == Some(step.id.as_str()) {
                    tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                }
                self.ran
                    .lock()
                    .map_err(|e| e.to_string())?
                    .push(step.id.clone());
                if self.fail == Some(step.id.as_str()) {
                    return Err(format!("{} failed", step.id));
                }
                Ok(serde_json::json!({ "step": step.id }))
            })
        }
    }

    struct Quiet;
    impl Events for Quiet {
        fn emit(&self, _: &Event) {}
    }

    fn plan() -> Plan {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/plans/aws-prod.yaml"))
                .expect("example");
        crate::check(&crate::source::SourceFile::new("aws-prod.yaml", text))
            .expect("valid")
            .1
    }

    async fn execute(script: Arc<Script>, stop_after: Option<u64>) -> (Outcome, Vec<String>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let (journal, history) = Journal::open(dir.path(), "p", "x", false).expect("journal");
        let plan = plan();
        let (tx, rx) = watch::channel(false);
        if let Some(ms) = stop_after {
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                let _ = tx.send(true);
            });
        } else {
            std::mem::forget(tx);
        }
        let outcome = Executor {
            plan: &plan,
            runner: script.clone(),
            journal: Arc::new(Mutex::new(journal)),
            history,
            events: &Quiet,
            stop: rx,
        }
        .run()
        .await;
        let ran = script.ran.lock().map(|r| r.clone()).unwrap_or_default();
        (outcome, ran)
    }

    #[tokio::test]
    async fn runs_every_step_in_dependency_order() {
        let script = Arc::new(Script {
            ran: Default::default(),
            fail: None,
            slow: None,
        });
        let (outcome, ran) = execute(script, None).await;
        assert!(outcome.succeeded, "{outcome:?}");
        let pos = |s: &str| ran.iter().position(|r| r == s).expect(s);
        assert!(pos("pause") < pos("snapshot-data"));
        assert!(pos("snapshot-database") < pos("resume"));
        assert!(pos("await-snapshots") < pos("deploy"));
        assert!(pos("verify") < pos("move-address"));
        assert!(outcome.downtime_seconds.is_some());
    }

    #[tokio::test]
    async fn a_failed_snapshot_still_resumes_the_old_server() {
        let script = Arc::new(Script {
            ran: Default::default(),
            fail: Some("snapshot-data"),
            slow: None,
        });
        let (outcome, ran) = execute(script, None).await;
        assert!(!outcome.succeeded);
        assert!(ran.contains(&"resume".to_owned()), "{ran:?}");
        assert!(!ran.contains(&"deploy".to_owned()));
        assert!(outcome.compensation_failed.is_empty());
    }

    #[tokio::test]
    async fn an_interruption_stops_waiting_and_resumes() {
        let script = Arc::new(Script {
            ran: Default::default(),
            fail: None,
            slow: Some("await-snapshots"),
        });
        let (outcome, ran) = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            execute(script, Some(300)),
        )
        .await
        .expect("the executor stops promptly");
        assert!(outcome.interrupted);
        assert!(ran.contains(&"resume".to_owned()), "{ran:?}");
        assert!(!ran.contains(&"deploy".to_owned()));
    }
}
