//! Hostile input ends in a clear diagnostic (exit 1), never a panic, a hang or unbounded
//! memory. Each case is generated here rather than checked in (one of them is 50 MB).

mod common;

use common::{diagnostics, run};

/// An example spec from plans/, to edit into a case.
fn example(name: &str) -> String {
    std::fs::read_to_string(common::root().join("plans").join(name)).expect("example")
}

/// `validate --format FORMAT` on `bytes` written to a file called `name`.
fn validate_as(name: &str, bytes: &[u8], format: &str) -> common::Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write case");
    run(
        &[
            "validate",
            "--format",
            format,
            path.to_str().expect("utf-8 path"),
        ],
        None,
    )
}

fn validate_bytes(name: &str, bytes: &[u8]) -> (i32, Vec<(String, u64, u64)>, String) {
    let out = validate_as(name, bytes, "json");
    let diags = diagnostics(&out.stdout);
    (out.code, diags, out.stdout)
}

fn assert_single(name: &str, bytes: &[u8], code: &str) {
    let (exit, diags, raw) = validate_bytes(name, bytes);
    assert_eq!(exit, 1, "{name}: {raw}");
    assert_eq!(diags.len(), 1, "{name}: {raw}");
    assert_eq!(diags[0].0, code, "{name}: {raw}");
}

#[test]
fn billion_laughs_is_stopped_by_the_alias_budget() {
    let mut text = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for w in names.windows(2) {
        let refs = vec![format!("*{}", w[0]); 9].join(",");
        text.push_str(&format!("{}: &{} [{refs}]\n", w[1], w[1]));
    }
    assert_single("bomb.yaml", text.as_bytes(), "spec::limit");
}

#[test]
fn nesting_ten_thousand_deep_is_refused() {
    let flow_seq = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_single("flow-seq.yaml", flow_seq.as_bytes(), "spec::limit");
    let flow_map = format!("{}1{}", "{a: ".repeat(10_000), "}".repeat(10_000));
    assert_single("flow-map.yaml", flow_map.as_bytes(), "spec::limit");
    let block_seq = format!("{}x\n", "- ".repeat(10_000));
    assert_single("block-seq.yaml", block_seq.as_bytes(), "spec::limit");
}

#[test]
fn a_50_mb_file_is_refused_without_reading_it_whole() {
    let mut big = b"version: 1\nname: ".to_vec();
    big.resize(50 * 1024 * 1024, b'x');
    assert_single("big.yaml", &big, "spec::limit");
}

#[test]
fn binary_files_are_not_yaml() {
    // A fixed pseudo-random byte soup (xorshift), so the case is the same on every run.
    let mut x: u32 = 0x9e37_79b9;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect();
    assert_single("random.bin", &bytes, "spec::yaml");
    assert_single("nul.yaml", b"version: 1\0\n", "spec::yaml");
}

#[test]
fn an_empty_file_and_a_list_are_not_specs() {
    let (exit, diags, raw) = validate_bytes("empty.yaml", b"");
    assert_eq!(exit, 1);
    assert_eq!(diags, vec![("spec::invalid_value".into(), 1, 1)], "{raw}");
    assert!(raw.contains("empty"), "{raw}");
    let (exit, diags, raw) = validate_bytes("list.yaml", b"- version: 1\n- name: x\n");
    assert_eq!(exit, 1);
    assert_eq!(diags, vec![("spec::invalid_value".into(), 1, 1)], "{raw}");
    assert!(raw.contains("must be a mapping"), "{raw}");
    let (exit, diags, _) = validate_bytes("comment.yaml", b"# nothing here\n");
    assert_eq!(exit, 1);
    assert_eq!(diags[0].0, "spec::invalid_value");
}

#[test]
fn other_yaml_oddities_are_diagnosed() {
    let (_, diags, raw) = validate_bytes("two-docs.yaml", b"version: 1\n---\nversion: 1\n");
    assert_eq!(diags, vec![("spec::yaml".into(), 2, 1)], "{raw}");
    let (_, diags, raw) = validate_bytes("tag.yaml", b"version: 1\nname: !Ref Foo\n");
    assert_eq!(diags, vec![("spec::yaml".into(), 2, 7)], "{raw}");
    let (_, diags, raw) = validate_bytes("complex-key.yaml", b"? [a, b]\n: 1\n");
    assert_eq!(diags[0].0, "spec::yaml", "{raw}");
    let (_, diags, raw) = validate_bytes("tabs.yaml", b"version: 1\nfrom:\n\tversion: 1\n");
    assert_eq!(diags[0].0, "spec::yaml", "{raw}");
}

#[test]
fn multibyte_text_keeps_columns_in_characters() {
    let text = "version: 1\nname: \"überprüfung\"\ncloud: aws\n";
    let (_, diags, raw) = validate_bytes("utf8.yaml", text.as_bytes());
    assert!(
        diags.contains(&("spec::invalid_value".into(), 2, 7)),
        "{raw}"
    );
    let text = "version: 1\n# ümlaut\ncloud: aws\nnäme: x\n";
    let (_, diags, raw) = validate_bytes("utf8-key.yaml", text.as_bytes());
    assert!(
        diags.contains(&("spec::unknown_field".into(), 4, 1)),
        "{raw}"
    );
}

/// The AWS example with `edit` applied, validated; returns the diagnostics.
fn validate_edited(
    name: &str,
    edit: impl Fn(String) -> String,
) -> (i32, Vec<(String, u64, u64)>, String) {
    let text = example("aws-prod.yaml");
    validate_bytes(name, edit(text).as_bytes())
}

#[test]
fn merge_keys_merge_and_written_keys_win() {
    let (exit, diags, raw) = validate_edited("merge.yaml", |t| {
        t.replace(
            "  pause: { schedules: true, listeners: true, drain_timeout: 10m }\n",
            "  pause:\n    <<: &defaults { schedules: true, listeners: true, drain_timeout: 10m }\n    drain_timeout: 20m\n",
        )
    });
    assert_eq!((exit, diags), (0, vec![]), "{raw}");
    let (_, diags, raw) = validate_edited("merge-bad.yaml", |t| {
        t.replace("  move_address: true\n", "  move_address: true\n  <<: 3\n")
    });
    assert_eq!(diags[0].0, "spec::yaml", "{raw}");
}

#[test]
fn line_endings_and_byte_order_marks_keep_positions() {
    let (_, diags, raw) = validate_edited("crlf.yaml", |t| {
        t.replace("regio", "regoi").replace('\n', "\r\n")
    });
    assert!(
        diags.contains(&("spec::unknown_field".into(), 18, 5)),
        "{raw}"
    );
    let (_, diags, raw) = validate_edited("cr.yaml", |t| {
        t.replace("regio", "regoi").replace('\n', "\r")
    });
    assert!(
        diags.contains(&("spec::unknown_field".into(), 18, 5)),
        "{raw}"
    );
    let (_, diags, raw) = validate_bytes("bom.yaml", "\u{feff}verson: 1\n".as_bytes());
    assert!(
        diags.contains(&("spec::unknown_field".into(), 1, 1)),
        "{raw}"
    );
}

#[test]
fn core_schema_scalars_and_tags_resolve_as_yaml_1_2_says() {
    // 0x1 and 0o1 are the integer 1.
    let (exit, _, raw) =
        validate_edited("hex.yaml", |t| t.replacen("version: 1", "version: 0x1", 1));
    assert_eq!(exit, 0, "{raw}");
    // A float is not the format version, even when tagged.
    let (_, diags, raw) = validate_edited("float.yaml", |t| {
        t.replacen("version: 1", "version: !!float 1", 1)
    });
    assert_eq!(diags[0].0, "spec::invalid_value", "{raw}");
    assert!(raw.contains("found a number"), "{raw}");
    // `!` and the verbatim `!<tag:yaml.org,2002:str>` force strings.
    let (exit, _, raw) = validate_edited("bang.yaml", |t| {
        t.replace("name: prod-eu", "name: ! prod-eu")
            .replace("key_name: ops", "key_name: !<tag:yaml.org,2002:str> ops")
    });
    assert_eq!(exit, 0, "{raw}");
    let (_, diags, raw) = validate_edited("str-bool.yaml", |t| {
        t.replace("move_address: true", "move_address: !!str true")
    });
    assert_eq!(diags[0].0, "spec::invalid_value", "{raw}");
}

#[test]
fn one_run_reports_cross_field_errors_beside_format_errors() {
    let (_, diags, raw) = validate_edited("many.yaml", |t| {
        t.replace("name: prod-eu", "name: Prod_EU")
            .replace("  version: 7.0.1", "  version: 6.4.1")
    });
    let codes: Vec<&str> = diags.iter().map(|d| d.0.as_str()).collect();
    assert_eq!(
        codes,
        ["spec::invalid_value", "spec::version_order"],
        "{raw}"
    );
}

/// A line past miette's column range (65,535) once made every command's human report panic
/// (exit 101). The report now gives the message and the position without an excerpt.
#[test]
fn a_very_long_line_is_reported_without_a_panic_by_every_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("long.yaml");
    let text = example("aws-prod.yaml")
        .replace(
            "      - http: /clover/\n",
            &format!("      - http: /{}\n", "a".repeat(65_600)),
        )
        .replace("  move_address: true\n", "  move_address: true\n  zzz: 1\n");
    std::fs::write(&spec, text).expect("spec");
    let spec = spec.to_str().expect("path");
    let out_dir = dir.path().join("out");
    let out_dir = out_dir.to_str().expect("path");
    let mut commands: Vec<Vec<&str>> = vec![
        vec!["validate", spec],
        vec!["plan", spec],
        vec!["render", spec, "--out", out_dir],
        vec!["diff", spec, spec],
    ];
    if cfg!(feature = "aws") {
        commands.push(vec!["apply", spec, "--dry-run"]);
    }
    for args in commands {
        let out = common::run(&args, None);
        assert_ne!(out.code, 101, "{args:?} panicked: {}", out.stderr);
        assert!(
            out.stderr.contains("unknown field `zzz`") && out.stderr.contains("no excerpt"),
            "{args:?}: {}",
            out.stderr
        );
    }
}

#[test]
fn standard_input_twice_is_a_usage_error() {
    let out = common::run(&["validate", "-", "-"], Some(b"version: 1\n"));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("more than once"), "{}", out.stderr);
}

/// `to.aws:` (or `~`) with nothing under it read as absent, so the spec validated and then
/// could not render. Every cloud, both sides, both spellings are a diagnostic at the block.
#[test]
fn an_empty_cloud_block_is_a_diagnostic_not_a_render_failure() {
    for cloud in ["aws", "azure", "gcp"] {
        let example =
            std::fs::read_to_string(common::root().join(format!("plans/{cloud}-prod.yaml")))
                .expect("example");
        let lines: Vec<&str> = example.lines().collect();
        for side in ["from", "to"] {
            for empty in ["", " ~"] {
                // Replace the side's cloud block (its key line and the indented lines under it).
                let side_at = lines
                    .iter()
                    .position(|l| *l == format!("{side}:"))
                    .expect("side");
                let block_at = side_at
                    + lines[side_at..]
                        .iter()
                        .position(|l| *l == format!("  {cloud}:"))
                        .expect("block");
                let end = block_at
                    + 1
                    + lines[block_at + 1..]
                        .iter()
                        .position(|l| !l.starts_with("    "))
                        .unwrap_or(0);
                let mut edited: Vec<String> =
                    lines[..block_at].iter().map(|l| l.to_string()).collect();
                edited.push(format!("  {cloud}:{empty}"));
                edited.extend(lines[end..].iter().map(|l| l.to_string()));
                let (exit, diags, raw) = validate_bytes("empty.yaml", edited.join("\n").as_bytes());
                assert_eq!(exit, 1, "{cloud} {side} {empty:?}: {raw}");
                assert!(
                    diags
                        .iter()
                        .any(|(code, line, _)| code == "spec::cloud_mismatch"
                            && *line == block_at as u64 + 1),
                    "{cloud} {side} {empty:?}: {raw}"
                );
            }
        }
    }
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_without_being_opened() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("spec.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    // Opening a FIFO with no writer blocks forever: the command must refuse it by its kind.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cloverlift"))
        .args(["validate", fifo.to_str().expect("utf-8 path")])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("validate blocked on a FIFO");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let out = child.wait_with_output().expect("output");
    assert_eq!(status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("FIFO") || stderr.contains("fifo"),
        "{stderr}"
    );
}

/// Spec text in a diagnostic cannot repaint the terminal or forge report lines.
#[test]
fn control_characters_from_the_spec_never_reach_the_terminal() {
    let base = example("aws-prod.yaml");
    let text = base.replacen(
        "\nname: ",
        "\n\"evil\\e[2K\\rplans/ok.yaml:1:1: fine\\u202e\": 1\nname: ",
        1,
    );
    for format in ["human", "short"] {
        let out = validate_as("evil.yaml", text.as_bytes(), format);
        assert_eq!(out.code, 1, "{format}: {}", out.stderr);
        let all = format!("{}{}", out.stdout, out.stderr);
        assert!(all.contains("evil"), "{format}: the key is reported: {all}");
        for bad in ['\u{1b}', '\r', '\u{202e}'] {
            assert!(
                !all.contains(bad),
                "{format}: {bad:?} reached the output: {all:?}"
            );
        }
        assert!(all.contains("\\u{1b}[2K"), "{format}: shown escaped: {all}");
    }
    // JSON carries the exact text, escaped by JSON itself.
    let out = validate_as("evil.yaml", text.as_bytes(), "json");
    assert!(out.stdout.contains("\\u001b[2K"), "{}", out.stdout);
}

#[test]
fn human_output_shows_a_hundred_diagnostics_per_file_and_counts_the_rest() {
    let base = example("aws-prod.yaml");
    let hooks: String = (0..150)
        .map(|i| format!("  - {{name: Bad_{i}, command: [x]}}\n"))
        .collect();
    let text = format!("{base}\nhooks:\n{hooks}");
    let out = validate_as("many.yaml", text.as_bytes(), "short");
    assert_eq!(out.code, 1);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert_eq!(all.matches("error[spec::").count(), 100, "{all}");
    assert!(all.contains("50 more diagnostics not shown"), "{all}");
    let out = validate_as("many.yaml", text.as_bytes(), "json");
    assert_eq!(diagnostics(&out.stdout).len(), 150);
}

/// Findings of the fuzzing issue that validation used to let through.
#[test]
fn values_the_core_schema_or_the_clouds_would_not_take_are_refused() {
    let aws = example("aws-prod.yaml");
    let azure = example("azure-prod.yaml");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "hex with a sign",
            aws.replacen("\nversion: 1\n", "\nversion: 0x+1\n", 1),
            "spec::",
        ),
        (
            "control character in a check path",
            aws.replacen("- http: /clover/\n", "- http: \"/clover/\\e\"\n", 1),
            "spec::invalid_value",
        ),
        (
            "space in a check path",
            aws.replacen("- http: /clover/\n", "- http: /clover/a b\n", 1),
            "spec::invalid_value",
        ),
        (
            "line separator in a tag",
            aws.replacen("team: data-platform", "team: \"a\\u2028b\"", 1),
            "spec::invalid_value",
        ),
        (
            "an RDS snapshot in another region",
            example("aws-existing-snapshots.yaml")
                .replace("arn:aws:rds:us-east-1:", "arn:aws:rds:eu-west-1:"),
            "spec::invalid_id",
        ),
        (
            "garbage subnet name",
            azure.replacen("/subnets/", "/subnets/<script>", 1),
            "spec::invalid_id",
        ),
    ];
    for (what, text, code) in cases {
        assert!(
            text != aws && text != azure,
            "{what}: the case edits the spec"
        );
        let (exit, diags, raw) = validate_bytes("case.yaml", text.as_bytes());
        assert_eq!(exit, 1, "{what}: {raw}");
        assert!(diags.iter().any(|d| d.0.starts_with(code)), "{what}: {raw}");
    }
}

/// Thousands of hooks: each kind of mistake is reported as it is for a handful, with help lines
/// of bounded length (the checks are near-linear; `cargo bench --bench validate` times them).
#[test]
fn thousands_of_hooks_get_the_same_diagnostics_as_a_few() {
    let base = example("aws-prod.yaml");
    let spec = |hooks: String| format!("{base}\nhooks:\n{hooks}");
    let n = 3000;
    // One long cycle, past the one-by-one replay limit: one diagnostic, its path abridged.
    let cycle: String = (0..n)
        .map(|i| {
            format!(
                "  - {{name: h{i}, command: [x], before: [h{}]}}\n",
                (i + n - 1) % n
            )
        })
        .collect();
    let (exit, diags, raw) = validate_bytes("cycle.yaml", spec(cycle).as_bytes());
    assert_eq!(exit, 1);
    assert_eq!(
        diags.iter().filter(|d| d.0 == "spec::cycle").count(),
        1,
        "{raw}"
    );
    assert!(raw.contains("more …"), "a long cycle is abridged");
    // Many small cycles: one diagnostic each.
    let pairs: String = (0..n)
        .map(|i| format!("  - {{name: h{i}, command: [x], after: [h{}]}}\n", i ^ 1))
        .collect();
    let (_, diags, _) = validate_bytes("pairs.yaml", spec(pairs).as_bytes());
    assert_eq!(diags.iter().filter(|d| d.0 == "spec::cycle").count(), n / 2);
    // Unknown names: each reported, and no help line lists thousands of steps.
    let unknown: String = (0..n)
        .map(|i| format!("  - {{name: h{i}, command: [x], after: [nosuch{i}]}}\n"))
        .collect();
    let (_, diags, raw) = validate_bytes("unknown.yaml", spec(unknown).as_bytes());
    assert_eq!(
        diags.iter().filter(|d| d.0 == "spec::unknown_step").count(),
        n
    );
    let longest = raw.lines().map(str::len).max().unwrap_or(0);
    assert!(
        raw.len() < 3_000_000,
        "the report stays small ({} bytes)",
        raw.len()
    );
    assert!(longest > 0);
    // Duplicates: every later one reported.
    let dups: String = (0..n)
        .map(|_| "  - {name: same, command: [x]}\n".to_owned())
        .collect();
    let (_, diags, _) = validate_bytes("dups.yaml", spec(dups).as_bytes());
    assert_eq!(diags.len(), n - 1);
}

#[test]
fn a_tab_in_indentation_is_pointed_at_and_shown() {
    let (exit, diags, raw) = validate_bytes("tab.yaml", b"version: 1\nname: x\n\tcloud: aws\n");
    assert_eq!(exit, 1);
    assert_eq!(diags, vec![("spec::yaml".to_owned(), 3, 1)], "{raw}");
    assert!(raw.contains("a tab in indentation"), "{raw}");
    let out = validate_as("tab.yaml", b"version: 1\nname: x\n\tcloud: aws\n", "human");
    assert!(out.stderr.contains("│ \\tcloud: aws"), "{}", out.stderr);
}

/// Help lines that fit the mistake: hook-only cycles, both duplicates labelled, and the
/// underscore spelling of a step id.
#[test]
fn hook_mistakes_get_help_that_fits_them() {
    let base = example("aws-prod.yaml");
    let check = |hooks: &str, wanted: &[&str]| {
        let text = format!("{base}\nhooks:\n{hooks}");
        let out = validate_as("hooks.yaml", text.as_bytes(), "human");
        assert_eq!(out.code, 1, "{}", out.stderr);
        for w in wanted {
            assert!(out.stderr.contains(w), "{w:?} in {}", out.stderr);
        }
    };
    check(
        "  - {name: a, command: [x], after: [b]}\n  - {name: b, command: [x], after: [a]}\n",
        &["these hooks wait for each other", "b → a → b"],
    );
    check(
        "  - {name: a, command: [x], after: [a]}\n",
        &["cannot wait for itself"],
    );
    check(
        "  - {name: a, command: [x], after: [verify], before: [pause]}\n",
        &["before and after the same step"],
    );
    check(
        "  - {name: same, command: [x]}\n  - {name: same, command: [y]}\n",
        &[
            "first given here",
            "another hook is already named `same`",
            "hooks[1].name",
        ],
    );
    check(
        "  - {name: a, command: [x], before: [move_address]}\n",
        &["did you mean `move-address`?"],
    );
}

/// A literal secret is refused without being echoed: not in its own excerpt, not in the excerpt
/// of another diagnostic on a nearby line, in no format.
#[test]
fn a_literal_secret_never_reaches_the_report() {
    let base = example("aws-hooks.yaml");
    let text = base
        .replace(
            "password: { env: CLOVER_PASSWORD }",
            "password: hunter2-canary",
        )
        .replace(
            "username: clover-admin",
            "username: clover-admin\n    colour: red",
        );
    assert!(text.contains("hunter2-canary") && text.contains("colour"));
    for format in ["human", "short", "json", "sarif"] {
        let out = validate_as("secret.yaml", text.as_bytes(), format);
        assert_eq!(out.code, 1);
        let all = format!("{}{}", out.stdout, out.stderr);
        assert!(all.contains("literal_secret"), "{format}: {all}");
        assert!(!all.contains("hunter2"), "{format} leaks the secret: {all}");
    }
}
