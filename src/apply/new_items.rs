//! The new server's schedules and listeners before it is licensed and runs anything: every
//! item that pause disabled on the old server must be disabled on the new one too. The new
//! server's system database is a restore of the old one; a restore from a point before the
//! pause (an Azure point-in-time restore inside its log-shipping lag, a snapshot given in
//! `snapshots:` that was taken while they ran) carries them enabled, and the new server would
//! run the old server's schedules beside it.

use serde_json::Value;

use super::cloverdx::{self, CloverDx, Disabled};
use super::executor::StepContext;

/// Ok with what was checked, or why the new server must not go on.
pub async fn ensure_disabled(
    old: &CloverDx,
    new: &CloverDx,
    cx: &StepContext,
) -> Result<Value, String> {
    let (expected, origin) = expected(old, cx).await?;
    let enabled = new.differing(&expected, false).await?;
    if enabled.is_empty() {
        return Ok(cloverdx::to_json(&expected));
    }
    Err(format!(
        "the new server has {} enabled ({}), which {origin}: its system database was restored \
         from a point before the pause. It was neither licensed nor given anything to run. \
         Remove the new deployment (`cloverlift rollback --delete-new`) and apply again so that \
         the restore contains the pause",
        enabled.len(),
        enabled.join(", ")
    ))
}

/// What must be disabled on the new server, and how the message says where that comes from.
async fn expected(old: &CloverDx, cx: &StepContext) -> Result<(Disabled, &'static str), String> {
    if let Some(out) = cx.output("pause") {
        return Ok((
            cloverdx::from_json(&out["disabled"]),
            "pause disabled on the old server before the snapshots",
        ));
    }
    // No pause in this plan (`snapshots:` reused): whatever the old server runs now must not
    // run on the new one as well.
    let (_, enabled) = old.enabled(true, true).await?;
    Ok((enabled, "the old server runs now"))
}
