//! The output directory of `render`: a directory (never a file), and no rendered file of an
//! earlier render left beside this one's, where a reviewer or a deploy step would take it for
//! current (a `cloudformation.yaml` next to a fresh `main.tf.json`).

use std::collections::BTreeMap;
use std::path::Path;

use super::RenderFailure;

/// Every file name any render writes, whatever the cloud, strategy or format.
pub const RENDERED_NAMES: &[&str] = &[
    "cloudformation.yaml",
    "cloudformation.parameters.json",
    "azuredeploy.json",
    "azuredeploy.parameters.json",
    "main.tf.json",
    "deployment.yaml",
    "war-upgrade.sh",
    "war-startup.sh",
    super::boot::FILE,
    "plan.json",
];

/// Checks `dir` before anything is written. Rendered files from an earlier render that this one
/// does not write are refused by name, or removed with `clean` (only those names: other files
/// in the directory are never touched).
pub fn prepare(
    dir: &Path,
    files: &BTreeMap<String, String>,
    clean: bool,
) -> Result<(), RenderFailure> {
    let io = |path: &Path, message: String| RenderFailure::Io {
        path: path.display().to_string(),
        message,
    };
    match std::fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => {
            return Err(io(
                dir,
                "--out names a file; give a directory (it is created if needed)".into(),
            ));
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(dir, e.to_string())),
    }
    let stale: Vec<&str> = RENDERED_NAMES
        .iter()
        .copied()
        .filter(|name| !files.contains_key(*name))
        .filter(|name| std::fs::symlink_metadata(dir.join(name)).is_ok())
        .collect();
    if stale.is_empty() {
        return Ok(());
    }
    if !clean {
        return Err(RenderFailure::Stale {
            dir: dir.display().to_string(),
            files: stale.join(", "),
        });
    }
    for name in stale {
        let path = dir.join(name);
        std::fs::remove_file(&path).map_err(|e| io(&path, e.to_string()))?;
    }
    Ok(())
}
