//! `cloverlift render SPEC --out DIR`: writes the templates, their parameters and the plan.

use std::path::PathBuf;

use super::{Io, exit, load_checked, report_io};
use crate::render::{self, TemplateSource};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The spec file (`-` reads standard input).
    #[arg(value_name = "SPEC")]
    pub file: PathBuf,
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
    let (valid, plan) = match load_checked(&args.file, io) {
        Ok(checked) => checked,
        Err(code) => return code,
    };
    if args.format == render::OutputFormat::DeploymentManager {
        let _ = writeln!(io.err, "warning: {}", render::DEPLOYMENT_MANAGER_RETIRED);
    }
    let source = TemplateSource {
        override_dir: args.templates.clone(),
    };
    let rendered =
        render::Renderer::new(&source).and_then(|r| r.render_as(&valid, &plan, args.format));
    let artifacts = match rendered {
        Ok(a) => a,
        Err(e) => {
            report_io(io, e);
            return exit::USAGE;
        }
    };
    let written = render::out_dir::prepare(&args.out, &artifacts.files, args.clean)
        .and_then(|()| render::write(&artifacts, &args.out));
    if let Err(e) = written {
        report_io(io, e);
        return exit::USAGE;
    }
    for name in artifacts.files.keys() {
        let _ = writeln!(io.err, "wrote {}", args.out.join(name).display());
    }
    if !artifacts.discovered.is_empty() {
        let spec = &valid.spec;
        let applied = cfg!(feature = "aws")
            && spec.cloud == crate::spec::model::Cloud::Aws
            && spec.strategy == crate::spec::model::Strategy::Architecture;
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
    exit::OK
}
