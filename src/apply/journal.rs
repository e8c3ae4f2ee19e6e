//! The apply journal: one JSON object per line under `.cloverlift/<plan>/journal.jsonl`,
//! written and flushed to disk at every step start, note and finish, so an interrupted apply
//! can resume with the outputs of the steps that finished. A lock file keeps two applies of one
//! plan apart, and the spec's hash stops a resume against a changed spec.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::clock;
use crate::output::no_follow;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Record {
    /// An apply run started (the first, or a resume).
    Begin {
        at: String,
        plan: String,
        spec_sha256: String,
        resume: bool,
    },
    Start {
        at: String,
        step: String,
    },
    /// Something a step learned that it must not forget across a crash (pause records what it
    /// is about to disable before disabling it).
    Note {
        at: String,
        step: String,
        data: Value,
    },
    Finish {
        at: String,
        step: String,
        seconds: f64,
        outputs: Value,
    },
    /// A compensation finished (resume after a failed or interrupted run). The pause cycle it
    /// closed is void for a later `--resume`: pause, the snapshots and resume run again.
    Compensated {
        at: String,
        step: String,
        outputs: Value,
    },
    Fail {
        at: String,
        step: String,
        error: String,
    },
    End {
        at: String,
        outcome: String,
    },
}

/// What earlier runs of this plan left: finished steps with their outputs, notes, and steps
/// that started but never finished.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    pub spec_sha256: Option<String>,
    pub finished: BTreeMap<String, Value>,
    pub notes: BTreeMap<String, Vec<Value>>,
    pub started: BTreeMap<String, f64>,
    pub finished_at: BTreeMap<String, f64>,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum JournalError {
    #[error("another apply of plan `{plan}` is running (lock {path} held by pid {pid})")]
    #[diagnostic(
        code(apply::locked),
        help("wait for it to finish; if no apply runs, remove the lock file")
    )]
    Locked {
        plan: String,
        path: String,
        pid: String,
    },

    #[error("the spec changed since the journal was written (sha256 {was} → {now})")]
    #[diagnostic(
        code(apply::spec_changed),
        help("resume with the spec the interrupted apply used, or move {path} away to start over")
    )]
    SpecChanged {
        was: String,
        now: String,
        path: String,
    },

    #[error("no journal to resume at {path}")]
    #[diagnostic(code(apply::nothing_to_resume), help("run apply without --resume"))]
    NothingToResume { path: String },

    #[error("a journal from an earlier apply exists at {path}")]
    #[diagnostic(
        code(apply::journal_exists),
        help("continue it with --resume, or move it away to start a new apply")
    )]
    Exists { path: String },

    #[error("journal {path}: {message}")]
    #[diagnostic(code(apply::journal_io))]
    Io { path: String, message: String },
}

pub struct Journal {
    path: PathBuf,
    file: File,
    _lock: Lock,
}

impl Journal {
    /// Opens (or, without `resume`, creates) the journal of `plan` in `dir`, taking the lock.
    pub fn open(
        dir: &Path,
        plan: &str,
        spec_sha256: &str,
        resume: bool,
    ) -> Result<(Journal, History), JournalError> {
        let io = |path: &Path, e: std::io::Error| JournalError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let lock = Lock::take(dir, plan)?;
        let path = dir.join("journal.jsonl");
        // `symlink_metadata`, not `exists`: a dangling link planted as the journal is refused
        // by the no-follow opens below rather than taken for "no journal yet".
        let history = if std::fs::symlink_metadata(&path).is_ok() {
            if !resume {
                return Err(JournalError::Exists {
                    path: path.display().to_string(),
                });
            }
            drop_torn_tail(&path)?;
            let history = read(&path)?;
            if let Some(was) = &history.spec_sha256
                && was != spec_sha256
            {
                return Err(JournalError::SpecChanged {
                    was: was.clone(),
                    now: spec_sha256.to_owned(),
                    path: path.display().to_string(),
                });
            }
            history
        } else if resume {
            return Err(JournalError::NothingToResume {
                path: path.display().to_string(),
            });
        } else {
            History::default()
        };
        let file = no_follow(OpenOptions::new().create(true).append(true))
            .open(&path)
            .map_err(|e| io(&path, e))?;
        let mut journal = Journal {
            path,
            file,
            _lock: lock,
        };
        journal.append(&Record::Begin {
            at: clock::rfc3339(clock::now_secs()),
            plan: plan.to_owned(),
            spec_sha256: spec_sha256.to_owned(),
            resume,
        })?;
        Ok((journal, history))
    }

    /// Appends one record and flushes it to disk before returning.
    pub fn append(&mut self, record: &Record) -> Result<(), JournalError> {
        let mut line = serde_json::to_string(record).map_err(|e| JournalError::Io {
            path: self.path.display().to_string(),
            message: e.to_string(),
        })?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_data())
            .map_err(|e| JournalError::Io {
                path: self.path.display().to_string(),
                message: e.to_string(),
            })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Every readable record of a journal, in order (torn or garbled lines skipped).
pub fn records(path: &Path) -> Result<Vec<Record>, JournalError> {
    Ok(BufReader::new(open_for_reading(path)?)
        .split(b'\n')
        .map_while(Result::ok)
        .filter_map(|line| serde_json::from_slice::<Record>(&line).ok())
        .collect())
}

/// Reads every record of a journal into its history. A torn last line (the process died while
/// writing it) is ignored: the record it would have been was never acted on.
pub fn read(path: &Path) -> Result<History, JournalError> {
    Ok(history_from(BufReader::new(open_for_reading(path)?)))
}

/// The journal at `path`, opened for reading without following a symbolic link.
fn open_for_reading(path: &Path) -> Result<File, JournalError> {
    no_follow(OpenOptions::new().read(true))
        .open(path)
        .map_err(|e| JournalError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })
}

/// The history a journal's bytes tell, from any reader (the fuzz target feeds it raw bytes).
pub fn history_from(reader: impl BufRead) -> History {
    let mut history = History::default();
    // Line by line as bytes: a torn or garbled line is skipped, never the lines after it.
    for line in reader.split(b'\n') {
        let Ok(line) = line else { break };
        let Ok(record) = serde_json::from_slice::<Record>(&line) else {
            continue;
        };
        match record {
            Record::Begin { spec_sha256, .. } => history.spec_sha256 = Some(spec_sha256),
            Record::Start { step, at } => {
                history.started.entry(step).or_insert(parse_time(&at));
            }
            Record::Note { step, data, .. } => history.notes.entry(step).or_default().push(data),
            Record::Finish {
                step, outputs, at, ..
            } => {
                history.finished_at.insert(step.clone(), parse_time(&at));
                history.finished.insert(step, outputs);
            }
            Record::Compensated { step, .. } => {
                let cycle: &[&str] = match step.as_str() {
                    "resume" => &[
                        "pause",
                        "snapshot-database",
                        "snapshot-data",
                        "await-snapshots",
                        "resume",
                    ],
                    "start-service" => &["stop-service", "replace-war", "start-service"],
                    _ => &[],
                };
                for id in cycle {
                    history.finished.remove(*id);
                    history.finished_at.remove(*id);
                    history.started.remove(*id);
                    history.notes.remove(*id);
                }
            }
            Record::Fail { .. } | Record::End { .. } => {}
        }
    }
    history
}

/// Cuts a last line the process did not finish writing, so the next record starts a line.
fn drop_torn_tail(path: &Path) -> Result<(), JournalError> {
    let io = |e: std::io::Error| JournalError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let bytes = std::fs::read(path).map_err(io)?;
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        return Ok(());
    }
    let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let file = no_follow(OpenOptions::new().write(true))
        .open(path)
        .map_err(io)?;
    file.set_len(keep as u64).map_err(io)
}

/// Seconds since the epoch of a journal timestamp (0 if unreadable).
fn parse_time(at: &str) -> f64 {
    crate::timestamp::parse_utc(at).unwrap_or(0.0)
}

/// `lock` in the plan's state directory, held with an OS file lock for the life of the
/// process: the OS releases it when the process ends, however it ends, so no lock goes stale.
struct Lock {
    _file: File,
}

impl Lock {
    fn take(dir: &Path, plan: &str) -> Result<Lock, JournalError> {
        let path = dir.join("lock");
        let io = |e: std::io::Error| JournalError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let mut file = no_follow(
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false),
        )
        .open(&path)
        .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let pid = std::fs::read_to_string(&path).unwrap_or_default();
                return Err(JournalError::Locked {
                    plan: plan.to_owned(),
                    path: path.display().to_string(),
                    pid: pid.trim().to_owned(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        // The pid is for people reading the lock file; the lock itself is the OS's.
        file.set_len(0).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        Ok(Lock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn planted_links_as_journal_or_lock_are_refused_and_their_targets_untouched() {
        for name in ["journal.jsonl", "lock"] {
            let dir = tempfile::tempdir().expect("tempdir");
            let victim = dir.path().join("victim");
            std::fs::write(&victim, "precious\n").expect("victim");
            let state = dir.path().join("state");
            std::fs::create_dir(&state).expect("state dir");
            std::os::unix::fs::symlink(&victim, state.join(name)).expect("link");
            for resume in [false, true] {
                assert!(
                    Journal::open(&state, "p", "abc", resume).is_err(),
                    "{name} as a link must be refused (resume {resume})"
                );
            }
            assert_eq!(
                std::fs::read_to_string(&victim).expect("victim"),
                "precious\n"
            );
        }
    }

    #[test]
    fn timestamps_round_trip() {
        let t = 1_764_115_081.25;
        assert!((parse_time(&clock::rfc3339(t)) - t).abs() < 0.001);
    }

    #[test]
    fn journal_resumes_with_finished_outputs_and_refuses_changed_specs() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let (mut j, history) = Journal::open(dir.path(), "p", "aaa", false).expect("open");
            assert_eq!(history, History::default());
            j.append(&Record::Start {
                at: clock::rfc3339(1.0),
                step: "pause".into(),
            })
            .expect("w");
            j.append(&Record::Note {
                at: clock::rfc3339(1.0),
                step: "pause".into(),
                data: serde_json::json!({"disabled": ["a"]}),
            })
            .expect("w");
            j.append(&Record::Finish {
                at: clock::rfc3339(2.0),
                step: "pause".into(),
                seconds: 1.0,
                outputs: serde_json::json!({"x": 1}),
            })
            .expect("w");
            // A second apply while the first holds the lock is refused.
            assert!(matches!(
                Journal::open(dir.path(), "p", "aaa", true),
                Err(JournalError::Locked { .. })
            ));
        }
        assert!(matches!(
            Journal::open(dir.path(), "p", "aaa", false),
            Err(JournalError::Exists { .. })
        ));
        assert!(matches!(
            Journal::open(dir.path(), "p", "bbb", true),
            Err(JournalError::SpecChanged { .. })
        ));
        let (_, history) = Journal::open(dir.path(), "p", "aaa", true).expect("resume");
        assert_eq!(history.finished["pause"], serde_json::json!({"x": 1}));
        assert_eq!(
            history.notes["pause"],
            vec![serde_json::json!({"disabled": ["a"]})]
        );
    }
}
