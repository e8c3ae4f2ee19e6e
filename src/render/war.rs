//! The in-place upgrade script, shared by every cloud's war strategy: stop the `clover`
//! service, replace `clover.war` after checking its sha256 (keeping the first backup), start
//! and wait for the health page; `rollback` puts the previous WAR back.

use serde_json::json;

use super::RenderFailure;
use super::engine::Engine;
use crate::spec::model::Spec;

/// Where the CloverDX marketplace images keep Tomcat's webapps. The Tomcat major version
/// (9 for 6.x, 10.1 for 7.x) does not change this path, so it is not hard-coded anywhere.
pub const WEBAPPS: &str = "/opt/clover/tomcat/webapps";
/// The systemd service of the CloverDX images.
pub const SERVICE: &str = "clover";
/// The user Tomcat runs as.
pub const OWNER: &str = "clover";
/// CloverDX's health page, on the HTTPS port the marketplace images serve (self-signed).
pub const HEALTH_URL: &str = "https://127.0.0.1/clover/accessibilityTest.jsp";
/// How long `start` waits for the health page to answer.
pub const START_TIMEOUT_SECS: u32 = 900;

pub fn script(engine: &Engine, spec: &Spec) -> Result<String, RenderFailure> {
    let context = json!({
        "name": spec.name,
        "from_version": spec.from.version,
        "to_version": spec.to.version,
        "webapps": WEBAPPS,
        "service": SERVICE,
        "owner": OWNER,
        "backup": format!("{WEBAPPS}/clover.war.before-{}", spec.name),
        "health_url": HEALTH_URL,
        "start_timeout_seconds": START_TIMEOUT_SECS,
    });
    engine.render("war/upgrade.sh", &context)
}

/// Google Cloud's runner of the script: the old instance's startup script for one boot.
pub fn gcp_startup(engine: &Engine, spec: &Spec) -> Result<String, RenderFailure> {
    let context = json!({
        "name": spec.name,
        "from_version": spec.from.version,
        "to_version": spec.to.version,
        "tail_bytes": super::gcp::WAR_REPORT_TAIL,
    });
    engine.render("gcp/war-startup.sh", &context)
}
