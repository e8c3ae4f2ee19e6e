//! The JSON Schema (draft 2020-12) of the spec format, generated from the model types.

use schemars::generate::SchemaSettings;

/// The schema as a JSON value; `cloverlift schema` prints it and the reader checks against it.
pub fn schema() -> serde_json::Value {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let mut schema = generator.into_root_schema_for::<super::model::Spec>();
    schema.insert(
        "$id".into(),
        "https://cloverlift.dev/schema/upgrade-spec.schema.json".into(),
    );
    schema.to_value()
}

/// The same schema, as checked in at `schema/upgrade-spec.schema.json`, for the reader: parsing
/// it costs a fraction of generating it, which every process that reads a spec would pay. A
/// test (`schema_command_matches_the_checked_in_schema`) keeps the file equal to `schema()`.
pub fn checked_in() -> serde_json::Value {
    const TEXT: &str = include_str!("../../schema/upgrade-spec.schema.json");
    serde_json::from_str(TEXT).unwrap_or_else(|_| schema())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_checked_in_schema_is_the_generated_one() {
        assert_eq!(
            super::checked_in(),
            super::schema(),
            "regenerate it: cargo run -- schema > schema/upgrade-spec.schema.json"
        );
    }
}
