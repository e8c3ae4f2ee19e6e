//! What apply reports while it runs: one event type, printed as plain lines for people (with a
//! spinner per running step on a terminal) or as JSON lines for pipelines.

use std::io::Write;
use std::sync::Mutex;

use serde::Serialize;
use serde_json::Value;

use super::clock;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// What the preflight proved and found, before anything changes.
    Preflight {
        passed: bool,
        problems: Vec<String>,
        warnings: Vec<String>,
        checked: Vec<String>,
    },
    /// A step of the plan and what it will do (dry-run and the confirmation summary).
    Planned {
        step: String,
        calls: Vec<String>,
    },
    Started {
        step: String,
    },
    Finished {
        step: String,
        seconds: f64,
        outputs: Value,
    },
    Failed {
        step: String,
        error: String,
    },
    /// Finished in an earlier run; its outputs come from the journal.
    Skipped {
        step: String,
    },
    /// A compensation runs because a step failed or apply was interrupted.
    Compensating {
        step: String,
    },
    Progress {
        step: String,
        message: String,
    },
    Interrupted,
    Done {
        outcome: String,
        downtime_seconds: Option<f64>,
    },
}

pub trait Events: Send + Sync {
    fn emit(&self, event: &Event);
}

/// JSON lines on a writer (stdout), each with a timestamp.
pub struct JsonEvents<W: Write + Send> {
    out: Mutex<W>,
}

impl<W: Write + Send> JsonEvents<W> {
    pub fn new(out: W) -> Self {
        JsonEvents {
            out: Mutex::new(out),
        }
    }
}

impl<W: Write + Send> Events for JsonEvents<W> {
    fn emit(&self, event: &Event) {
        let mut value = serde_json::to_value(event).unwrap_or(Value::Null);
        if let Some(obj) = value.as_object_mut() {
            obj.insert("at".into(), clock::rfc3339(clock::now_secs()).into());
        }
        if let Ok(mut out) = self.out.lock() {
            let _ = writeln!(out, "{value}");
            let _ = out.flush();
        }
    }
}

/// Plain lines for people; with a terminal, a spinner shows each running step.
pub struct HumanEvents {
    bars: Option<indicatif::MultiProgress>,
    running: Mutex<std::collections::BTreeMap<String, indicatif::ProgressBar>>,
}

impl HumanEvents {
    pub fn new(terminal: bool) -> Self {
        HumanEvents {
            bars: terminal.then(indicatif::MultiProgress::new),
            running: Mutex::new(Default::default()),
        }
    }

    fn line(&self, text: &str) {
        // Step errors quote server answers and spec values; neither may drive the terminal.
        let text = crate::text::printable_lines(text);
        match &self.bars {
            // `println` lays a multi-line text out as one padded line; suspending the bars
            // prints it as it is, newlines included, and redraws them after.
            Some(bars) => bars.suspend(|| eprintln!("{text}")),
            None => eprintln!("{text}"),
        }
    }
}

impl Events for HumanEvents {
    fn emit(&self, event: &Event) {
        match event {
            Event::Preflight {
                passed,
                problems,
                warnings,
                checked,
            } => {
                for c in checked {
                    self.line(&format!("ok       {c}"));
                }
                for w in warnings {
                    self.line(&format!("warning: {w}"));
                }
                if !passed {
                    self.line(&format!(
                        "error[apply::preflight]: {} problem(s) before anything changed:",
                        problems.len()
                    ));
                    for p in problems {
                        self.line(&format!("  - {p}"));
                    }
                    self.line("nothing was changed: the old server was not paused");
                }
            }
            Event::Planned { step, calls } => {
                self.line(&format!("{step}:"));
                for call in calls {
                    self.line(&format!("    {call}"));
                }
            }
            Event::Started { step } => {
                if let (Some(bars), Ok(mut running)) = (&self.bars, self.running.lock()) {
                    let bar = bars.add(indicatif::ProgressBar::new_spinner());
                    bar.set_message(step.clone());
                    bar.enable_steady_tick(std::time::Duration::from_millis(120));
                    running.insert(step.clone(), bar);
                } else {
                    self.line(&format!("start    {step}"));
                }
            }
            Event::Finished { step, seconds, .. } => {
                self.stop_bar(step);
                self.line(&format!("done     {step} ({seconds:.1}s)"));
            }
            Event::Failed { step, error } => {
                self.stop_bar(step);
                self.line(&format!("FAILED   {step}: {error}"));
            }
            Event::Skipped { step } => self.line(&format!("skip     {step} (finished earlier)")),
            Event::Compensating { step } => self.line(&format!(
                "compensate {step} (so the old version ends running)"
            )),
            Event::Progress { step, message } => {
                let shown = self.running.lock().ok().and_then(|r| {
                    r.get(step)
                        .map(|b| b.set_message(format!("{step}: {message}")))
                });
                if shown.is_none() {
                    self.line(&format!("         {step}: {message}"));
                }
            }
            Event::Interrupted => self.line("interrupted: stopping, then resuming the old server"),
            Event::Done {
                outcome,
                downtime_seconds,
            } => {
                self.line(&format!("apply {outcome}"));
                if let Some(d) = downtime_seconds {
                    self.line(&format!("old server downtime (pause → resume): {d:.1}s"));
                }
            }
        }
    }
}

impl HumanEvents {
    fn stop_bar(&self, step: &str) {
        if let Some(bar) = self.running.lock().ok().and_then(|mut r| r.remove(step)) {
            bar.finish_and_clear();
        }
    }
}
