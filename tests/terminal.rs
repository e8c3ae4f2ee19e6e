//! What a person sees on a terminal: the binary runs under a pseudo-terminal (`script` from
//! util-linux), where the progress display is on.

mod common;

/// A multi-line report (here, apply's preflight problems) keeps its lines on a terminal, so
/// it can be read and copied; the SDKs' own warnings stay out of it.
#[cfg(feature = "aws")]
#[test]
fn multi_line_reports_keep_their_lines_on_a_terminal() {
    let have_script = std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_script {
        common::missing_outside_ci(
            "CI has util-linux's script",
            "SKIPPED: no `script` to give the binary a terminal",
        );
        return;
    }
    let command = format!(
        "{} apply plans/aws-prod.yaml --dry-run --endpoint-url http://127.0.0.1:9",
        env!("CARGO_BIN_EXE_cloverlift")
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(common::root())
        .env_remove("RUST_LOG")
        .env_remove("CLOVER_PASSWORD")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script");
    let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    let problems: Vec<&str> = text.lines().filter(|l| l.starts_with("  - ")).collect();
    assert!(
        problems.len() >= 2,
        "each problem on its own line: {text:?}"
    );
    assert!(text.contains("nothing was changed"), "{text}");
    assert!(
        !text.contains("WARN"),
        "no SDK warnings without RUST_LOG: {text}"
    );
}
