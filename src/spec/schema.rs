//! The JSON Schema (draft 2020-12) of the spec format. It is generated from the model types
//! by schemars in the crate's tests, which keep `schema/upgrade-spec.schema.json` equal to it;
//! the binary carries that file. So no build but the tests compiles schemars and its derive
//! macros (issue 17: they were a tenth of a render-only cold build), and no process pays for
//! generating the schema.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// The checked-in schema, exactly as `cloverlift schema` prints it.
pub const TEXT: &str = include_str!("../../schema/upgrade-spec.schema.json");

/// Path of the checked-in schema, from the crate root.
#[cfg(test)]
const PATH: &str = "schema/upgrade-spec.schema.json";

/// The schema generated from the model types, as a JSON value.
#[cfg(test)]
pub fn schema() -> Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let mut schema = generator.into_root_schema_for::<super::model::Spec>();
    schema.insert(
        "$id".into(),
        "https://cloverlift.dev/schema/upgrade-spec.schema.json".into(),
    );
    schema.to_value()
}

/// The schema as the reader walks it: the root, and the definitions (`$defs`), each parsed
/// from the checked-in text the first time the reader follows a `$ref` to it. A spec reads
/// only its own cloud's definitions, so the others are never parsed; parsing the whole schema
/// was a quarter of a `render` process.
pub struct Schema {
    root: Value,
    definitions: BTreeMap<String, Definition>,
}

enum Definition {
    Text(&'static RawValue, OnceLock<Option<Value>>),
    Parsed(Value),
}

impl Schema {
    /// The schema checked in at `schema/upgrade-spec.schema.json`. A test
    /// (`the_checked_in_schema_is_the_generated_one`) keeps the file equal to the schema the
    /// model types generate, and another that it splits.
    pub fn checked_in() -> Schema {
        Schema::split(TEXT).unwrap_or_else(|| {
            // Unreachable while the tests pass: the text is compiled in, not read at run time.
            Schema::whole(serde_json::from_str(TEXT).unwrap_or_default())
        })
    }

    /// The root parsed, the definitions only delimited.
    fn split(text: &'static str) -> Option<Schema> {
        let Split { root, definitions } = serde_json::from_str(text).ok()?;
        Some(Schema {
            root: Value::Object(root),
            definitions: definitions
                .into_iter()
                .map(|(name, text)| (name.to_owned(), Definition::Text(text, OnceLock::new())))
                .collect(),
        })
    }

    /// A schema value with its definitions parsed already.
    pub fn whole(mut value: Value) -> Schema {
        let definitions = match value.as_object_mut().and_then(|o| o.remove("$defs")) {
            Some(Value::Object(defs)) => defs
                .into_iter()
                .map(|(name, def)| (name, Definition::Parsed(def)))
                .collect(),
            _ => BTreeMap::new(),
        };
        Schema {
            root: value,
            definitions,
        }
    }

    pub fn root(&self) -> &Value {
        &self.root
    }

    /// The definition `name` (of `#/$defs/name`), with its name as the schema spells it.
    pub fn definition(&self, name: &str) -> Option<(&str, &Value)> {
        let (name, def) = self.definitions.get_key_value(name)?;
        let value = match def {
            Definition::Parsed(v) => v,
            Definition::Text(text, parsed) => parsed
                .get_or_init(|| serde_json::from_str(text.get()).ok())
                .as_ref()?,
        };
        Some((name.as_str(), value))
    }
}

/// The checked-in schema read in one pass: every member but `$defs` parsed, the definitions
/// only delimited (`RawValue` checks their syntax and borrows their text).
struct Split {
    root: Map<String, Value>,
    definitions: Vec<(&'static str, &'static RawValue)>,
}

impl<'de: 'static> serde::Deserialize<'de> for Split {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(SplitVisitor)
    }
}

struct SplitVisitor;

impl<'de: 'static> serde::de::Visitor<'de> for SplitVisitor {
    type Value = Split;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON Schema object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Split, A::Error> {
        let mut split = Split {
            root: Map::new(),
            definitions: Vec::new(),
        };
        while let Some(key) = map.next_key::<&str>()? {
            if key == "$defs" {
                split.definitions = map
                    .next_value::<BTreeMap<&str, &RawValue>>()?
                    .into_iter()
                    .collect();
            } else {
                split.root.insert(key.to_owned(), map.next_value()?);
            }
        }
        Ok(split)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checked-in text, with every definition parsed.
    fn checked_in_value() -> Value {
        let schema = Schema::checked_in();
        let mut value = schema.root().clone();
        let defs: Map<String, Value> = schema
            .definitions
            .keys()
            .map(|name| {
                let (_, def) = schema.definition(name).expect("parses");
                (name.clone(), def.clone())
            })
            .collect();
        value["$defs"] = Value::Object(defs);
        value
    }

    /// The file is the generated schema as `serde_json`'s pretty printer writes it, so that
    /// `cloverlift schema` (which prints the file) prints what generating it would.
    #[test]
    fn the_checked_in_schema_is_the_generated_one() {
        let generated = serde_json::to_string_pretty(&schema()).expect("serializes") + "\n";
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(PATH);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, &generated).expect("write the schema");
        }
        assert!(
            std::fs::read_to_string(&path).unwrap_or_default() == generated,
            "{PATH} is stale: regenerate it with UPDATE_GOLDEN=1 cargo test --lib schema"
        );
        assert!(
            Schema::split(TEXT).is_some(),
            "the checked-in schema splits"
        );
        assert_eq!(checked_in_value(), schema());
    }

    #[test]
    fn a_definition_is_parsed_on_first_use_only() {
        let schema = Schema::checked_in();
        let parsed = |s: &Schema| {
            s.definitions
                .values()
                .filter(|d| matches!(d, Definition::Text(_, once) if once.get().is_some()))
                .count()
        };
        assert_eq!(parsed(&schema), 0);
        let (name, def) = schema.definition("ToAws").expect("ToAws");
        assert_eq!(name, "ToAws");
        assert!(def.get("properties").is_some());
        assert_eq!(parsed(&schema), 1);
        assert!(schema.definition("NoSuchDefinition").is_none());
    }

    #[test]
    fn a_schema_value_splits_the_same_way() {
        let schema = Schema::whole(schema());
        assert!(schema.root().get("$defs").is_none());
        assert!(schema.definition("ToAws").is_some());
    }
}
