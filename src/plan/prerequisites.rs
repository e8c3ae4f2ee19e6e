//! What must hold outside cloverlift before a plan can run, said in `plan` output so nobody
//! finds out halfway through an apply.

use crate::spec::model::{Spec, Strategy};

/// One line per prerequisite, in a stable order.
pub fn of(spec: &Spec) -> Vec<String> {
    let mut out = Vec::new();
    if spec.strategy == Strategy::Architecture {
        // The boot guard is a cloud-init boothook; only on Ubuntu and Debian does cloud-init's
        // init stage run before ordinary services (Before=sysinit.target).
        out.push(
            "the new server's image runs cloud-init and is Ubuntu or Debian based, as CloverDX's images (Ubuntu 24.04) are: the boot guard that keeps the new server off the old database runs as a cloud-init boothook".into(),
        );
    }
    if spec
        .to
        .aws
        .as_ref()
        .is_some_and(|to| to.accept_old_database_reachable)
    {
        out.push(
            "to.aws.accept_old_database_reachable is set: the old system database's security groups may admit the new server's subnet, so only the boot guard keeps the new server off the old database (one wall instead of two)".into(),
        );
    }
    if spec.strategy == Strategy::Architecture
        && let (Some(from), Some(to)) = (&spec.from.azure, &spec.to.azure)
    {
        // A VM with a marketplace `plan` fails to deploy until its terms are accepted, once
        // per subscription; accepting is a legal act, so it is never done silently.
        out.push(format!(
            "accept the marketplace terms of {}/{}/{} once in subscription {}: az vm image terms accept --publisher {} --offer {} --plan {} --subscription {}",
            to.image.publisher,
            to.image.offer,
            to.image.sku,
            from.subscription,
            to.image.publisher,
            to.image.offer,
            to.image.sku,
            from.subscription
        ));
    }
    out
}
