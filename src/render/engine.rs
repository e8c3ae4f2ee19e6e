//! The handlebars set-up shared by every backend: strict mode (a missing variable is an error,
//! not an empty string), escaping for the template's format applied to every value, templates
//! embedded in the binary and overridable from a directory, and no clock, environment or
//! randomness anywhere: the same context renders the same bytes.

use std::path::{Path, PathBuf};

use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason,
};
use serde_json::Value;

use super::RenderFailure;
use super::escape::{json_string, shell_word};

/// The format a template produces, which decides how values are escaped in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// JSON or YAML: values become JSON literals (strings quoted and escaped).
    Json,
    /// POSIX shell: values become single-quoted words.
    Shell,
}

/// A template cloverlift ships, by name (its path under `templates/`, without `.hbs`).
pub struct Embedded {
    pub name: &'static str,
    pub syntax: Syntax,
    pub source: &'static str,
}

/// Every shipped template. Partials (names with `partials/`) are hook points organisations
/// override to add resources or outputs; they ship empty.
pub const TEMPLATES: &[Embedded] = &[
    Embedded {
        name: "aws/cloudformation.yaml",
        syntax: Syntax::Json,
        source: include_str!("../../templates/aws/cloudformation.yaml.hbs"),
    },
    Embedded {
        name: "aws/war-cloudformation.yaml",
        syntax: Syntax::Json,
        source: include_str!("../../templates/aws/war-cloudformation.yaml.hbs"),
    },
    Embedded {
        name: "aws/partials/extra-resources",
        syntax: Syntax::Json,
        source: include_str!("../../templates/aws/partials/extra-resources.hbs"),
    },
    Embedded {
        name: "aws/partials/extra-outputs",
        syntax: Syntax::Json,
        source: include_str!("../../templates/aws/partials/extra-outputs.hbs"),
    },
    Embedded {
        name: "azure/azuredeploy.json",
        syntax: Syntax::Json,
        source: include_str!("../../templates/azure/azuredeploy.json.hbs"),
    },
    Embedded {
        name: "azure/war-runcommand.json",
        syntax: Syntax::Json,
        source: include_str!("../../templates/azure/war-runcommand.json.hbs"),
    },
    Embedded {
        name: "azure/partials/extra-resources",
        syntax: Syntax::Json,
        source: include_str!("../../templates/azure/partials/extra-resources.hbs"),
    },
    Embedded {
        name: "azure/partials/extra-outputs",
        syntax: Syntax::Json,
        source: include_str!("../../templates/azure/partials/extra-outputs.hbs"),
    },
    Embedded {
        name: "gcp/deployment.yaml",
        syntax: Syntax::Json,
        source: include_str!("../../templates/gcp/deployment.yaml.hbs"),
    },
    Embedded {
        name: "gcp/main.tf.json",
        syntax: Syntax::Json,
        source: include_str!("../../templates/gcp/main.tf.json.hbs"),
    },
    Embedded {
        name: "gcp/partials/extra-resources",
        syntax: Syntax::Json,
        source: include_str!("../../templates/gcp/partials/extra-resources.hbs"),
    },
    Embedded {
        name: "gcp/partials/extra-outputs",
        syntax: Syntax::Json,
        source: include_str!("../../templates/gcp/partials/extra-outputs.hbs"),
    },
    Embedded {
        name: "boot/datasource-guard.sh",
        syntax: Syntax::Shell,
        source: include_str!("../../templates/boot/datasource-guard.sh.hbs"),
    },
    Embedded {
        name: "boot/startup-fallback.sh",
        syntax: Syntax::Shell,
        source: include_str!("../../templates/boot/startup-fallback.sh.hbs"),
    },
    Embedded {
        name: "war/upgrade.sh",
        syntax: Syntax::Shell,
        source: include_str!("../../templates/war/upgrade.sh.hbs"),
    },
];

/// Where templates come from: the embedded set, with files of the same name from an
/// override directory taking precedence.
#[derive(Debug, Clone, Default)]
pub struct TemplateSource {
    pub override_dir: Option<PathBuf>,
}

/// Two registries, one per syntax, so that a value can never be escaped for the wrong format.
pub struct Engine {
    json: Handlebars<'static>,
    shell: Handlebars<'static>,
}

impl Engine {
    pub fn new(source: &TemplateSource) -> Result<Engine, RenderFailure> {
        if let Some(dir) = &source.override_dir {
            check_override_dir(dir)?;
        }
        let mut json = registry(json_string);
        let mut shell = registry(shell_word);
        json.register_helper("json", Box::new(json_helper));
        shell.register_helper("sh", Box::new(shell_helper));
        for t in TEMPLATES {
            let text = load(t, source.override_dir.as_deref())?;
            let target = match t.syntax {
                Syntax::Json => &mut json,
                Syntax::Shell => &mut shell,
            };
            target
                .register_template_string(t.name, &text)
                .map_err(|e| RenderFailure::Template {
                    name: t.name.to_owned(),
                    message: e.to_string(),
                })?;
        }
        Ok(Engine { json, shell })
    }

    pub fn render(
        &self,
        name: &str,
        syntax: Syntax,
        context: &Value,
    ) -> Result<String, RenderFailure> {
        let registry = match syntax {
            Syntax::Json => &self.json,
            Syntax::Shell => &self.shell,
        };
        registry
            .render(name, context)
            .map_err(|e| RenderFailure::Template {
                name: name.to_owned(),
                message: describe(&e),
            })
    }
}

fn registry(escape: fn(&str) -> String) -> Handlebars<'static> {
    let mut h = Handlebars::new();
    h.set_strict_mode(true);
    // Bare `{{value}}` is escaped for the template's format too, so forgetting the helper
    // still yields a safe literal rather than raw text.
    h.register_escape_fn(escape);
    h
}

/// A `--templates` directory must exist, and every `.hbs` file in it must override an embedded
/// template: a misspelled partial would otherwise vanish from the output unnoticed.
fn check_override_dir(dir: &Path) -> Result<(), RenderFailure> {
    if !dir.is_dir() {
        return Err(RenderFailure::Io {
            path: dir.display().to_string(),
            message: "--templates names no directory".into(),
        });
    }
    let expected: Vec<String> = TEMPLATES
        .iter()
        .map(|t| format!("{}.hbs", t.name))
        .collect();
    let mut unknown = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| RenderFailure::Io {
            path: d.display().to_string(),
            message: e.to_string(),
        })?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "hbs") {
                let rel = path
                    .strip_prefix(dir)
                    .map(|r| r.to_string_lossy().replace('\\', "/"))
                    .unwrap_or_default();
                if !expected.contains(&rel) {
                    unknown.push(rel);
                }
            }
        }
    }
    if unknown.is_empty() {
        return Ok(());
    }
    unknown.sort();
    Err(RenderFailure::Template {
        name: unknown.join(", "),
        message: format!(
            "in --templates {}: overrides no template; the names are {}",
            dir.display(),
            expected.join(", ")
        ),
    })
}

/// The override file if there is one, else the embedded text. Triple-stash `{{{…}}}`
/// switches escaping off, so it is refused in every template.
fn load(t: &Embedded, dir: Option<&Path>) -> Result<String, RenderFailure> {
    let text = match dir.map(|d| d.join(format!("{}.hbs", t.name))) {
        Some(path) if path.exists() => {
            std::fs::read_to_string(&path).map_err(|e| RenderFailure::Io {
                path: path.display().to_string(),
                message: e.to_string(),
            })?
        }
        _ => t.source.to_owned(),
    };
    if text.contains("{{{") {
        return Err(RenderFailure::Template {
            name: t.name.to_owned(),
            message: "triple-stash `{{{…}}}` turns escaping off; use `{{json value}}` (or \
                      `{{sh value}}` in shell templates)"
                .into(),
        });
    }
    Ok(text)
}

fn describe(e: &RenderError) -> String {
    let mut text = e.to_string();
    if let Some(line) = e.line_no {
        text.push_str(&format!(" (template line {line})"));
    }
    text
}

/// The value of a helper's first parameter; a missing value is an error (strict mode).
fn param<'a>(h: &'a Helper<'_>, helper: &'static str) -> Result<&'a Value, RenderError> {
    let p = h
        .param(0)
        .ok_or(RenderErrorReason::ParamNotFoundForIndex(helper, 0))?;
    if p.is_value_missing() {
        let path = p.relative_path().cloned().unwrap_or_default();
        return Err(RenderErrorReason::MissingVariable(Some(path)).into());
    }
    Ok(p.value())
}

/// `{{json value}}`: the value as a JSON literal (valid YAML flow too). Written straight to
/// the output, so it is not escaped a second time.
fn json_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let value = param(h, "json")?;
    let text = serde_json::to_string(value).map_err(|e| RenderErrorReason::Other(e.to_string()))?;
    out.write(&text)?;
    Ok(())
}

/// `{{sh value}}`: a string (or number) as one single-quoted shell word.
fn shell_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let text = match param(h, "sh")? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => {
            return Err(RenderErrorReason::Other(format!(
                "`sh` takes a string or number, not {other}"
            ))
            .into());
        }
    };
    out.write(&shell_word(&text))?;
    Ok(())
}
