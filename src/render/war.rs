//! The in-place upgrade script, shared by every cloud's war strategy: stop the `clover`
//! service, replace `clover.war` after checking its sha256 (keeping the previous one), start.

use serde_json::json;

use super::RenderFailure;
use super::engine::{Engine, Syntax};
use crate::spec::model::Spec;

/// Where the CloverDX marketplace images keep Tomcat's webapps. The Tomcat major version
/// (9 for 6.x, 10.1 for 7.x) does not change this path, so it is not hard-coded anywhere.
pub const WEBAPPS: &str = "/opt/clover/tomcat/webapps";
/// The systemd service of the CloverDX images.
pub const SERVICE: &str = "clover";
/// The user Tomcat runs as.
pub const OWNER: &str = "clover";

pub fn script(engine: &Engine, spec: &Spec) -> Result<String, RenderFailure> {
    let context = json!({
        "name": spec.name,
        "from_version": spec.from.version,
        "to_version": spec.to.version,
        "webapps": WEBAPPS,
        "service": SERVICE,
        "owner": OWNER,
    });
    engine.render("war/upgrade.sh", Syntax::Shell, &context)
}
