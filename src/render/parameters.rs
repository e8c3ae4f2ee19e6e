//! Template parameters of one rendering: the values the spec gives, which go into the
//! parameters file, and the ones only the running deployment knows, which `apply` discovers.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Artifacts, Discovered};

#[derive(Debug, Default)]
pub struct Parameters {
    known: BTreeMap<&'static str, String>,
    discovered: Vec<Discovered>,
}

impl Parameters {
    pub fn set(&mut self, key: &'static str, value: impl ToString) {
        self.known.insert(key, value.to_string());
    }

    pub fn discover(&mut self, key: &'static str, from: impl Into<String>) {
        self.discovered.push(Discovered {
            parameter: key,
            from: from.into(),
        });
        self.discovered.sort_by_key(|d| d.parameter);
    }

    /// Names of the discovered parameters, for the templates' metadata.
    pub fn discovered_names(&self) -> Vec<&'static str> {
        self.discovered.iter().map(|d| d.parameter).collect()
    }

    /// The `[{"ParameterKey","ParameterValue"}]` list `aws cloudformation create-stack
    /// --parameters file://…` takes.
    pub fn cloudformation_file(&self) -> String {
        let list: Vec<Value> = self
            .known
            .iter()
            .map(|(k, v)| json!({ "ParameterKey": k, "ParameterValue": v }))
            .collect();
        pretty(&json!(list))
    }

    /// An ARM deploymentParameters (2019-04-01) document.
    pub fn arm_file(&self) -> String {
        let parameters: serde_json::Map<String, Value> = self
            .known
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!({ "value": v })))
            .collect();
        pretty(&json!({
            "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
            "contentVersion": "1.0.0.0",
            "parameters": parameters,
        }))
    }

    /// The artifacts: `files` plus the parameters file under `name` (by `format`).
    pub fn into_artifacts(
        self,
        files: impl IntoIterator<Item = (&'static str, String)>,
        parameters_file: (&'static str, fn(&Parameters) -> String),
    ) -> Artifacts {
        let (name, format) = parameters_file;
        let mut all: BTreeMap<String, String> =
            files.into_iter().map(|(n, t)| (n.to_owned(), t)).collect();
        all.insert(name.to_owned(), format(&self));
        Artifacts {
            files: all,
            discovered: self.discovered,
        }
    }
}

fn pretty(v: &Value) -> String {
    let mut text = serde_json::to_string_pretty(v).unwrap_or_default();
    text.push('\n');
    text
}
