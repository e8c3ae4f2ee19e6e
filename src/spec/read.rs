//! Reads the positioned YAML tree against the JSON Schema generated from the model: every
//! unknown or missing field, wrong type, bad enum value and malformed identifier becomes a
//! diagnostic on the node it is about, all of them in one pass. What passes becomes the JSON
//! value serde builds the typed [`Spec`](super::model::Spec) from.
//!
//! The reader understands exactly the schema shapes schemars emits for our types (objects,
//! arrays, strings, integers, booleans, string enums, externally tagged one-key enums,
//! `Option`'s null alternative, `$ref`) plus our `x-check` keyword; a test walks the whole
//! schema to prove there is no other shape in it.

use serde_json::{Map, Value};

use super::checked::{Family, rule};
use super::node::{Entry, Kind, Node, Span};
use super::schema::Schema;
use crate::diagnostics::SpecError;
use crate::suggest::nearest;

/// The definition whose plain-string form is a `spec::literal_secret`, not a type error.
const SECRET_DEF: &str = "SecretRef";

pub struct Reader<'s> {
    schema: &'s Schema,
    root: &'s Value,
    pub errors: Vec<SpecError>,
}

/// Where in the document a node sits, for messages: `from.aws.region`, `hooks[0].name`.
#[derive(Clone)]
struct Path(String);

impl Path {
    fn root() -> Self {
        Path(String::new())
    }

    fn field(&self, name: &str) -> Path {
        if self.0.is_empty() {
            Path(name.to_owned())
        } else {
            Path(format!("{}.{name}", self.0))
        }
    }

    fn index(&self, i: usize) -> Path {
        Path(format!("{}[{i}]", self.0))
    }

    /// How messages name the mapping at this path.
    fn context(&self) -> String {
        if self.0.is_empty() {
            "the spec".to_owned()
        } else {
            format!("`{}`", self.0)
        }
    }
}

impl<'s> Reader<'s> {
    pub fn new(schema: &'s Schema) -> Self {
        Reader {
            schema,
            root: schema.root(),
            errors: Vec::new(),
        }
    }

    /// Reads the document root. `None` when any error was found.
    pub fn read_document(&mut self, node: &Node) -> Option<Value> {
        let value = self.read(node, self.root, &Path::root());
        if self.errors.is_empty() { value } else { None }
    }

    /// Reads the part of the document at `path` (mapping keys from the root) against its own
    /// schema: `None` when it is absent, or when it has an error of its own. Lets the rules that
    /// need only that part run while another part of the spec is malformed.
    pub fn read_section(&mut self, document: &Node, path: &[&str]) -> Option<Value> {
        let node = document.lookup(path)?;
        let mut schema = self.root;
        let mut at = Path::root();
        for key in path {
            schema = self.object_schema(schema)?.get("properties")?.get(*key)?;
            at = at.field(key);
        }
        let before = self.errors.len();
        let value = self.read(node, schema, &at);
        if self.errors.len() == before {
            value
        } else {
            None
        }
    }

    /// The object schema behind `$ref`s and `Option`'s null alternative.
    fn object_schema(&self, schema: &'s Value) -> Option<&'s Value> {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            return self.object_schema(self.resolve(reference)?.1);
        }
        if let Some(alternatives) = schema.get("anyOf").and_then(Value::as_array) {
            return alternatives
                .iter()
                .find(|a| a.get("type").and_then(Value::as_str) != Some("null"))
                .and_then(|a| self.object_schema(a));
        }
        schema.get("properties").is_some().then_some(schema)
    }

    fn resolve(&self, reference: &str) -> Option<(&'s str, &'s Value)> {
        self.schema.definition(reference.strip_prefix("#/$defs/")?)
    }

    fn read(&mut self, node: &Node, schema: &'s Value, path: &Path) -> Option<Value> {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let Some((name, target)) = self.resolve(reference) else {
                return self.internal(node, &format!("unresolved schema reference {reference}"));
            };
            if name == SECRET_DEF
                && let Kind::Scalar(s) = &node.kind
                && !s.is_null()
            {
                self.errors.push(SpecError::LiteralSecret {
                    context: path.0.clone(),
                    span: node.span.into(),
                    help: "write it as a reference, e.g. `{ env: NAME }`, `{ file: PATH }`, \
                           `{ aws_secret: ARN }`, `{ azure_key_vault: URL }` or \
                           `{ gcp_secret: projects/P/secrets/S/versions/V }`"
                        .into(),
                });
                return None;
            }
            return self.read(node, target, path);
        }
        if let Some(alternatives) = schema.get("anyOf").and_then(Value::as_array) {
            return self.read_nullable(node, alternatives, path);
        }
        if let Some(alternatives) = schema.get("oneOf").and_then(Value::as_array) {
            return self.read_one_of(node, alternatives, path);
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
            let names: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
            return self.read_keyword(node, &names, path);
        }
        let ty = match schema.get("type") {
            Some(Value::String(t)) => t.as_str(),
            // `["array", "null"]`: Option<Vec<_>>. Null means absent; the caller drops it.
            Some(Value::Array(types)) => {
                if is_null(node) && types.iter().any(|t| t == "null") {
                    return Some(Value::Null);
                }
                types
                    .iter()
                    .filter_map(Value::as_str)
                    .find(|t| *t != "null")
                    .unwrap_or("null")
            }
            _ => return self.internal(node, "schema node without a type"),
        };
        match ty {
            "object" => self.read_object(node, schema, path),
            "array" => self.read_array(node, schema, path),
            "string" => self.read_string(node, schema, path),
            "integer" => self.read_integer(node, path),
            "boolean" => self.read_boolean(node, path),
            other => self.internal(node, &format!("unsupported schema type {other}")),
        }
    }

    /// `Option<T>`: `anyOf: [T, {type: null}]`.
    fn read_nullable(
        &mut self,
        node: &Node,
        alternatives: &'s [Value],
        path: &Path,
    ) -> Option<Value> {
        if is_null(node) {
            return Some(Value::Null);
        }
        match alternatives
            .iter()
            .find(|a| a.get("type") != Some(&Value::from("null")))
        {
            Some(inner) => self.read(node, inner, path),
            None => self.internal(node, "anyOf without a non-null alternative"),
        }
    }

    /// `oneOf` is either a string enum (each alternative a `const`) or an externally tagged
    /// enum (each alternative an object with one required property).
    fn read_one_of(
        &mut self,
        node: &Node,
        alternatives: &'s [Value],
        path: &Path,
    ) -> Option<Value> {
        let consts: Vec<&str> = alternatives
            .iter()
            .filter_map(|a| a.get("const").and_then(Value::as_str))
            .collect();
        if consts.len() == alternatives.len() {
            return self.read_keyword(node, &consts, path);
        }
        let tags: Vec<(&'s str, &'s Value)> = alternatives
            .iter()
            .filter_map(|a| {
                let props = a.get("properties")?.as_object()?;
                let (tag, schema) = props.iter().next()?;
                (props.len() == 1).then_some((tag.as_str(), schema))
            })
            .collect();
        if tags.len() != alternatives.len() {
            return self.internal(node, "unsupported oneOf shape");
        }
        let names: Vec<&str> = tags.iter().map(|(t, _)| *t).collect();
        let listed = names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let Some(entries) = node.as_map() else {
            self.errors.push(SpecError::InvalidValue {
                other: None,
                context: path.0.clone(),
                reason: format!(
                    "expected a mapping with one of {listed}, found {}",
                    node.describe()
                ),
                span: node.span.into(),
                help: format!(
                    "write e.g. `{{ {}: … }}`",
                    names.first().copied().unwrap_or("")
                ),
            });
            return None;
        };
        match entries {
            [] => {
                self.errors.push(SpecError::MissingField {
                    field: names.join(" | "),
                    context: path.context(),
                    span: node.span.into(),
                    help: format!("give exactly one of {listed}"),
                });
                None
            }
            [entry] => {
                let Some((tag, schema)) = tags.iter().find(|(t, _)| *t == entry.key) else {
                    self.unknown_field(entry, &names, path);
                    return None;
                };
                let value = self.read(&entry.value, schema, &path.field(tag))?;
                let mut map = Map::new();
                map.insert((*tag).to_owned(), value);
                Some(Value::Object(map))
            }
            [_, second, ..] => {
                self.errors.push(SpecError::InvalidValue {
                    other: None,
                    context: path.0.clone(),
                    reason: "more than one key".into(),
                    span: Span::new(second.key_span.start, node.span.end).into(),
                    help: format!("give exactly one of {listed}"),
                });
                None
            }
        }
    }

    fn read_keyword(&mut self, node: &Node, names: &[&str], path: &Path) -> Option<Value> {
        let text = node
            .as_scalar()
            .filter(|s| !s.is_null())
            .map(|s| s.text.as_str());
        if let Some(text) = text
            && names.contains(&text)
        {
            return Some(Value::from(text));
        }
        let listed = names.join(", ");
        let help = match text.and_then(|t| nearest(t, names.iter().copied())) {
            Some(near) => format!("did you mean `{near}`? expected one of: {listed}"),
            None => format!("expected one of: {listed}"),
        };
        let reason = match text {
            Some(t) => format!("`{t}` is not one of {listed}"),
            None => format!("expected one of {listed}, found {}", node.describe()),
        };
        self.errors.push(SpecError::InvalidValue {
            other: None,
            context: path.0.clone(),
            reason,
            span: node.span.into(),
            help,
        });
        None
    }

    fn read_object(&mut self, node: &Node, schema: &'s Value, path: &Path) -> Option<Value> {
        let Some(entries) = node.as_map() else {
            return self.wrong_type(node, "a mapping", path);
        };
        static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
        let properties = schema
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&EMPTY);
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let additional = schema.get("additionalProperties").filter(|a| a.is_object());
        let mut out = Map::new();
        let mut ok = true;
        for entry in entries {
            let child = path.field(&entry.key);
            let value = if let Some(prop) = properties.get(&entry.key) {
                // An optional field written with no value (`elastic_ip:`) counts as absent.
                if is_null(&entry.value) && !required.contains(&entry.key.as_str()) {
                    continue;
                }
                self.read(&entry.value, prop, &child)
            } else if let Some(values) = additional {
                self.read(&entry.value, values, &child)
            } else {
                let known: Vec<&str> = properties.keys().map(String::as_str).collect();
                self.unknown_field(entry, &known, path);
                None
            };
            match value {
                Some(v) => {
                    out.insert(entry.key.clone(), v);
                }
                None => ok = false,
            }
        }
        let known: Vec<&str> = properties.keys().map(String::as_str).collect();
        // A misspelt key already reported as unknown with "did you mean `field`?" says all
        // there is to say: no second diagnostic for the field it was meant to be.
        let misspelt = |field: &str| {
            additional.is_none()
                && entries.iter().any(|e| {
                    !properties.contains_key(&e.key)
                        && nearest(&e.key, known.iter().copied()) == Some(field)
                })
        };
        for field in required {
            if !entries.iter().any(|e| e.key == field) {
                ok = false;
                if misspelt(field) {
                    continue;
                }
                let description = properties
                    .get(field)
                    .and_then(|p| p.get("description"))
                    .and_then(Value::as_str)
                    .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "));
                let help = match description {
                    Some(d) => format!("add `{field}:` ({})", d.trim_end_matches('.')),
                    None => format!("add `{field}:`"),
                };
                // The mapping starts at its first key; pointing there (not at the whole
                // multi-line mapping) gives a readable label at the mapping's position.
                let span = entries
                    .first()
                    .map_or(node.span, |e| Span::new(node.span.start, e.key_span.end));
                self.errors.push(SpecError::MissingField {
                    field: field.to_owned(),
                    context: path.context(),
                    span: span.into(),
                    help,
                });
            }
        }
        ok.then_some(Value::Object(out))
    }

    fn read_array(&mut self, node: &Node, schema: &'s Value, path: &Path) -> Option<Value> {
        let Kind::Seq(items) = &node.kind else {
            return self.wrong_type(node, "a list", path);
        };
        let Some(item_schema) = schema.get("items") else {
            return self.internal(node, "array schema without items");
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match self.read(item, item_schema, &path.index(i)) {
                Some(v) => out.push(v),
                None => ok = false,
            }
        }
        ok.then_some(Value::Array(out))
    }

    fn read_string(&mut self, node: &Node, schema: &'s Value, path: &Path) -> Option<Value> {
        // Any non-null scalar reads as its text: `database: 1732140000000` is the string the
        // author wrote, whether or not YAML would call it a number.
        let Some(scalar) = node.as_scalar().filter(|s| !s.is_null()) else {
            return self.wrong_type(node, "a string", path);
        };
        if let Some(name) = schema.get("x-check").and_then(Value::as_str) {
            let Some(rule) = rule(name) else {
                return self.internal(node, &format!("no rule named {name}"));
            };
            if let Err(problem) = (rule.check)(&scalar.text) {
                self.errors.push(match rule.family {
                    Family::Id => SpecError::InvalidId {
                        kind: rule.what.to_owned(),
                        value: scalar.text.clone(),
                        reason: problem.reason,
                        span: node.span.into(),
                        help: problem.help,
                    },
                    Family::Value => SpecError::InvalidValue {
                        other: None,
                        context: path.0.clone(),
                        reason: problem.reason,
                        span: node.span.into(),
                        help: problem.help,
                    },
                });
                return None;
            }
        }
        Some(Value::from(scalar.text.as_str()))
    }

    fn read_integer(&mut self, node: &Node, path: &Path) -> Option<Value> {
        match node.as_scalar().and_then(|s| s.as_int()) {
            Some(n) if n >= 0 => Some(Value::from(n)),
            _ => self.wrong_type(node, "a whole number", path),
        }
    }

    fn read_boolean(&mut self, node: &Node, path: &Path) -> Option<Value> {
        match node.as_scalar().and_then(|s| s.as_bool()) {
            Some(b) => Some(Value::from(b)),
            None => self.wrong_type(node, "`true` or `false`", path),
        }
    }

    fn unknown_field(&mut self, entry: &Entry, known: &[&str], path: &Path) {
        let mut sorted = known.to_vec();
        sorted.sort_unstable();
        let help = match nearest(&entry.key, known.iter().copied()) {
            Some(near) => format!("did you mean `{near}`?"),
            None if sorted.is_empty() => "remove this field".to_owned(),
            None => format!("known fields here: {}", sorted.join(", ")),
        };
        self.errors.push(SpecError::UnknownField {
            field: entry.key.clone(),
            context: path.context(),
            span: entry.key_span.into(),
            help,
        });
    }

    fn wrong_type(&mut self, node: &Node, expected: &str, path: &Path) -> Option<Value> {
        let reason = if path.0.is_empty() {
            format!(
                "the spec must be {expected}, but the file holds {}",
                node.describe()
            )
        } else {
            format!("expected {expected}, found {}", node.describe())
        };
        self.errors.push(SpecError::InvalidValue {
            other: None,
            context: path.0.clone(),
            reason,
            span: node.span.into(),
            help: format!("write {expected} here"),
        });
        None
    }

    /// A schema shape this reader does not know: a bug in cloverlift, reported rather than
    /// panicking, and caught by the test that walks the whole schema.
    fn internal(&mut self, node: &Node, what: &str) -> Option<Value> {
        self.errors.push(SpecError::internal(what, node.span));
        None
    }
}

fn is_null(node: &Node) -> bool {
    node.as_scalar().is_some_and(|s| s.is_null())
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::spec::checked::rule;
    use crate::spec::schema::schema;

    /// Walks the whole generated schema and fails on any shape the reader does not handle,
    /// or an `x-check` without a rule: the promise in this module's documentation.
    fn walk(node: &Value, root: &Value, at: &str) {
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            let name = r.strip_prefix("#/$defs/").expect("local $defs reference");
            assert!(root["$defs"].get(name).is_some(), "{at}: unresolved {r}");
            return;
        }
        if let Some(alts) = node.get("anyOf").and_then(Value::as_array) {
            assert_eq!(alts.len(), 2, "{at}: anyOf is only Option's");
            assert!(
                alts.iter().any(|a| a["type"] == "null"),
                "{at}: anyOf without null"
            );
            for a in alts.iter().filter(|a| a["type"] != "null") {
                walk(a, root, at);
            }
            return;
        }
        if let Some(alts) = node.get("oneOf").and_then(Value::as_array) {
            let consts = alts.iter().all(|a| a.get("const").is_some());
            let tagged = alts.iter().all(|a| {
                a["type"] == "object" && a["properties"].as_object().is_some_and(|p| p.len() == 1)
            });
            assert!(consts || tagged, "{at}: unsupported oneOf");
            for a in alts.iter().filter(|_| tagged) {
                for (k, v) in a["properties"].as_object().into_iter().flatten() {
                    walk(v, root, &format!("{at}.{k}"));
                }
            }
            return;
        }
        if node.get("enum").is_some() {
            return;
        }
        let ty = match &node["type"] {
            Value::String(t) => t.clone(),
            Value::Array(ts) => {
                let non_null: Vec<&Value> = ts.iter().filter(|t| *t != "null").collect();
                assert_eq!(non_null.len(), 1, "{at}: one non-null type");
                non_null[0].as_str().unwrap_or_default().to_owned()
            }
            other => panic!("{at}: no type ({other})"),
        };
        match ty.as_str() {
            "object" => {
                for (k, v) in node["properties"].as_object().into_iter().flatten() {
                    walk(v, root, &format!("{at}.{k}"));
                }
                if let Some(extra) = node.get("additionalProperties").filter(|a| a.is_object()) {
                    walk(extra, root, &format!("{at}.*"));
                }
            }
            "array" => walk(&node["items"], root, &format!("{at}[]")),
            "string" => {
                if let Some(check) = node.get("x-check").and_then(Value::as_str) {
                    assert!(rule(check).is_some(), "{at}: no rule {check}");
                }
            }
            "integer" | "boolean" => {}
            other => panic!("{at}: type {other} is not read"),
        }
    }

    #[test]
    fn the_reader_understands_every_shape_in_the_schema() {
        let root = schema();
        walk(&root, &root, "spec");
        for (name, def) in root["$defs"].as_object().expect("$defs") {
            walk(def, &root, name);
        }
    }
}
