//! CloverDX's schema-patch confirmation. When a new version must change the system database's
//! schema, "the start of the server is suspended and a confirmation dialog is displayed": a
//! person types "backup completed" and clicks Proceed, unless the server property
//! `autoapply.sys.db.patches` is "the version you are upgrading to or newer"
//! (admin/upgrading-server, admin/list-of-properties). CloverDX documents no API to confirm.
//! With `to.database_patches: auto` the boot guard sets the property on the new data disk
//! (the plan's snapshot is the backup the dialog asks for); with `confirm` a person does.

use super::cloverdx::CloverDx;
use crate::spec::model::{DatabasePatches, Spec};

/// Where the boot guard writes the property: the file CloverDX's marketplace images read the
/// administrator's configuration from, which "will override the default built-in
/// configuration" (admin/server-in-cloud-marketplaces).
pub const PROPERTIES: &str = "/var/clover/conf/clover.properties";
/// The property that skips the dialog for versions up to its value.
pub const PROPERTY: &str = "autoapply.sys.db.patches";

/// Why activate stops when the new server answers 503 `SUSPENDED`, and what a person does.
pub fn suspended(spec: &Spec, server: &CloverDx) -> String {
    let console = server.base();
    let version = spec.to.version.as_str();
    match spec.to.database_patches {
        DatabasePatches::Confirm => format!(
            "the new server waits for a person to confirm its system database patches \
             (to.database_patches: confirm): open {console} in a browser, check that this \
             plan's database snapshot is the backup you want, type \"backup completed\" and click \
             Proceed; then run `cloverlift apply --resume` with this spec. The new server runs \
             on the restored copy only; the old server runs as before"
        ),
        DatabasePatches::Auto => format!(
            "the new server waits at CloverDX's schema-patch dialog although the boot guard set \
             {PROPERTY}={version} in {PROPERTIES} on its data disk: the property did not take \
             (check that file on the new server, and whether its image reads its configuration \
             elsewhere). Confirm in {console} (type \"backup completed\", Proceed: this plan's \
             snapshot is the backup) and run `cloverlift apply --resume`, or set \
             to.database_patches: confirm"
        ),
    }
}
