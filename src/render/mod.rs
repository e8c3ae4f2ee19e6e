//! The render stage: a compiled plan becomes reviewable files (templates, parameters, the
//! plan itself). Rendering is pure: the same spec gives the same bytes on every machine.

pub mod aws;
pub mod azure;
pub mod boot;
pub mod engine;
pub mod escape;
pub mod gcp;
pub mod out_dir;
pub mod parameters;
mod pieces;
mod precompiled;
pub mod template_audit;
pub mod template_error;
pub mod war;

use std::collections::BTreeMap;
use std::path::Path;

use crate::plan::Plan;
use crate::spec::load::ValidSpec;
use crate::spec::model::Cloud;
pub use engine::TemplateSource;

/// Rendered files by name, in name order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Artifacts {
    pub files: BTreeMap<String, String>,
    /// Template parameters `render` cannot know and `apply` discovers, with where from.
    pub discovered: Vec<Discovered>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Discovered {
    pub parameter: &'static str,
    pub from: String,
}

/// Why rendering failed.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RenderFailure {
    #[error("template `{name}`: {message}")]
    #[diagnostic(
        code(render::template),
        help("check the template (or your --templates override) at the line given")
    )]
    Template { name: String, message: String },

    #[error("cannot read or write {path}: {message}")]
    #[diagnostic(code(render::io), help("check the path and its permissions"))]
    Io { path: String, message: String },

    #[error("`--format {format}` is for Google Cloud specs; this spec's cloud is {cloud}")]
    #[diagnostic(
        code(render::format),
        help("render {cloud} specs without --format (or with --format native)")
    )]
    FormatOnlyForGcp {
        format: &'static str,
        cloud: &'static str,
    },

    #[error("{dir} holds files of an earlier render that this one does not write: {files}")]
    #[diagnostic(
        code(render::stale),
        help(
            "render into an empty directory, or pass --clean to remove those files (only \
             rendered file names are removed)"
        )
    )]
    Stale { dir: String, files: String },
}

/// What `render` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// Each cloud's own: CloudFormation, ARM, Terraform JSON for Infrastructure Manager.
    #[default]
    Native,
    /// Terraform JSON (`main.tf.json`) for Google Cloud's Infrastructure Manager (the native
    /// Google Cloud format, named).
    Terraform,
    /// A Deployment Manager config (`deployment.yaml`); that service reached end of support on
    /// 2026-03-31, so render warns.
    DeploymentManager,
}

/// What `render` says about `--format deployment-manager`.
pub const DEPLOYMENT_MANAGER_RETIRED: &str = "Deployment Manager reached end of support on 2026-03-31 and can no longer deploy; deployment.yaml is for review or migration only (main.tf.json, the default, deploys with Infrastructure Manager)";

/// Templates parsed once, ready to render any number of plans.
pub struct Renderer {
    engine: engine::Engine,
}

impl Renderer {
    pub fn new(source: &TemplateSource) -> Result<Renderer, RenderFailure> {
        Ok(Renderer {
            engine: engine::Engine::new(source)?,
        })
    }

    /// Compiles every template now, rather than each on first use (benchmarks, and checking
    /// a `--templates` directory whole).
    pub fn compile_all(&self) -> Result<(), RenderFailure> {
        self.engine.compile_all()
    }

    /// Renders every file of the plan, in each cloud's native format.
    pub fn render(&self, valid: &ValidSpec, plan: &Plan) -> Result<Artifacts, RenderFailure> {
        self.render_as(valid, plan, OutputFormat::Native)
    }

    /// Renders every file of the plan in `format`.
    pub fn render_as(
        &self,
        valid: &ValidSpec,
        plan: &Plan,
        format: OutputFormat,
    ) -> Result<Artifacts, RenderFailure> {
        let spec = &valid.spec;
        let mut artifacts = match (spec.cloud, format) {
            (Cloud::Aws, OutputFormat::Native) => aws::render(&self.engine, spec)?,
            (Cloud::Azure, OutputFormat::Native) => azure::render(&self.engine, spec)?,
            (Cloud::Gcp, OutputFormat::Native | OutputFormat::Terraform) => {
                gcp::render(&self.engine, spec, gcp::GcpFormat::Terraform)?
            }
            (Cloud::Gcp, OutputFormat::DeploymentManager) => {
                gcp::render(&self.engine, spec, gcp::GcpFormat::DeploymentManager)?
            }
            (other, OutputFormat::Terraform | OutputFormat::DeploymentManager) => {
                return Err(RenderFailure::FormatOnlyForGcp {
                    format: match format {
                        OutputFormat::Terraform => "terraform",
                        _ => "deployment-manager",
                    },
                    cloud: other.as_str(),
                });
            }
        };
        artifacts.files.insert(
            "plan.json".into(),
            crate::plan::format::json::render(plan, &valid.spec),
        );
        Ok(artifacts)
    }
}

/// Renders every file of the plan (parsing the templates for this one call).
pub fn render(
    valid: &ValidSpec,
    plan: &Plan,
    source: &TemplateSource,
) -> Result<Artifacts, RenderFailure> {
    Renderer::new(source)?.render(valid, plan)
}

/// Writes the artifacts into `dir` (created if needed). Each file is written to a temporary
/// name and renamed, so a reader never sees half a file; a file that already holds exactly
/// its text is left as it is. Gives each file's name and whether it was written.
pub fn write<'a>(
    artifacts: &'a Artifacts,
    dir: &Path,
) -> Result<Vec<(&'a str, bool)>, RenderFailure> {
    let io = |path: &Path, e: std::io::Error| RenderFailure::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    artifacts
        .files
        .iter()
        .map(|(name, text)| {
            let path = dir.join(name);
            crate::output::replace_file_if_changed(&path, text.as_bytes())
                .map(|written| (name.as_str(), written))
                .map_err(|e| io(&path, e))
        })
        .collect()
}

/// The standard tags every new resource carries, then the spec's own, in key order.
pub fn tags(
    name: &str,
    from: &str,
    to: &str,
    extra: &BTreeMap<String, String>,
) -> Vec<serde_json::Value> {
    let mut all: BTreeMap<String, String> = BTreeMap::new();
    all.insert("cloverlift:plan".into(), name.into());
    all.insert("cloverlift:from-version".into(), from.into());
    all.insert("cloverlift:to-version".into(), to.into());
    for (k, v) in extra {
        all.insert(k.clone(), v.clone());
    }
    all.into_iter()
        .map(|(k, v)| serde_json::json!({ "Key": k, "Value": v }))
        .collect()
}
