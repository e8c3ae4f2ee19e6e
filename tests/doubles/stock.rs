//! The stock-CloverDX scenarios every cloud's apply tests run (issue 30): the same behaviour of
//! the CloverDX doubles, each cloud's own world around them.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::super::common::Output;
use super::{
    after_cutover, certificate, clover_writes, configure, edit_spec, items, old_items, post, state,
    stock_refusals, stock_reset, untrust_old,
};

/// What a cloud's test world offers the scenarios.
pub trait World {
    fn old_port(&self) -> u16;
    fn new_port(&self) -> u16;
    /// A spec named `name` for this world (no address move).
    fn spec_named(&self, name: &str) -> PathBuf;
    /// `cloverlift apply SPEC EXTRA…`.
    fn apply(&self, spec: &Path, extra: &[&str]) -> Output;
    /// How many snapshots and backups the cloud holds now.
    fn snapshots(&self) -> usize;
    /// Both CloverDX doubles' items as the world started them.
    fn reset_servers(&self);
    /// What the cloud holds that a run could change, to compare before and after.
    fn cloud_state(&self) -> serde_json::Value;
}

/// A stock old server that the run cannot work with is refused in the preflight, naming the
/// fix, and nothing changes: nothing in the cloud, no import on the old server. Its
/// certificate is self-signed: without `from.server.tls` the refusal names the fingerprint it
/// saw and the field that would trust it.
pub fn a_stock_server_the_run_cannot_use_is_refused_before_any_change(w: &dyn World) {
    let before = w.cloud_state();
    let refused = |name: &str, out: &Output, words: &[&str]| {
        assert_eq!(out.code, 3, "{name}: {}", out.stderr);
        assert!(
            out.stderr
                .contains("nothing was changed: the old server was not paused"),
            "{name}: {}",
            out.stderr
        );
        for word in words {
            assert!(out.stderr.contains(word), "{name}: {word}: {}", out.stderr);
        }
        assert_eq!(w.cloud_state(), before, "{name}");
        assert_eq!(clover_writes(w.old_port()), Vec::<String>::new(), "{name}");
    };
    for (name, config, words) in stock_refusals() {
        configure(w.old_port(), &stock_reset());
        configure(w.old_port(), &config);
        let out = w.apply(&w.spec_named(name), &["--yes"]);
        refused(name, &out, &words);
    }
    configure(w.old_port(), &stock_reset());
    let spec = w.spec_named("untrusted");
    untrust_old(&spec);
    let (_, fingerprint) = certificate(w.old_port());
    let out = w.apply(&spec, &["--yes"]);
    refused(
        "untrusted",
        &out,
        &[
            "TLS handshake",
            fingerprint.as_str(),
            "from.server.tls: { sha256_fingerprint:",
        ],
    );
    assert_eq!(items(&state(w.old_port())), old_items());
}

/// An import whose dry run reports an error is never committed: pause stops before any
/// snapshot, and only dry runs reached the old server. An import the server acknowledges but
/// does not apply is caught by pause's read-back.
pub fn an_import_the_server_refuses_stops_pause_before_any_snapshot(w: &dyn World) {
    let before = w.snapshots();
    configure(
        w.old_port(),
        &json!({ "import_errors": ["schedule Nightly load: the owner etl does not exist"] }),
    );
    let out = w.apply(&w.spec_named("refused-import"), &["--yes"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("dry run refused the import")
            && out.stderr.contains("the owner etl does not exist"),
        "{}",
        out.stderr
    );
    assert_eq!(w.snapshots(), before, "no snapshot was taken");
    assert_eq!(items(&state(w.old_port())), old_items());
    let imports: Vec<String> = state(w.old_port())["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["method"] == "POST")
        .map(|r| r["query"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        !imports.is_empty() && imports.iter().all(|q| q.contains("dryRun=true")),
        "only dry runs reached the server: {imports:?}"
    );

    configure(
        w.old_port(),
        &json!({ "import_errors": [], "import_ignored": true }),
    );
    let out = w.apply(&w.spec_named("ignored-import"), &["--yes"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("still enabled after pause"),
        "{}",
        out.stderr
    );
    assert_eq!(w.snapshots(), before, "no snapshot was taken");
    configure(w.old_port(), &json!({ "import_ignored": false }));
}

/// CloverDX's schema-patch dialog on the new server: with `database_patches: confirm` apply
/// stops at once with what a person must do, and `--resume` goes on after they did; with
/// `auto`, the property the boot guard writes lets the server start on its own (the double
/// reads it; tests/scripts.rs runs the guard that writes it).
pub fn the_schema_patch_dialog_stops_confirm_runs_and_auto_runs_pass_it(w: &dyn World) {
    configure(w.new_port(), &json!({ "patches_needed": true }));
    let spec = w.spec_named("confirm-patches");
    edit_spec(&spec, |t| {
        t.replacen("\nto:\n", "\nto:\n  database_patches: confirm\n", 1)
    });
    let out = w.apply(&spec, &["--yes"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("waits for a person to confirm")
            && out.stderr.contains("backup completed")
            && out.stderr.contains("--resume"),
        "{}",
        out.stderr
    );
    assert_eq!(items(&state(w.old_port())), old_items());
    assert!(state(w.new_port())["license"].is_null());
    post(w.new_port(), "/__test__/confirm");
    let out = w.apply(&spec, &["--yes", "--resume"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(items(&state(w.old_port())), after_cutover());

    w.reset_servers();
    configure(
        w.new_port(),
        &json!({ "patches_confirmed": false,
                 "properties": { "autoapply.sys.db.patches": "7.0.1" } }),
    );
    let out = w.apply(&w.spec_named("auto-patches"), &["--yes"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

/// A new server whose restored database carries the paused items enabled (restored from a
/// point before the pause) is stopped before it is licensed or runs anything.
pub fn a_restore_from_before_the_pause_stops_before_the_new_server_runs(w: &dyn World) {
    configure(
        w.new_port(),
        &json!({ "schedules": [{"description": "Nightly load", "enabled": true},
                               {"description": "Old report", "enabled": false}] }),
    );
    let out = w.apply(&w.spec_named("stale-restore"), &["--yes"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("restored from a point before the pause")
            && out.stderr.contains("Nightly load"),
        "{}",
        out.stderr
    );
    assert!(state(w.new_port())["license"].is_null());
    assert_eq!(items(&state(w.old_port())), old_items());
}
