//! `cloverlift validate` end to end: every rule's fixture reports its code at the right line
//! and column, every example is valid, and the output formats and exit codes hold.

mod common;

use common::{diagnostics, rel, run, yaml_files};

/// Each file in tests/invalid starts with `# expect: CODE at LINE:COL; …`.
fn expectations(text: &str) -> Vec<(String, u64, u64)> {
    let header = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# expect: "))
        .expect("an `# expect:` first line");
    header
        .split("; ")
        .map(|item| {
            let (code, pos) = item.split_once(" at ").expect("CODE at LINE:COL");
            let (line, col) = pos.split_once(':').expect("LINE:COL");
            (
                code.to_owned(),
                line.parse().expect("line"),
                col.parse().expect("column"),
            )
        })
        .collect()
}

#[test]
fn every_invalid_fixture_reports_its_codes_at_their_positions() {
    let files = yaml_files("tests/invalid");
    assert!(files.len() >= 20, "the fixtures are missing");
    for path in files {
        let text = std::fs::read_to_string(&path).expect("fixture");
        let want = expectations(&text);
        let out = run(&["validate", "--format", "json", &rel(&path)], None);
        assert_eq!(
            out.code,
            1,
            "{}: exit code; stderr: {}",
            rel(&path),
            out.stderr
        );
        assert_eq!(diagnostics(&out.stdout), want, "{}", rel(&path));
    }
}

#[test]
fn every_code_in_spec_md_has_a_fixture() {
    let mut seen = std::collections::BTreeSet::new();
    for path in yaml_files("tests/invalid") {
        let text = std::fs::read_to_string(&path).expect("fixture");
        for (code, _, _) in expectations(&text) {
            seen.insert(code);
        }
    }
    for code in [
        "spec::yaml",
        "spec::duplicate_key",
        "spec::unknown_field",
        "spec::missing_field",
        "spec::invalid_value",
        "spec::invalid_id",
        "spec::cloud_mismatch",
        "spec::version_order",
        "spec::literal_secret",
        "spec::requires",
        "spec::unknown_step",
        "spec::cycle",
        "spec::unsupported_version",
    ] {
        assert!(seen.contains(code), "no fixture exercises {code}");
    }
}

#[test]
fn every_plan_and_spec_example_is_valid() {
    let mut files = yaml_files("plans");
    assert!(files.len() >= 6, "plans/ lost its examples");
    files.extend(yaml_files("tests/spec_examples"));
    for path in files {
        let out = run(&["validate", "--format", "json", &rel(&path)], None);
        assert_eq!(out.code, 0, "{}: {}", rel(&path), out.stdout);
        assert_eq!(diagnostics(&out.stdout), vec![], "{}", rel(&path));
    }
}

#[test]
fn every_plan_starts_with_the_schema_modeline() {
    for path in yaml_files("plans") {
        let text = std::fs::read_to_string(&path).expect("plan");
        assert!(
            text.starts_with(
                "# yaml-language-server: $schema=../schema/upgrade-spec.schema.json\n"
            ),
            "{} lacks the modeline",
            rel(&path)
        );
    }
}

/// Every YAML line of SPEC.md's examples appears in tests/spec_examples, so the fixtures
/// cannot drift from the contract. Skipped where SPEC.md is not beside the repository.
#[test]
fn spec_examples_follow_spec_md() {
    let spec_md = common::root().join("../shared/SPEC.md");
    let Ok(text) = std::fs::read_to_string(&spec_md) else {
        eprintln!("{} not found; skipping", spec_md.display());
        return;
    };
    let fixtures: Vec<String> = yaml_files("tests/spec_examples")
        .iter()
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .expect("example")
                .lines()
                .map(|l| l.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    let mut in_yaml = false;
    let mut checked = 0;
    for line in text.lines() {
        if line.starts_with("```") {
            in_yaml = line == "```yaml";
            continue;
        }
        let line = line.trim();
        if !in_yaml || line.is_empty() || line.starts_with('#') {
            continue;
        }
        assert!(
            fixtures.iter().any(|f| f == line),
            "SPEC.md line not in tests/spec_examples: {line}"
        );
        checked += 1;
    }
    assert!(checked > 50, "found too few YAML lines in SPEC.md");
}

#[test]
fn json_format_prints_one_line_per_file() {
    let out = run(
        &[
            "validate",
            "--format",
            "json",
            "plans/aws-prod.yaml",
            "tests/invalid/unknown_field.yaml",
        ],
        None,
    );
    assert_eq!(out.code, 1);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2);
    let first: serde_json::Value = serde_json::from_str(lines[0]).expect("json");
    assert_eq!(first["file"], "plans/aws-prod.yaml");
    assert_eq!(first["valid"], true);
    let second: serde_json::Value = serde_json::from_str(lines[1]).expect("json");
    assert_eq!(second["valid"], false);
    let d = &second["diagnostics"][0];
    for key in ["code", "severity", "message", "line", "column", "help"] {
        assert!(d.get(key).is_some(), "diagnostic lacks {key}");
    }
    assert_eq!(d["help"], "did you mean `region`?");
}

#[test]
fn sarif_output_is_a_sarif_2_1_0_log() {
    let out = run(
        &[
            "validate",
            "--format",
            "sarif",
            "tests/invalid/unknown_field.yaml",
            "tests/invalid/cycle.yaml",
        ],
        None,
    );
    assert_eq!(out.code, 1);
    let log: serde_json::Value = serde_json::from_str(&out.stdout).expect("sarif json");
    assert_eq!(log["version"], "2.1.0");
    let run0 = &log["runs"][0];
    assert_eq!(run0["tool"]["driver"]["name"], "cloverlift");
    let results = run0["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    let first = &results[0];
    assert_eq!(first["ruleId"], "spec::unknown_field");
    let region = &first["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 14);
    assert_eq!(region["startColumn"], 5);
    assert_eq!(
        first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "tests/invalid/unknown_field.yaml"
    );
    let rules = run0["tool"]["driver"]["rules"].as_array().expect("rules");
    let index = first["ruleIndex"].as_u64().expect("ruleIndex") as usize;
    assert_eq!(rules[index]["id"], "spec::unknown_field");
}

#[test]
fn exit_codes_follow_spec_md() {
    assert_eq!(run(&["validate", "plans/aws-prod.yaml"], None).code, 0);
    assert_eq!(run(&["validate", "tests/invalid/cycle.yaml"], None).code, 1);
    let missing = run(&["validate", "no/such/spec.yaml"], None);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("no/such/spec.yaml"),
        "{}",
        missing.stderr
    );
    assert_eq!(run(&["validate"], None).code, 2, "no file is a usage error");
    assert_eq!(
        run(
            &["validate", "--format", "xml", "plans/aws-prod.yaml"],
            None
        )
        .code,
        2
    );
    assert_eq!(run(&["frobnicate"], None).code, 2);
    assert_eq!(
        run(&["validate", "plans"], None).code,
        2,
        "a directory is an I/O error"
    );
}

#[test]
fn standard_input_is_read_for_dash() {
    let spec = std::fs::read(common::root().join("plans/gcp-prod.yaml")).expect("plan");
    let out = run(&["validate", "--format", "json", "-"], Some(&spec));
    assert_eq!(out.code, 0, "{}", out.stdout);
    let bad = b"version: 1\nname: x\ncloud: aws\nregoin: 1\n";
    let out = run(&["validate", "--format", "json", "-"], Some(bad));
    assert_eq!(out.code, 1);
    assert!(diagnostics(&out.stdout).contains(&("spec::unknown_field".into(), 4, 1)));
}

#[test]
fn human_output_without_a_terminal_is_plain() {
    let out = run(&["validate", "tests/invalid/unknown_field.yaml"], None);
    assert_eq!(out.code, 1);
    assert!(!out.stderr.contains('\u{1b}'), "ANSI escapes without a tty");
    assert!(out.stderr.contains("spec::unknown_field"));
    assert!(out.stderr.contains("did you mean `region`?"));
    assert!(out.stderr.contains("tests/invalid/unknown_field.yaml:14:5"));
    assert!(
        out.stderr
            .ends_with("tests/invalid/unknown_field.yaml: 1 error\n")
    );
}

#[test]
fn schema_command_matches_the_checked_in_schema() {
    let out = run(&["schema"], None);
    assert_eq!(out.code, 0);
    let checked_in =
        std::fs::read_to_string(common::root().join("schema/upgrade-spec.schema.json"))
            .expect("schema/upgrade-spec.schema.json");
    assert!(
        out.stdout == checked_in,
        "the binary prints schema/upgrade-spec.schema.json as compiled in: rebuild it"
    );
    let schema: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert!(schema["properties"]["from"]["description"].is_string());
}

#[test]
fn explain_knows_every_code() {
    let out = run(&["explain"], None);
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("spec::cycle"));
    let one = run(&["explain", "unknown_field"], None);
    assert_eq!(one.code, 0);
    assert!(one.stdout.starts_with("spec::unknown_field: "));
    assert_eq!(run(&["explain", "spec::nope"], None).code, 2);
}

#[test]
fn version_says_which_build_this_is() {
    let out = run(&["--version"], None);
    assert_eq!(out.code, 0);
    let expected = if cfg!(all(feature = "aws", feature = "azure", feature = "gcp")) {
        "(full build: apply and rollback on AWS, Azure and Google Cloud)"
    } else if cfg!(feature = "aws") {
        "apply and rollback on AWS"
    } else {
        "(render-only build: no apply, no rollback)"
    };
    assert!(out.stdout.contains(expected), "{}", out.stdout);
}

/// `cloverlift schema | head -1`: a reader that stops early ends the command quietly with 0.
#[test]
fn a_closed_pipe_ends_read_only_commands_quietly() {
    for args in [
        &["schema"][..],
        &["explain"][..],
        &["plan", "--format", "json", "plans/aws-prod.yaml"][..],
    ] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cloverlift"))
            .args(args)
            .current_dir(common::root())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        // Close the reading end before the command writes (or while it does).
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(
            out.stderr.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The bash completion script loads in bash and completes subcommands and flags.
#[test]
fn bash_completion_completes_commands_and_flags() {
    let script = run(&["completions", "bash"], None);
    assert_eq!(script.code, 0);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cloverlift.bash");
    std::fs::write(&path, &script.stdout).expect("script");
    let complete = |words: &str, cword: usize| -> String {
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source {}; COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{words}'; \
                 COMP_POINT=${{#COMP_LINE}}; _cloverlift cloverlift; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                path.display()
            ))
            .output()
            .expect("bash");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let commands = complete("cloverlift re", 1);
    assert!(commands.lines().any(|l| l == "render"), "{commands}");
    let flags = complete("cloverlift render --te", 2);
    assert!(flags.lines().any(|l| l == "--templates"), "{flags}");
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let out = run(&["completions", shell], None);
        assert_eq!(out.code, 0, "{shell}");
        assert!(out.stdout.contains("render"), "{shell}");
    }
}

/// The man page is roff that groff formats without a warning, and lists every command.
#[test]
fn the_man_page_formats_cleanly_and_lists_the_commands() {
    let page = run(&["man"], None);
    assert_eq!(page.code, 0);
    let Ok(mut groff) = std::process::Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    else {
        common::missing_outside_ci(
            "CI has groff (man-db needs it)",
            "SKIPPED: groff is not installed",
        );
        return;
    };
    use std::io::Write as _;
    groff
        .stdin
        .take()
        .expect("stdin")
        .write_all(page.stdout.as_bytes())
        .expect("write");
    let out = groff.wait_with_output().expect("groff");
    assert!(out.status.success());
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(warnings.trim().is_empty(), "groff: {warnings}");
    for command in [
        "validate",
        "plan",
        "render",
        "diff",
        "schema",
        "explain",
        "completions",
    ] {
        assert!(page.stdout.contains(command), "{command} in the man page");
    }
}
