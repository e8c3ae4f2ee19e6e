//! The kinds of step a plan is made of, and what each one knows about itself: what it reads
//! and changes, whether running it twice is safe, what undoes it, and how long it tends to take.

use serde::Serialize;

/// A step of the CloverDX runbook (or a hook from the spec).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    Pause,
    SnapshotDatabase,
    SnapshotData,
    Resume,
    AwaitSnapshots,
    StopService,
    ReplaceWar,
    StartService,
    Deploy,
    RestoreDatabase,
    Activate,
    Verify,
    Cutover,
    MoveAddress,
    Hook,
}

/// The built-in step ids (every kind but hooks), the names hooks refer to.
pub type StepId = StepKind;

/// Something a step acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resource {
    /// The running CloverDX Server's API (schedules, listeners, jobs).
    OldServer,
    /// The running version's system database.
    OldDatabase,
    /// The running version's data disk.
    OldDisk,
    /// The running version's VM and its files (only the war strategy changes it).
    OldInstance,
    /// The running version's public address.
    Address,
    /// Snapshots taken by this plan.
    Snapshots,
    /// The new stack or deployment and its resources.
    NewDeployment,
    /// The new CloverDX Server's API.
    NewServer,
    /// Whatever a hook's command or request reaches; cloverlift cannot know.
    External,
}

impl Resource {
    /// Part of the running deployment, which the plan must leave as it found it.
    pub fn is_old(self) -> bool {
        matches!(
            self,
            Resource::OldServer
                | Resource::OldDatabase
                | Resource::OldDisk
                | Resource::OldInstance
                | Resource::Address
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    Read,
    Mutate,
}

/// How long a step usually takes: what the text output calls slow, and the critical path's
/// weights (typical seconds, for ordering, not promises).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DurationClass {
    /// Seconds: an API call.
    Instant,
    /// Under a minute or two.
    Short,
    /// Minutes: waiting for jobs, a service start, checks.
    Minutes,
    /// Tens of minutes: snapshots completing, a stack or database restore.
    Long,
}

impl DurationClass {
    pub fn typical_seconds(self) -> u64 {
        match self {
            DurationClass::Instant => 5,
            DurationClass::Short => 60,
            DurationClass::Minutes => 300,
            DurationClass::Long => 1800,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DurationClass::Instant => "instant",
            DurationClass::Short => "short",
            DurationClass::Minutes => "minutes",
            DurationClass::Long => "long",
        }
    }
}

use Access::{Mutate, Read};
use Resource::*;

impl StepKind {
    /// Every built-in kind, in runbook order.
    pub const BUILTIN: [StepKind; 14] = [
        StepKind::Pause,
        StepKind::SnapshotDatabase,
        StepKind::SnapshotData,
        StepKind::Resume,
        StepKind::AwaitSnapshots,
        StepKind::StopService,
        StepKind::ReplaceWar,
        StepKind::StartService,
        StepKind::Deploy,
        StepKind::RestoreDatabase,
        StepKind::Activate,
        StepKind::Verify,
        StepKind::Cutover,
        StepKind::MoveAddress,
    ];

    /// The step id as DESIGN.md writes it.
    pub fn id(self) -> &'static str {
        match self {
            StepKind::Pause => "pause",
            StepKind::SnapshotDatabase => "snapshot-database",
            StepKind::SnapshotData => "snapshot-data",
            StepKind::Resume => "resume",
            StepKind::AwaitSnapshots => "await-snapshots",
            StepKind::StopService => "stop-service",
            StepKind::ReplaceWar => "replace-war",
            StepKind::StartService => "start-service",
            StepKind::Deploy => "deploy",
            StepKind::RestoreDatabase => "restore-database",
            StepKind::Activate => "activate",
            StepKind::Verify => "verify",
            StepKind::Cutover => "cutover",
            StepKind::MoveAddress => "move-address",
            StepKind::Hook => "hook",
        }
    }

    /// The built-in step with this id.
    pub fn parse(id: &str) -> Option<StepKind> {
        StepKind::BUILTIN.into_iter().find(|k| k.id() == id)
    }

    /// The family name the JSON plan's `kind` field carries.
    pub fn kind_name(self) -> &'static str {
        match self {
            StepKind::SnapshotDatabase | StepKind::SnapshotData => "snapshot",
            other => other.id(),
        }
    }

    /// One line on what the step does, for people.
    pub fn describe(self) -> &'static str {
        match self {
            StepKind::Pause => {
                "disable the enabled schedules and event listeners on the old server and wait for \
                 running jobs"
            }
            StepKind::SnapshotDatabase => "start a snapshot of the old system database",
            StepKind::SnapshotData => "start a snapshot of the old data disk",
            StepKind::Resume => "re-enable exactly the schedules and listeners pause disabled",
            StepKind::AwaitSnapshots => "wait until both snapshots are usable",
            StepKind::StopService => "stop the clover service",
            StepKind::ReplaceWar => "replace clover.war after checking its sha256",
            StepKind::StartService => "start the clover service and wait for it to answer",
            StepKind::Deploy => "create the new deployment from the snapshots",
            StepKind::RestoreDatabase => {
                "restore the database backup into the new Cloud SQL instance"
            }
            StepKind::Activate => "install the license on the new server",
            StepKind::Verify => {
                "run the health and smoke checks on the new server, its schedules and listeners \
                 still disabled"
            }
            StepKind::Cutover => {
                "disable and drain on the old server what it ran, then enable exactly that on the \
                 new one: never both at once"
            }
            StepKind::MoveAddress => "move the old public address to the new server",
            StepKind::Hook => "run a hook from the spec",
        }
    }

    /// What the step reads and changes. Only pause, resume, cutover and move-address change the
    /// old deployment in the architecture strategy; the war strategy's in-place steps change the
    /// old instance by design, after the snapshots that are its rollback point.
    pub fn touches(self) -> &'static [(Resource, Access)] {
        match self {
            StepKind::Pause => &[(OldServer, Mutate)],
            StepKind::SnapshotDatabase => &[(OldDatabase, Read), (Snapshots, Mutate)],
            StepKind::SnapshotData => &[(OldDisk, Read), (Snapshots, Mutate)],
            StepKind::Resume => &[(OldServer, Mutate)],
            StepKind::AwaitSnapshots => &[(Snapshots, Read)],
            StepKind::StopService | StepKind::ReplaceWar | StepKind::StartService => {
                &[(OldInstance, Mutate)]
            }
            StepKind::Deploy => &[(Snapshots, Read), (NewDeployment, Mutate)],
            StepKind::RestoreDatabase => &[(Snapshots, Read), (NewDeployment, Mutate)],
            StepKind::Activate => &[(NewServer, Mutate)],
            StepKind::Verify => &[(NewServer, Read)],
            StepKind::Cutover => &[(OldServer, Mutate), (NewServer, Mutate)],
            StepKind::MoveAddress => &[(Address, Mutate), (NewDeployment, Mutate)],
            StepKind::Hook => &[(External, Mutate)],
        }
    }

    /// What the step touches in a plan of `strategy`. The war strategy has no new server: its
    /// verify reads, and its activate changes, the old server that was upgraded in place.
    pub fn touches_in(
        self,
        strategy: crate::spec::model::Strategy,
    ) -> &'static [(Resource, Access)] {
        use crate::spec::model::Strategy;
        match (strategy, self) {
            (Strategy::War, StepKind::Verify) => &[(OldServer, Read)],
            (Strategy::War, StepKind::Activate) => &[(OldServer, Mutate)],
            _ => self.touches(),
        }
    }

    pub fn mutates_old(self) -> bool {
        self.touches()
            .iter()
            .any(|(r, a)| r.is_old() && *a == Access::Mutate)
    }

    /// Safe to run again after an interruption without consulting the journal.
    pub fn idempotent(self) -> bool {
        match self {
            // Pause must record what it disabled before disabling it: a second run would see
            // its own work and remember nothing to re-enable. Snapshots would be taken twice.
            StepKind::Pause
            | StepKind::SnapshotDatabase
            | StepKind::SnapshotData
            | StepKind::RestoreDatabase
            | StepKind::Hook => false,
            _ => true,
        }
    }

    /// The step that undoes this one, which must run even when later steps fail.
    pub fn compensation(self) -> Option<StepKind> {
        match self {
            StepKind::Pause => Some(StepKind::Resume),
            StepKind::StopService => Some(StepKind::StartService),
            _ => None,
        }
    }

    pub fn duration_class(self) -> DurationClass {
        match self {
            StepKind::SnapshotDatabase
            | StepKind::SnapshotData
            | StepKind::Resume
            | StepKind::StopService => DurationClass::Instant,
            StepKind::Activate | StepKind::Cutover | StepKind::MoveAddress | StepKind::Hook => {
                DurationClass::Short
            }
            StepKind::Pause | StepKind::ReplaceWar | StepKind::StartService | StepKind::Verify => {
                DurationClass::Minutes
            }
            StepKind::AwaitSnapshots | StepKind::Deploy | StepKind::RestoreDatabase => {
                DurationClass::Long
            }
        }
    }
}

impl std::fmt::Display for StepKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}
