//! Trust in the new server's certificate, as the cloud vouches for it: without `to.server.tls`
//! the new instance's boot guard prints the certificate clover serves (its SHA-256) on the
//! console, activate reads it through the cloud's API (`Provider::console`) and pins it, and
//! every later step, and rollback, pins the same (journaled in activate's outputs).

use std::time::Instant;

use serde_json::Value;

use super::boot_report;
use super::cloverdx::CloverDx;
use super::executor::StepContext;
use super::runner::{CloudRunner, Provider};
use super::tls::Tls;
use crate::spec::checked::Fingerprint;
use crate::spec::model::{Spec, Strategy};

/// The spec field a pin read from the console stands for, in messages.
pub const FIELD: &str = "to.server.tls";

/// Whether the new server's certificate is the one its console reports: when the spec names no
/// trust for it and the new version runs on a new instance whose console `provider` reads.
pub fn console_pins(spec: &Spec, provider: &dyn Provider) -> bool {
    spec.to
        .server
        .as_ref()
        .and_then(|s| s.tls.as_ref())
        .is_none()
        && spec.strategy == Strategy::Architecture
        && provider.describe_console().is_some()
}

/// The certificate the new instance's console reports now, read through `provider`'s API from
/// the deploy step's outputs `deploy`; `None` while the console shows no report of `plan`'s guard.
pub async fn reported(
    provider: &dyn Provider,
    deploy: &Value,
    plan: &str,
) -> Result<Option<[u8; 32]>, String> {
    let console = provider.console(deploy).await?;
    Ok(console
        .as_str()
        .and_then(|c| boot_report::fingerprint(c, plan)))
}

impl CloudRunner {
    pub(super) fn new_server(&self, cx: &StepContext) -> Result<CloverDx, String> {
        let pinned = cx
            .output("activate")
            .and_then(|o| o["tls_sha256"].as_str())
            .and_then(Fingerprint::bytes_of);
        match pinned {
            Some(pin) if self.console_pins() => self.new_server_with(cx, &Tls::pinned(pin, FIELD)?),
            _ => self.new_server_with(cx, &self.new_tls),
        }
    }

    pub(super) fn new_server_with(&self, cx: &StepContext, tls: &Tls) -> Result<CloverDx, String> {
        let url = self
            .new_server_url
            .clone()
            .or_else(|| self.provider.new_server_url(cx))
            .ok_or("the deploy step left no server URL")?;
        self.old.at(&url, tls)
    }

    pub(super) fn console_pins(&self) -> bool {
        console_pins(&self.spec, self.provider.as_ref())
    }

    /// For `--dry-run`: how activate learns the new server's certificate.
    pub(super) fn console_call(&self) -> Option<String> {
        if !self.console_pins() {
            return None;
        }
        self.provider.describe_console().map(|call| {
            format!(
                "{call} until it shows the boot guard's `{}AB:CD:…`; that certificate is pinned",
                boot_report::marker(self.spec.name.as_str())
            )
        })
    }

    /// The certificate the new server's boot guard printed on its console, read through the
    /// cloud's API until it appears (within `steps.verify.timeout`).
    pub(super) async fn console_fingerprint(&self, cx: &StepContext) -> Result<[u8; 32], String> {
        let deadline = Instant::now() + self.spec.steps.verify.timeout.std();
        let plan = self.spec.name.as_str();
        let deploy = cx.output("deploy").cloned().unwrap_or_default();
        loop {
            if let Some(pin) = reported(self.provider.as_ref(), &deploy, plan).await? {
                return Ok(pin);
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "the new instance's console shows no certificate report from the boot guard \
                     (`{}…`) within {}: the guard may have failed (its lines on the console say \
                     why) or the image lacks openssl. Name the new server's certificate in \
                     to.server.tls and resume",
                    boot_report::marker(plan),
                    self.spec.steps.verify.timeout
                ));
            }
            self.progress(
                "activate",
                "waiting for the boot guard's certificate report on the console",
            );
            tokio::time::sleep(self.poll).await;
        }
    }
}
