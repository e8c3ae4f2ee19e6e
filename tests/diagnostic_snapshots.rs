//! The graphical diagnostic text (without colour), as users see it in logs: snapshots of a
//! few representative rules. Review changes with `cargo insta review` or by reading the diff.

use cloverlift::diagnostics::report::render_human;
use cloverlift::source::SourceFile;

fn render(fixture: &str) -> String {
    let path = format!("tests/invalid/{fixture}.yaml");
    let text =
        std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).expect("fixture");
    let file = SourceFile::new(path, text);
    let errors = cloverlift::check(&file).expect_err("an invalid fixture");
    errors
        .iter()
        .map(|e| render_human(&file, e, false))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn unknown_field_suggests_the_nearest_key() {
    insta::assert_snapshot!(render("unknown_field"));
}

#[test]
fn duplicate_key_points_at_both_keys() {
    insta::assert_snapshot!(render("duplicate_key"));
}

#[test]
fn cycle_names_the_cycle_at_the_closing_hook() {
    insta::assert_snapshot!(render("cycle"));
}

#[test]
fn version_order_labels_both_versions() {
    insta::assert_snapshot!(render("version_order"));
}

#[test]
fn literal_secret_shows_the_reference_forms() {
    insta::assert_snapshot!(render("literal_secret"));
}
