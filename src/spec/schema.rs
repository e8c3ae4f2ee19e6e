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
