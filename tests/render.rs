//! `cloverlift render` and `cloverlift diff` for AWS: golden files, byte-stability, cfn-lint as
//! the oracle, escaping of hostile values, secrets that never reach the output, template
//! overrides. Regenerate the golden files after an intended change with
//! `UPDATE_GOLDEN=1 cargo test --test render`.

mod common;

use std::path::{Path, PathBuf};

use common::{files_in, rel, render_to, root, run};

fn aws_plans() -> Vec<PathBuf> {
    common::plans_for("aws-")
}

fn cfn_lint() -> Option<String> {
    common::oracle("CFN_LINT", "cfn-lint")
}

/// Runs cfn-lint once over all templates; zero errors and zero warnings are required
/// (cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational).
fn assert_lint_clean(templates: &[PathBuf]) {
    let Some(lint) = cfn_lint() else { return };
    let out = std::process::Command::new(lint)
        .args(["--format", "parseable"])
        .args(templates)
        .output()
        .expect("run cfn-lint");
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 8,
        "cfn-lint found problems (exit {code}):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_aws_example_matches_its_golden_files_and_passes_cfn_lint() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut templates = Vec::new();
    let mut stale = Vec::new();
    let plans = aws_plans();
    assert!(plans.len() >= 4, "AWS examples missing");
    for spec in plans {
        let stem = spec
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("stem")
            .to_owned();
        let out_dir = tmp.path().join(&stem);
        let out = render_to(&rel(&spec), &out_dir, &[]);
        assert_eq!(out.code, 0, "{}: {}", rel(&spec), out.stderr);
        let rendered = files_in(&out_dir);
        let names: Vec<&str> = rendered.iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.contains(&"cloudformation.yaml"));
        assert!(names.contains(&"cloudformation.parameters.json"));
        assert!(names.contains(&"plan.json"));
        stale.extend(common::compare_golden(&stem, &rendered));
        templates.push(out_dir.join("cloudformation.yaml"));
    }
    assert!(
        stale.is_empty(),
        "rendered files differ from {stale:?}; if intended, run UPDATE_GOLDEN=1 cargo test --test render"
    );
    assert_lint_clean(&templates);
}

#[test]
fn renders_are_byte_identical() {
    common::assert_renders_identical("aws-", &["native"]);
}

#[test]
fn parameters_file_is_the_create_stack_list_form() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = render_to("plans/aws-existing-snapshots.yaml", tmp.path(), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(tmp.path().join("cloudformation.parameters.json"))
        .expect("parameters");
    let list: Vec<serde_json::Value> = serde_json::from_str(&text).expect("a JSON list");
    let get = |key: &str| {
        list.iter()
            .find(|p| p["ParameterKey"] == key)
            .map(|p| p["ParameterValue"].clone())
    };
    assert_eq!(get("DataSnapshotId"), Some("snap-0fedcba9876543210".into()));
    assert_eq!(
        get("DatabaseSnapshot"),
        Some("arn:aws:rds:us-east-1:123456789012:snapshot:clover-staging-db-nightly".into())
    );
    assert_eq!(get("DBSubnetIds"), None, "apply discovers it");
    for p in &list {
        assert_eq!(p.as_object().map(|o| o.len()), Some(2), "only the two keys");
    }
    assert!(
        out.stderr.contains("DBSubnetIds"),
        "render says what apply discovers"
    );
}

/// A spec whose free-text fields carry YAML indicators, CloudFormation-looking text and
/// unicode within what AWS allows in tags, and quotes, `{{` and `#` in the key pair name.
fn hostile_spec() -> String {
    let base = std::fs::read_to_string(root().join("plans/aws-prod.yaml")).expect("example");
    base.replace(
        "    tags: { team: data-platform, cost-center: \"4711\" }\n",
        concat!(
            "    tags:\n",
            "      \"a: b\": \"- item: x\"\n",
            "      colon: \"Ref: Instance\"\n",
            "      getatt: \"Fn::GetAtt: Instance.PrivateIp\"\n",
            "      at: \"@anchor =x +y /z\"\n",
            "      unicode: \"žluťoučký kůň 北京\"\n",
            "      spaces: \"  leading and trailing  \"\n",
        ),
    )
    .replace("key_name: ops", "key_name: \"ops'\\\"{{x}}: #!Ref\"")
}

fn parse_rendered(path: &Path) -> cloverlift::spec::node::Node {
    let text = std::fs::read_to_string(path).expect("template");
    let file = cloverlift::source::SourceFile::new(path.display().to_string(), text);
    let (tree, errors) = cloverlift::spec::yaml::parse(&file);
    assert!(errors.is_empty(), "rendered YAML parses: {errors:?}");
    tree.expect("a document")
}

fn resource_names(t: &cloverlift::spec::node::Node) -> Vec<String> {
    t.lookup(&["Resources"])
        .and_then(|r| r.as_map())
        .map(|m| m.iter().map(|e| e.key.clone()).collect())
        .unwrap_or_default()
}

/// The value of tag `key` on the instance in a parsed template.
fn instance_tag(tree: &cloverlift::spec::node::Node, key: &str) -> Option<String> {
    let tags = tree.lookup(&["Resources", "Instance", "Properties", "Tags"])?;
    let cloverlift::spec::node::Kind::Seq(items) = &tags.kind else {
        return None;
    };
    items.iter().find_map(|item| {
        let k = item.lookup(&["Key"])?.as_scalar()?;
        if k.text != key {
            return None;
        }
        item.lookup(&["Value"])?.as_scalar().map(|v| v.text.clone())
    })
}

#[test]
fn hostile_values_stay_data_and_add_no_resources() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let spec = tmp.path().join("hostile.yaml");
    std::fs::write(&spec, hostile_spec()).expect("write spec");
    let check = run(
        &[
            "validate",
            "--format",
            "short",
            spec.to_str().expect("path"),
        ],
        None,
    );
    assert_eq!(check.code, 0, "the hostile spec is valid: {}", check.stderr);
    let (hostile, plain) = (tmp.path().join("hostile"), tmp.path().join("plain"));
    assert_eq!(
        render_to(spec.to_str().expect("path"), &hostile, &[]).code,
        0
    );
    assert_eq!(render_to("plans/aws-prod.yaml", &plain, &[]).code, 0);
    let tree = parse_rendered(&hostile.join("cloudformation.yaml"));
    let plain_tree = parse_rendered(&plain.join("cloudformation.yaml"));
    assert_eq!(
        resource_names(&tree),
        resource_names(&plain_tree),
        "no resource added or lost"
    );
    for (key, value) in [
        ("a: b", "- item: x"),
        ("colon", "Ref: Instance"),
        ("getatt", "Fn::GetAtt: Instance.PrivateIp"),
        ("at", "@anchor =x +y /z"),
        ("unicode", "žluťoučký kůň 北京"),
        ("spaces", "  leading and trailing  "),
    ] {
        assert_eq!(
            instance_tag(&tree, key).as_deref(),
            Some(value),
            "tag {key}"
        );
    }
    let params: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(hostile.join("cloudformation.parameters.json")).expect("params"),
    )
    .expect("parameters parse");
    let key_name = params
        .iter()
        .find(|p| p["ParameterKey"] == "KeyName")
        .map(|p| p["ParameterValue"].clone());
    assert_eq!(key_name, Some("ops'\"{{x}}: #!Ref".into()));
    assert_lint_clean(&[hostile.join("cloudformation.yaml")]);
}

/// Escaping does not rely on validation: values that validation refuses (quotes, newlines,
/// handlebars, YAML and CloudFormation syntax, bidi controls) are pushed straight into the
/// renderer and still come out as the same single strings.
#[test]
fn escaping_holds_for_values_validation_would_refuse() {
    let text = std::fs::read_to_string(root().join("plans/aws-prod.yaml")).expect("example");
    let file = cloverlift::source::SourceFile::new("aws-prod.yaml", text);
    let (mut valid, plan) = cloverlift::check(&file).expect("valid example");
    let nasty = [
        ("quote\"s", "it's \"quoted\"\\"),
        ("newline", "line1\nline2: {x}\n- item\r\n"),
        ("handlebars", "{{name}} {{{raw}}} {{> partial}}"),
        (
            "yaml",
            "&anchor *alias !Ref Foo | > # comment: [1, 2] {a: b} ---",
        ),
        ("cfn", "!GetAtt Instance.PrivateIp ${AWS::Region}"),
        ("controls", "bell\u{7} bidi\u{202e} nul\u{0}"),
    ];
    let tags = &mut valid.spec.to.aws.as_mut().expect("aws").tags;
    for (k, v) in nasty {
        tags.insert(k.to_owned(), v.to_owned());
    }
    let artifacts = cloverlift::render::render(&valid, &plan, &Default::default()).expect("render");
    let tmp = tempfile::tempdir().expect("tempdir");
    cloverlift::render::write(&artifacts, tmp.path()).expect("write");
    let tree = parse_rendered(&tmp.path().join("cloudformation.yaml"));
    let baseline = cloverlift::render::render(
        &cloverlift::check(&cloverlift::source::SourceFile::new(
            "aws-prod.yaml",
            std::fs::read_to_string(root().join("plans/aws-prod.yaml")).expect("example"),
        ))
        .expect("valid")
        .0,
        &plan,
        &Default::default(),
    )
    .expect("render");
    let base_dir = tmp.path().join("base");
    cloverlift::render::write(&baseline, &base_dir).expect("write");
    assert_eq!(
        resource_names(&tree),
        resource_names(&parse_rendered(&base_dir.join("cloudformation.yaml")))
    );
    for (k, v) in nasty {
        assert_eq!(instance_tag(&tree, k).as_deref(), Some(v), "tag {k}");
    }
}

#[test]
fn tags_outside_the_aws_character_set_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let spec = tmp.path().join("bad-tag.yaml");
    let text = std::fs::read_to_string(root().join("plans/aws-prod.yaml"))
        .expect("example")
        .replace("team: data-platform", "team: \"it's {{x}}\"");
    std::fs::write(&spec, text).expect("spec");
    let out = run(
        &["validate", "--format", "json", spec.to_str().expect("path")],
        None,
    );
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("spec::invalid_value"), "{}", out.stdout);
}

#[test]
fn secrets_never_reach_rendered_files() {
    const CANARY: &str = "canary-7f3a9c1e-do-not-leak";
    let tmp = tempfile::tempdir().expect("tempdir");
    let license = tmp.path().join("license.lic");
    std::fs::write(&license, CANARY).expect("license");
    let spec_text = std::fs::read_to_string(root().join("plans/aws-prod.yaml"))
        .expect("example")
        .replace(
            "license: { file: licenses/cloverdx-7.lic }",
            &format!("license: {{ file: {} }}", license.display()),
        );
    let spec = tmp.path().join("spec.yaml");
    std::fs::write(&spec, spec_text).expect("spec");
    common::assert_render_keeps_secret(&spec, &tmp.path().join("out"), &[], CANARY);
}

#[test]
fn template_overrides_add_resources_and_unsafe_ones_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let partials = tmp.path().join("templates/aws/partials");
    std::fs::create_dir_all(&partials).expect("dirs");
    std::fs::write(
        partials.join("extra-resources.hbs"),
        concat!(
            "\n  UpgradeTopic:\n",
            "    Type: AWS::SNS::Topic\n",
            "    Properties:\n",
            "      TopicName: {{json name}}\n",
        ),
    )
    .expect("partial");
    let templates = tmp.path().join("templates");
    let out_dir = tmp.path().join("out");
    let out = render_to(
        "plans/aws-prod.yaml",
        &out_dir,
        &["--templates", templates.to_str().expect("path")],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(out_dir.join("cloudformation.yaml")).expect("template");
    assert!(text.contains("  UpgradeTopic:\n    Type: AWS::SNS::Topic\n"));
    assert!(text.contains("TopicName: \"prod-eu\""));
    assert_lint_clean(&[out_dir.join("cloudformation.yaml")]);

    std::fs::write(partials.join("extra-resources.hbs"), "  X: {{{name}}}\n").expect("partial");
    let out = render_to(
        "plans/aws-prod.yaml",
        &tmp.path().join("bad"),
        &["--templates", templates.to_str().expect("path")],
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("render::template"), "{}", out.stderr);
    assert!(out.stderr.contains("turn escaping off"), "{}", out.stderr);
    assert!(out.stderr.contains("resources.hbs:1:6"), "{}", out.stderr);

    // The ampersand form and a whitespace-controlled triple-stash inside a block are the same hole.
    for body in [
        "  X: {{& name}}\n",
        "{{#if name}}  X: {{~{name}~}}\n{{/if}}",
    ] {
        std::fs::write(partials.join("extra-resources.hbs"), body).expect("partial");
        let out = render_to(
            "plans/aws-prod.yaml",
            &tmp.path().join("bad2"),
            &["--templates", templates.to_str().expect("path")],
        );
        assert_eq!(out.code, 2, "{body}: {}", out.stderr);
        assert!(
            out.stderr.contains("turn escaping off"),
            "{body}: {}",
            out.stderr
        );
        assert!(
            !tmp.path().join("bad2").exists(),
            "nothing written for {body}"
        );
    }

    std::fs::write(
        partials.join("extra-resources.hbs"),
        "  X: {{json no_such_value}}\n",
    )
    .expect("partial");
    let out = render_to(
        "plans/aws-prod.yaml",
        &tmp.path().join("strict"),
        &["--templates", templates.to_str().expect("path")],
    );
    assert_eq!(
        out.code, 2,
        "a missing variable is an error, not an empty string"
    );
    assert!(out.stderr.contains("no_such_value"), "{}", out.stderr);
}

#[test]
fn invalid_specs_render_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = render_to("tests/invalid/cycle.yaml", &tmp.path().join("out"), &[]);
    assert_eq!(out.code, 1);
    assert!(
        !tmp.path().join("out").exists(),
        "nothing written for an invalid spec"
    );
}

#[test]
fn war_strategy_renders_the_ssm_document_and_the_script() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = render_to("plans/aws-war.yaml", tmp.path(), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let script = std::fs::read_to_string(tmp.path().join("war-upgrade.sh")).expect("script");
    assert!(script.contains("readonly webapps='/opt/clover/tomcat/webapps'"));
    assert!(script.contains("sha256sum \"$1\""));
    let template = std::fs::read_to_string(tmp.path().join("cloudformation.yaml")).expect("cfn");
    assert!(template.contains("Type: AWS::SSM::Document"));
    // The script inside the document is the reviewed file, line for line.
    for line in script.lines().filter(|l| !l.trim().is_empty()) {
        let literal = serde_json::Value::from(line).to_string();
        assert!(
            template.contains(&literal),
            "script line missing from the document: {line}"
        );
    }
    // `bash -n` parses the script where bash exists.
    if let Ok(status) = std::process::Command::new("bash")
        .arg("-n")
        .arg(tmp.path().join("war-upgrade.sh"))
        .status()
    {
        assert!(status.success(), "war-upgrade.sh does not parse");
    }
}

#[test]
fn template_overrides_that_override_nothing_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let missing = tmp.path().join("no-such-dir");
    let out = render_to(
        "plans/aws-prod.yaml",
        &tmp.path().join("out"),
        &["--templates", missing.to_str().expect("path")],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("--templates names no directory"),
        "{}",
        out.stderr
    );
    // A misspelled partial would silently drop an organisation's extra resources.
    let dir = tmp.path().join("templates/aws/partials");
    std::fs::create_dir_all(&dir).expect("dirs");
    std::fs::write(dir.join("extra-resource.hbs"), "\n  Extra: {}\n").expect("partial");
    let out = render_to(
        "plans/aws-prod.yaml",
        &tmp.path().join("out"),
        &[
            "--templates",
            tmp.path().join("templates").to_str().expect("path"),
        ],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("aws/partials/extra-resource.hbs")
            && out.stderr.contains("aws/partials/extra-resources.hbs"),
        "names the file and the expected names: {}",
        out.stderr
    );
    assert!(!tmp.path().join("out").exists(), "nothing rendered");
}

#[test]
fn diff_shows_changes_per_file_and_gates_on_them() {
    let out = common::diff_against_edit(
        "plans/aws-prod.yaml",
        "instance_type: m6i.xlarge",
        "instance_type: m6i.2xlarge",
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stdout.contains("--- a/cloudformation.parameters.json"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("-    \"ParameterValue\": \"m6i.xlarge\"")
    );
    assert!(
        out.stdout
            .contains("+    \"ParameterValue\": \"m6i.2xlarge\"")
    );
    assert!(
        !out.stdout.contains("a/cloudformation.yaml"),
        "the template itself is unchanged"
    );
    assert!(
        !out.stdout.contains('\u{1b}'),
        "no colour without a terminal"
    );

    let same = run(
        &["diff", "plans/aws-prod.yaml", "plans/aws-prod.yaml"],
        None,
    );
    assert_eq!(same.code, 0);
    assert!(same.stdout.is_empty());

    let bad = run(
        &["diff", "plans/aws-prod.yaml", "tests/invalid/cycle.yaml"],
        None,
    );
    assert_eq!(
        bad.code, 2,
        "an invalid spec is trouble (2), not a difference (1), as GNU diff has it"
    );
    assert!(bad.stderr.contains("spec::cycle"));
}

/// `--out` is a directory; a render never leaves another render's files beside its own.
#[test]
fn out_must_be_a_directory_and_stale_renders_are_refused_or_cleaned() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "mine").expect("file");
    let out = render_to("plans/aws-prod.yaml", &file, &[]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--out names a file"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&file).expect("file"), "mine");

    let dir = tmp.path().join("out");
    assert_eq!(render_to("plans/aws-prod.yaml", &dir, &[]).code, 0);
    std::fs::write(dir.join("notes.txt"), "kept").expect("notes");
    let before = common::files_in(&dir);
    let refused = render_to("plans/gcp-prod.yaml", &dir, &[]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("render::stale"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("cloudformation.yaml"),
        "{}",
        refused.stderr
    );
    assert_eq!(common::files_in(&dir), before, "nothing written or removed");

    let cleaned = render_to("plans/gcp-prod.yaml", &dir, &["--clean"]);
    assert_eq!(cleaned.code, 0, "{}", cleaned.stderr);
    let names: Vec<String> = common::files_in(&dir).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["boot-guard.sh", "main.tf.json", "notes.txt", "plan.json"],
        "the AWS files are gone, other files stay"
    );
    // Rendering the same spec again needs no --clean.
    assert_eq!(render_to("plans/gcp-prod.yaml", &dir, &[]).code, 0);
}

/// Rendering the same spec again rewrites nothing (file times and inodes stay, for make and
/// rsync), says so, and a file someone edited is put back.
#[cfg(unix)]
#[test]
fn a_second_render_of_the_same_spec_leaves_unchanged_files_alone() {
    use std::os::unix::fs::MetadataExt;
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("out");
    let first = render_to("plans/aws-prod.yaml", &dir, &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(first.stderr.contains("wrote "), "{}", first.stderr);
    let inodes = |dir: &Path| -> Vec<(String, u64)> {
        common::files_in(dir)
            .into_iter()
            .map(|(n, _)| {
                let ino = std::fs::metadata(dir.join(&n)).expect("file").ino();
                (n, ino)
            })
            .collect()
    };
    let (files, before) = (common::files_in(&dir), inodes(&dir));

    let again = render_to("plans/aws-prod.yaml", &dir, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(!again.stderr.contains("wrote "), "{}", again.stderr);
    assert_eq!(
        again.stderr.matches("unchanged ").count(),
        files.len(),
        "{}",
        again.stderr
    );
    assert_eq!(inodes(&dir), before, "no file was replaced");

    let edited = dir.join("cloudformation.yaml");
    std::fs::write(&edited, "edited by hand\n").expect("edit");
    let third = render_to("plans/aws-prod.yaml", &dir, &[]);
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert!(
        third
            .stderr
            .contains(&format!("wrote {}", edited.display())),
        "{}",
        third.stderr
    );
    assert_eq!(common::files_in(&dir), files, "the render's text is back");
}

/// `templates export` writes a valid override directory: rendering with it gives the same files.
#[test]
fn exported_templates_render_the_same_files_and_are_never_overwritten() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("templates");
    let out = run(&["templates", "export", dir.to_str().expect("path")], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(dir.join("aws/partials/extra-resources.hbs").is_file());
    for spec in [
        "plans/aws-prod.yaml",
        "plans/azure-prod.yaml",
        "plans/gcp-prod.yaml",
    ] {
        let plain = tmp.path().join("plain");
        let with = tmp.path().join("with");
        let _ = std::fs::remove_dir_all(&plain);
        let _ = std::fs::remove_dir_all(&with);
        assert_eq!(render_to(spec, &plain, &[]).code, 0);
        let overridden = render_to(spec, &with, &["--templates", dir.to_str().expect("path")]);
        assert_eq!(overridden.code, 0, "{spec}: {}", overridden.stderr);
        assert_eq!(common::files_in(&plain), common::files_in(&with), "{spec}");
    }
    let again = run(&["templates", "export", dir.to_str().expect("path")], None);
    assert_eq!(again.code, 2);
    assert!(
        again.stderr.contains("would be overwritten"),
        "{}",
        again.stderr
    );
}

/// A fleet in one process: each spec's files in DIR/<name>/, byte-identical to rendering it
/// alone; two specs with one name, or one invalid spec, write nothing.
#[test]
fn a_fleet_renders_each_spec_as_it_would_alone() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let specs = [
        "plans/aws-prod.yaml",
        "plans/azure-prod.yaml",
        "plans/gcp-prod.yaml",
        "plans/aws-war.yaml",
    ];
    let fleet = tmp.path().join("fleet");
    let mut args = vec!["render"];
    args.extend(specs);
    args.extend(["--out", fleet.to_str().expect("path")]);
    let out = run(&args, None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for spec in specs {
        let alone = tmp.path().join("alone");
        let _ = std::fs::remove_dir_all(&alone);
        assert_eq!(render_to(spec, &alone, &[]).code, 0);
        let text = std::fs::read_to_string(root().join(spec)).expect("spec");
        let name = text
            .lines()
            .find_map(|l| l.strip_prefix("name: "))
            .expect("name")
            .trim();
        assert_eq!(files_in(&fleet.join(name)), files_in(&alone), "{spec}");
    }

    let twice = tmp.path().join("twice");
    let out = run(
        &[
            "render",
            "plans/aws-prod.yaml",
            "plans/aws-prod.yaml",
            "--out",
            twice.to_str().expect("path"),
        ],
        None,
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("are both named"), "{}", out.stderr);
    assert!(!twice.exists(), "nothing written");

    let bad = tmp.path().join("bad");
    let out = run(
        &[
            "render",
            "plans/aws-prod.yaml",
            "tests/invalid/cycle.yaml",
            "--out",
            bad.to_str().expect("path"),
        ],
        None,
    );
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("spec::cycle"));
    assert!(!bad.exists(), "nothing written");
}

/// `plan` with several specs prints each plan exactly as alone, in the order given (JSON: a
/// stream of documents); one invalid spec prints no plan at all.
#[test]
fn a_fleet_plans_each_spec_as_it_would_alone() {
    let specs = [
        "plans/aws-prod.yaml",
        "plans/azure-prod.yaml",
        "plans/gcp-prod.yaml",
    ];
    for format in ["json", "text", "dot"] {
        let mut args = vec!["plan"];
        args.extend(specs);
        args.extend(["--format", format]);
        let fleet = run(&args, None);
        assert_eq!(fleet.code, 0, "{}", fleet.stderr);
        let alone: String = specs
            .iter()
            .map(|s| run(&["plan", s, "--format", format], None).stdout)
            .collect();
        assert_eq!(fleet.stdout, alone, "--format {format}");
    }
    let stream = run(
        &[
            "plan",
            "plans/aws-prod.yaml",
            "plans/azure-prod.yaml",
            "--format",
            "json",
        ],
        None,
    );
    let plans: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&stream.stdout)
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("a JSON stream");
    assert_eq!(plans.len(), 2);

    let out = run(
        &["plan", "plans/aws-prod.yaml", "tests/invalid/cycle.yaml"],
        None,
    );
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("spec::cycle"));
    assert!(out.stdout.is_empty(), "no plan printed: {}", out.stdout);
}

/// `render --clean` and the stale-file check know a name only if it is in `RENDERED_NAMES`:
/// every file any example renders, in any format, must be there.
#[test]
fn every_rendered_file_name_is_known_to_the_stale_check() {
    use cloverlift::render::{OutputFormat, Renderer, out_dir::RENDERED_NAMES};
    let renderer = Renderer::new(&Default::default()).expect("templates");
    for spec in std::fs::read_dir(root().join("plans")).expect("plans") {
        let path = spec.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("spec");
        let file = cloverlift::source::SourceFile::new(path.display().to_string(), text);
        let (valid, plan) = cloverlift::check(&file).expect("valid example");
        for format in [OutputFormat::Native, OutputFormat::DeploymentManager] {
            let Ok(artifacts) = renderer.render_as(&valid, &plan, format) else {
                continue;
            };
            for name in artifacts.files.keys() {
                assert!(
                    RENDERED_NAMES.contains(&name.as_str()),
                    "{name} from {path:?}"
                );
            }
        }
    }
}
