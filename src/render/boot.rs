//! The boot guard every architecture deployment carries (AWS user data, Azure custom data,
//! Google Cloud `user-data` metadata): one cloud-init boothook that keeps `clover` masked from
//! the earliest boot stage until the restored data disk's datasource names the new system
//! database, so the new version never starts against the old one. The new database's address
//! is only known at deployment, so the script carries a marker that each cloud's template
//! replaces with its own reference (`Fn::GetAtt`, ARM `reference()`, a Terraform
//! interpolation).

use serde_json::json;

use super::RenderFailure;
use super::engine::Engine;
use crate::spec::model::{DatabasePatches, Spec};

/// The file `render` writes the guard to, beside the template that embeds it, for review.
pub const FILE: &str = "boot-guard.sh";
/// Stands for the new database's address in the rendered script.
pub const DB_HOST_MARKER: &str = "@CLOVERLIFT_DB_HOST@";
/// The first line cloud-init recognises a boothook part by.
pub const BOOTHOOK_HEADER: &str = "#cloud-boothook";
/// How often the guard tries the data disk's mount, 5 s apart: 10 minutes in all.
const MOUNT_ATTEMPTS: u32 = 120;
/// How long the guard waits for a database restore the deployment cannot order before the VM
/// (Google Cloud's restore-database step): a Cloud SQL restore of a large system database
/// takes hours, never a day.
const RESTORE_WAIT_SECS: u32 = 6 * 3600;

/// The HTTPS port of CloverDX's marketplace images ("The HTTPS connector is running on port
/// 443", admin/aws-marketplace), where the templates' ServerUrl points.
const TLS_PORT: u32 = 443;
/// How long the guard waits for clover to serve HTTPS before it gives up reporting the
/// certificate: a first start that patches the system database takes minutes, not half an hour.
const REPORT_WAIT_SECS: u32 = 30 * 60;

/// What the guard waits for besides the data disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restore<'a> {
    /// The database exists, restored, before the VM is created (AWS, Azure).
    BeforeVm,
    /// A metadata value the restore step sets to `true` once it is done (Google Cloud).
    Marker { url: &'a str },
}

/// The guard script, with [`DB_HOST_MARKER`] where the new database's address goes.
pub fn guard_script(
    engine: &Engine,
    spec: &Spec,
    restore: Restore,
) -> Result<String, RenderFailure> {
    let marker_url = match restore {
        Restore::BeforeVm => "",
        Restore::Marker { url } => url,
    };
    let context = json!({
        "name": spec.name,
        "from_version": spec.from.version,
        "to_version": spec.to.version,
        "backup": format!("/var/clover/conf/server_fragment.xml.cloverlift-before-{}", spec.name),
        "mount_attempts": MOUNT_ATTEMPTS,
        "restore_marker_url": marker_url,
        "restore_wait_seconds": if marker_url.is_empty() { 0 } else { RESTORE_WAIT_SECS },
        "tls_port": TLS_PORT,
        "report_wait_seconds": REPORT_WAIT_SECS,
        "autoapply": match spec.to.database_patches {
            DatabasePatches::Auto => spec.to.version.as_str(),
            DatabasePatches::Confirm => "",
        },
    });
    let script = engine.render("boot/datasource-guard.sh", &context)?;
    check(&script)?;
    Ok(script)
}

/// Google Cloud's startup script: stops `clover` when the guard never ran (an image without
/// cloud-init), with [`DB_HOST_MARKER`] where the new database's address goes.
pub fn startup_fallback(engine: &Engine, spec: &Spec) -> Result<String, RenderFailure> {
    let script = engine.render("boot/startup-fallback.sh", &json!({ "name": spec.name }))?;
    if script.matches(DB_HOST_MARKER).count() != 1 {
        return Err(RenderFailure::Template {
            name: "boot/startup-fallback.sh".into(),
            message: format!("must contain `{DB_HOST_MARKER}` exactly once"),
        });
    }
    Ok(script)
}

/// A `--templates` override must keep what the deployments rely on: the boothook header and
/// exactly one address marker.
fn check(script: &str) -> Result<(), RenderFailure> {
    let problem = if !script.starts_with(&format!("{BOOTHOOK_HEADER}\n#!")) {
        Some(format!(
            "must start with `{BOOTHOOK_HEADER}` and a `#!` line, so cloud-init runs it before any service"
        ))
    } else if script.matches(DB_HOST_MARKER).count() != 1 {
        Some(format!("must contain `{DB_HOST_MARKER}` exactly once"))
    } else {
        None
    };
    match problem {
        Some(message) => Err(RenderFailure::Template {
            name: "boot/datasource-guard.sh".into(),
            message,
        }),
        None => Ok(()),
    }
}

/// The script's text before and after the address marker.
pub fn split_at_marker(script: &str) -> (&str, &str) {
    script.split_once(DB_HOST_MARKER).unwrap_or((script, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_without_the_header_or_marker_are_refused() {
        assert!(check("#!/bin/bash\n@CLOVERLIFT_DB_HOST@\n").is_err());
        assert!(check("#cloud-boothook\n#!/bin/bash\necho\n").is_err());
        assert!(
            check("#cloud-boothook\n#!/bin/bash\nh='@CLOVERLIFT_DB_HOST@@CLOVERLIFT_DB_HOST@'\n")
                .is_err()
        );
        assert!(check("#cloud-boothook\n#!/bin/bash\nh='@CLOVERLIFT_DB_HOST@'\n").is_ok());
    }

    #[test]
    fn split_keeps_both_sides() {
        assert_eq!(split_at_marker("a@CLOVERLIFT_DB_HOST@b"), ("a", "b"));
    }
}
