//! `cloverlift render SPEC… --out DIR`: writes the templates, their parameters and the plan.
//! One spec writes into DIR; several (a fleet) write into DIR/<spec name>/, each exactly as it
//! would be alone, with the templates parsed once for all of them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{Io, exit, report_io};
use crate::plan::Plan;
use crate::render::{self, TemplateSource};
use crate::spec::load::ValidSpec;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The spec files (`-` reads standard input). With several, each spec's files go into
    /// `DIR/<its name>/`.
    #[arg(value_name = "SPEC", required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// Directory to write the files into (created if needed).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Directory of template overrides (`aws/cloudformation.yaml.hbs`, partials, …).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// `native` (CloudFormation, ARM, Terraform JSON for Google Cloud), `terraform` (the same
    /// for Google Cloud) or `deployment-manager` (Google Cloud's retired service, on request).
    #[arg(long, value_enum, default_value = "native")]
    pub format: render::OutputFormat,
    /// Remove rendered files of an earlier render (another cloud or format) from `--out` that
    /// this render does not write; without it, render refuses to leave them beside its own.
    #[arg(long)]
    pub clean: bool,
}

pub fn run(args: &Args, io: &mut Io) -> u8 {
    let checked = match load_all(&args.files, io) {
        Ok(checked) => checked,
        Err(code) => return code,
    };
    if args.format == render::OutputFormat::DeploymentManager {
        let _ = writeln!(io.err, "warning: {}", render::DEPLOYMENT_MANAGER_RETIRED);
    }
    let source = TemplateSource {
        override_dir: args.templates.clone(),
    };
    let renderer = match render::Renderer::new(&source) {
        Ok(r) => r,
        Err(e) => {
            report_io(io, e);
            return exit::USAGE;
        }
    };
    // Everything is rendered before anything is written: a failure leaves no half-written fleet.
    let mut rendered = Vec::with_capacity(checked.len());
    for (valid, plan) in &checked {
        match renderer.render_as(valid, plan, args.format) {
            Ok(a) => rendered.push((valid, a)),
            Err(e) => {
                report_io(io, e);
                return exit::USAGE;
            }
        }
    }
    let fleet = checked.len() > 1;
    for (valid, artifacts) in &rendered {
        let dir = if fleet {
            args.out.join(valid.spec.name.as_str())
        } else {
            args.out.clone()
        };
        let written = render::out_dir::prepare(&dir, &artifacts.files, args.clean)
            .and_then(|()| render::write(artifacts, &dir));
        let written = match written {
            Ok(w) => w,
            Err(e) => {
                report_io(io, e);
                return exit::USAGE;
            }
        };
        for (name, wrote) in written {
            let verb = if wrote { "wrote" } else { "unchanged" };
            let _ = writeln!(io.err, "{verb} {}", dir.join(name).display());
        }
        report_discovered(valid, artifacts, io);
    }
    exit::OK
}

/// Loads, validates and compiles every spec, reporting every problem of every file, and refuses
/// two specs with one name (they would write into the same directory).
fn load_all(files: &[PathBuf], io: &mut Io) -> Result<Vec<(ValidSpec, Plan)>, u8> {
    let checked = super::load_all_checked(files, io)?;
    let mut seen: BTreeMap<&str, &PathBuf> = BTreeMap::new();
    for ((valid, _), path) in checked.iter().zip(files) {
        if let Some(first) = seen.insert(valid.spec.name.as_str(), path) {
            let _ = writeln!(
                io.err,
                "error: {} and {} are both named `{}`; each spec of a fleet renders into \
                 DIR/<name>/, so names must differ",
                first.display(),
                path.display(),
                valid.spec.name
            );
            return Err(exit::USAGE);
        }
    }
    Ok(checked)
}

fn report_discovered(valid: &ValidSpec, artifacts: &render::Artifacts, io: &mut Io) {
    if artifacts.discovered.is_empty() {
        return;
    }
    let spec = &valid.spec;
    let applied = crate::apply::drives(spec);
    let heading = if applied {
        "parameters that `cloverlift apply` discovers:"
    } else {
        "parameters to supply when you deploy (`cloverlift apply` does not drive this cloud and strategy in this build):"
    };
    let _ = writeln!(io.err, "{heading}");
    for d in &artifacts.discovered {
        let _ = writeln!(io.err, "  {}: {}", d.parameter, d.from);
    }
}
