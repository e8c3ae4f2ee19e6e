//! The handlebars set-up shared by every backend: strict mode (a missing variable is an error,
//! not an empty string), escaping for the template's format applied to every value, templates
//! embedded in the binary and overridable from a directory, and no clock, environment or
//! randomness anywhere: the same context renders the same bytes.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason, Template,
};
use serde_json::Value;

use super::RenderFailure;
use super::escape::{arm_json_string, arm_value, json_string, shell_word};

/// The format a template produces, which decides how values are escaped in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// JSON or YAML: values become JSON literals (strings quoted and escaped).
    Json,
    /// POSIX shell: values become single-quoted words.
    Shell,
    /// An ARM template: JSON, where a string value starting with `[` would be evaluated as
    /// an expression, so every value's leading `[` is doubled (ARM's literal escape).
    Arm,
}

/// A template cloverlift ships, by name (its path under `templates/`, without `.hbs`).
pub struct Embedded {
    pub name: &'static str,
    pub syntax: Syntax,
    pub source: &'static str,
    /// Of `source`, computed by the compiler: what the ahead-of-time table is matched on.
    pub fingerprint: u64,
}

impl Embedded {
    const fn new(name: &'static str, syntax: Syntax, source: &'static str) -> Embedded {
        Embedded {
            name,
            syntax,
            source,
            fingerprint: super::precompiled::fingerprint(source),
        }
    }
}

/// Every shipped template. Partials (names with `partials/`) are hook points organisations
/// override to add resources or outputs; they ship empty.
pub const TEMPLATES: &[Embedded] = &[
    Embedded::new(
        "aws/cloudformation.yaml",
        Syntax::Json,
        include_str!("../../templates/aws/cloudformation.yaml.hbs"),
    ),
    Embedded::new(
        "aws/war-cloudformation.yaml",
        Syntax::Json,
        include_str!("../../templates/aws/war-cloudformation.yaml.hbs"),
    ),
    Embedded::new(
        "aws/partials/extra-resources",
        Syntax::Json,
        include_str!("../../templates/aws/partials/extra-resources.hbs"),
    ),
    Embedded::new(
        "aws/partials/extra-outputs",
        Syntax::Json,
        include_str!("../../templates/aws/partials/extra-outputs.hbs"),
    ),
    Embedded::new(
        "azure/azuredeploy.json",
        Syntax::Arm,
        include_str!("../../templates/azure/azuredeploy.json.hbs"),
    ),
    Embedded::new(
        "azure/war-runcommand.json",
        Syntax::Arm,
        include_str!("../../templates/azure/war-runcommand.json.hbs"),
    ),
    Embedded::new(
        "azure/partials/extra-resources",
        Syntax::Arm,
        include_str!("../../templates/azure/partials/extra-resources.hbs"),
    ),
    Embedded::new(
        "azure/partials/extra-outputs",
        Syntax::Arm,
        include_str!("../../templates/azure/partials/extra-outputs.hbs"),
    ),
    Embedded::new(
        "gcp/deployment.yaml",
        Syntax::Json,
        include_str!("../../templates/gcp/deployment.yaml.hbs"),
    ),
    Embedded::new(
        "gcp/main.tf.json",
        Syntax::Json,
        include_str!("../../templates/gcp/main.tf.json.hbs"),
    ),
    Embedded::new(
        "gcp/partials/extra-resources",
        Syntax::Json,
        include_str!("../../templates/gcp/partials/extra-resources.hbs"),
    ),
    Embedded::new(
        "gcp/partials/extra-outputs",
        Syntax::Json,
        include_str!("../../templates/gcp/partials/extra-outputs.hbs"),
    ),
    Embedded::new(
        "gcp/war-startup.sh",
        Syntax::Shell,
        include_str!("../../templates/gcp/war-startup.sh.hbs"),
    ),
    Embedded::new(
        "boot/datasource-guard.sh",
        Syntax::Shell,
        include_str!("../../templates/boot/datasource-guard.sh.hbs"),
    ),
    Embedded::new(
        "boot/startup-fallback.sh",
        Syntax::Shell,
        include_str!("../../templates/boot/startup-fallback.sh.hbs"),
    ),
    Embedded::new(
        "war/upgrade.sh",
        Syntax::Shell,
        include_str!("../../templates/war/upgrade.sh.hbs"),
    ),
];

/// Where templates come from: the embedded set, with files of the same name from an
/// override directory taking precedence.
#[derive(Debug, Clone, Default)]
pub struct TemplateSource {
    pub override_dir: Option<PathBuf>,
}

/// Two registries, one per syntax, so that a value can never be escaped for the wrong format.
/// Templates are compiled on first use (with the partials of their directory), so a render
/// parses only what its spec's cloud needs; parsing dominates a single render's cost.
pub struct Engine {
    override_dir: Option<PathBuf>,
    json: Mutex<Handlebars<'static>>,
    shell: Mutex<Handlebars<'static>>,
    arm: Mutex<Handlebars<'static>>,
}

impl Engine {
    pub fn new(source: &TemplateSource) -> Result<Engine, RenderFailure> {
        if let Some(dir) = &source.override_dir {
            check_override_dir(dir)?;
        }
        let mut json = registry(json_string);
        let mut shell = registry(shell_word);
        let mut arm = registry(arm_json_string);
        json.register_helper("json", Box::new(json_helper));
        arm.register_helper("json", Box::new(arm_json_helper));
        arm.register_helper("expression", Box::new(arm_expression_helper));
        shell.register_helper("sh", Box::new(shell_helper));
        Ok(Engine {
            override_dir: source.override_dir.clone(),
            json: Mutex::new(json),
            shell: Mutex::new(shell),
            arm: Mutex::new(arm),
        })
    }

    /// Compiles every template now (what `--templates` checking and benchmarks want).
    pub fn compile_all(&self) -> Result<(), RenderFailure> {
        for t in TEMPLATES {
            self.with_registry(t.name, |_| Ok(()))?;
        }
        Ok(())
    }

    pub fn render(&self, name: &str, context: &Value) -> Result<String, RenderFailure> {
        self.with_registry(name, |registry| {
            registry
                .render(name, context)
                .map_err(|e| describe_render_error(name, self.override_dir.as_deref(), &e, context))
        })
    }

    /// Runs `f` with the registry holding `name` (and the partials next to it) compiled.
    fn with_registry<T>(
        &self,
        name: &str,
        f: impl FnOnce(&Handlebars<'static>) -> Result<T, RenderFailure>,
    ) -> Result<T, RenderFailure> {
        let t = embedded(name)?;
        let lock = match t.syntax {
            Syntax::Json => &self.json,
            Syntax::Shell => &self.shell,
            Syntax::Arm => &self.arm,
        };
        // A poisoned lock means a render panicked; the registry is still usable.
        let mut registry = lock.lock().unwrap_or_else(|p| p.into_inner());
        if !registry.has_template(name) {
            for member in family(t) {
                if !registry.has_template(member.name) {
                    let compiled = compile(member, self.override_dir.as_deref())?;
                    registry.register_template(member.name, compiled);
                }
            }
        }
        f(&registry)
    }
}

/// A template and the partials it may include: those under `<its directory>/partials/`.
fn family(t: &'static Embedded) -> impl Iterator<Item = &'static Embedded> {
    let dir = t.name.rsplit_once('/').map_or("", |(d, _)| d);
    let partials = format!("{dir}/partials/");
    std::iter::once(t).chain(
        TEMPLATES
            .iter()
            .filter(move |p| p.name.starts_with(&partials)),
    )
}

fn embedded(name: &str) -> Result<&'static Embedded, RenderFailure> {
    TEMPLATES
        .iter()
        .find(|t| t.name == name)
        .ok_or_else(|| RenderFailure::Template {
            name: name.to_owned(),
            message: "no such template is shipped".into(),
        })
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

/// The override file if there is one, else the embedded template, compiled and audited. The
/// embedded one comes from the ahead-of-time table (parsed only when its entry is stale); an
/// override is always parsed.
fn compile(t: &Embedded, dir: Option<&Path>) -> Result<Template, RenderFailure> {
    let (origin, overriding) = match dir.map(|d| d.join(format!("{}.hbs", t.name))) {
        Some(path) if path.exists() => {
            let text = std::fs::read_to_string(&path).map_err(|e| RenderFailure::Io {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
            (path.display().to_string(), Some(text))
        }
        _ => (format!("templates/{}.hbs (embedded)", t.name), None),
    };
    let tabled = match overriding {
        None => super::precompiled::template(t.name, t.fingerprint),
        Some(_) => None,
    };
    let template = match tabled {
        Some(template) => template,
        None => super::pieces::compile(overriding.as_deref().unwrap_or(t.source), t.name)
            .map_err(|e| super::template_error::syntax(t.name, &origin, &e))?,
    };
    if let Some((line, column)) = super::template_audit::first_unescaped(&template) {
        return Err(RenderFailure::Template {
            name: t.name.to_owned(),
            message: format!(
                "{origin}:{line}:{column}: `{{{{{{…}}}}}}` and `{{{{& …}}}}` turn escaping off; \
                 use `{{{{json value}}}}` (or `{{{{sh value}}}}` in shell templates)"
            ),
        });
    }
    Ok(template)
}

fn describe_render_error(
    name: &str,
    dir: Option<&Path>,
    e: &RenderError,
    context: &Value,
) -> RenderFailure {
    let file = e.template_name.clone().unwrap_or_else(|| name.to_owned());
    let origin = match dir.map(|d| d.join(format!("{file}.hbs"))) {
        Some(path) if path.exists() => path.display().to_string(),
        _ => format!("templates/{file}.hbs (embedded)"),
    };
    super::template_error::render(&file, &origin, e, context)
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

/// `{{json value}}` in ARM templates: as `json`, with every string (at any depth) escaped so
/// ARM reads it as a literal, never as an expression.
fn arm_json_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let value = arm_value(param(h, "json")?);
    let text =
        serde_json::to_string(&value).map_err(|e| RenderErrorReason::Other(e.to_string()))?;
    out.write(&text)?;
    Ok(())
}

/// `{{expression expressions.x}}`: an ARM expression cloverlift built, written as is. Only
/// values under `expressions` qualify, and only strings that are whole expressions `[…]`, so
/// a template cannot turn a spec value into an expression by mistake.
fn arm_expression_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let from_expressions = h
        .param(0)
        .and_then(|p| p.relative_path())
        .is_some_and(|p| p.starts_with("expressions."));
    if !from_expressions {
        return Err(RenderErrorReason::Other(
            "`expression` writes only values under `expressions`".into(),
        )
        .into());
    }
    let text = match param(h, "expression")? {
        Value::String(s) if s.starts_with('[') && s.ends_with(']') && !s.starts_with("[[") => s,
        other => {
            return Err(RenderErrorReason::Other(format!("not an ARM expression: {other}")).into());
        }
    };
    out.write(&json_string(text))?;
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
