//! AWS CloudFormation: the new deployment for the architecture strategy, or the SSM document
//! that upgrades clover.war in place for the war strategy; each with its parameters file in the
//! form `aws cloudformation create-stack --parameters file://…` takes.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::engine::Engine;
use super::parameters::Parameters;
use super::{Artifacts, RenderFailure, boot, tags};
use crate::spec::model::{Spec, Strategy, ToAws};

/// The device the CloverDX AMI mounts at /var/clover (CloverDX AWS upgrade guide).
pub const DATA_DEVICE: &str = "/dev/sdf";
/// Ports the CloverDX offering opens besides SSH: HTTP and HTTPS.
pub const WEB_PORTS: [u16; 2] = [80, 443];
/// PostgreSQL, the system database's engine on RDS.
pub const DB_PORT: u16 = 5432;
const PARAMETERS_FILE: (&str, fn(&Parameters) -> String) = (
    "cloudformation.parameters.json",
    Parameters::cloudformation_file,
);
/// How long one run of the war document may take (download, checks, service start).
const WAR_STEP_TIMEOUT_SECS: u64 = 1800;

pub fn render(engine: &Engine, spec: &Spec) -> Result<Artifacts, RenderFailure> {
    match (spec.strategy, &spec.to.aws) {
        (Strategy::Architecture, Some(to)) => architecture(engine, spec, to),
        (Strategy::War, _) => war(engine, spec),
        // Validation guarantees `to.aws` for the architecture strategy on AWS.
        (Strategy::Architecture, None) => Err(RenderFailure::Template {
            name: "aws/cloudformation.yaml".into(),
            message: "the spec has no `to.aws` block".into(),
        }),
    }
}

fn common(spec: &Spec, extra: &BTreeMap<String, String>) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("name".into(), json!(spec.name));
    m.insert("from_version".into(), json!(spec.from.version));
    m.insert("to_version".into(), json!(spec.to.version));
    m.insert(
        "tags".into(),
        json!(tags(
            spec.name.as_str(),
            spec.from.version.as_str(),
            spec.to.version.as_str(),
            extra
        )),
    );
    m
}

fn architecture(engine: &Engine, spec: &Spec, to: &ToAws) -> Result<Artifacts, RenderFailure> {
    let mut p = Parameters::default();
    p.set("ImageId", &to.image_id);
    p.set("InstanceType", &to.instance_type);
    p.set("KeyName", &to.key_name);
    p.set("SubnetId", &to.subnet_id);
    p.set("DBInstanceClass", &to.db_instance_class);
    p.set("NewPublicAddress", "true");
    p.discover(
        "AvailabilityZone",
        "the availability zone of to.aws.subnet_id (ec2:DescribeSubnets)",
    );
    p.discover("VpcId", "the VPC of to.aws.subnet_id (ec2:DescribeSubnets)");
    if let Some(from) = &spec.from.aws {
        p.discover(
            "DBSubnetIds",
            format!(
                "the subnets of the DB subnet group of {} (rds:DescribeDBInstances)",
                from.db_instance
            ),
        );
        p.discover(
            "DataVolumeSize",
            format!("the size of {} (ec2:DescribeVolumes)", from.data_volume),
        );
    }
    match to.multi_az {
        Some(multi_az) => p.set("MultiAZ", multi_az),
        None => p.discover(
            "MultiAZ",
            "the old DB instance's MultiAZ setting (rds:DescribeDBInstances)",
        ),
    }
    let create_group = to.security_group_ids.is_none();
    if create_group {
        match &to.ingress_cidr {
            Some(cidr) => p.set("AllowedCidr", cidr),
            None => p.discover(
                "AllowedCidr",
                "the network the old server's security groups admit on port 443 (ec2:DescribeInstances, ec2:DescribeSecurityGroups)",
            ),
        }
        p.discover("SshCidr", "the CIDR block of the VPC (ec2:DescribeVpcs)");
    }
    match &spec.snapshots {
        Some(s) => {
            p.set("DataSnapshotId", &s.data);
            p.set("DatabaseSnapshot", &s.database);
        }
        None => {
            p.discover(
                "DataSnapshotId",
                "the snapshot taken by the snapshot-data step",
            );
            p.discover(
                "DatabaseSnapshot",
                "the snapshot taken by the snapshot-database step",
            );
        }
    }

    let boot = boot::guard_script(engine, spec, boot::Restore::BeforeVm)?;
    let (boot_before, boot_after) = boot::split_at_marker(&boot);
    let mut context = common(spec, &to.tags);
    let name = spec.name.as_str();
    let describe = format!(
        "CloverDX Server {} next to {} from its snapshots (cloverlift plan {name})",
        spec.to.version, spec.from.version
    );
    let extra = json!({
        "description": describe,
        "discovered": p.discovered_names(),
        "role_description": format!("CloverDX Server {} ({name}): SSM access", spec.to.version),
        "create_security_group": create_group,
        "security_group_ids": to.security_group_ids.clone().unwrap_or_default(),
        "instance_group_description": format!("CloverDX Server {} ({name})", spec.to.version),
        "database_group_description": format!("CloverDX system database ({name}): PostgreSQL from the server"),
        "database_subnet_group_description": format!("CloverDX system database ({name})"),
        "web_ports": WEB_PORTS,
        "db_port": DB_PORT,
        "data_device": DATA_DEVICE,
        "instance_name": format!("{name}-clover"),
        "data_volume_name": format!("{name}-data"),
        "boot_before": boot_before,
        "boot_after": boot_after,
    });
    if let Value::Object(more) = extra {
        context.extend(more);
    }
    let template = engine.render("aws/cloudformation.yaml", &Value::Object(context))?;
    Ok(p.into_artifacts(
        [("cloudformation.yaml", template), (boot::FILE, boot)],
        PARAMETERS_FILE,
    ))
}

fn war(engine: &Engine, spec: &Spec) -> Result<Artifacts, RenderFailure> {
    let script = super::war::script(engine, spec)?;
    let mut p = Parameters::default();
    if let Some(war) = &spec.to.war {
        p.set("WarSha256", &war.sha256);
    }
    let mut context = common(spec, &BTreeMap::new());
    let extra = json!({
        "description": format!(
            "In-place upgrade of CloverDX Server {} to {} (cloverlift plan {})",
            spec.from.version, spec.to.version, spec.name
        ),
        "document_description": format!(
            "cloverlift {}: stop clover, replace clover.war after checking its sha256, start clover",
            spec.name
        ),
        "discovered": p.discovered_names(),
        "timeout_seconds": WAR_STEP_TIMEOUT_SECS,
        "run_command": run_command(&script),
        "url_pattern": WAR_URL_PATTERN,
    });
    if let Value::Object(more) = extra {
        context.extend(more);
    }
    let template = engine.render("aws/war-cloudformation.yaml", &Value::Object(context))?;
    Ok(p.into_artifacts(
        [
            ("cloudformation.yaml", template),
            ("war-upgrade.sh", script),
        ],
        PARAMETERS_FILE,
    ))
}

/// What SSM accepts as `warUrl`: empty (stop, start) or an https URL of RFC 3986 characters,
/// none of which can end the single-quoted word it lands in (no `'`, whitespace or `\`).
pub const WAR_URL_PATTERN: &str = r"^(https://[A-Za-z0-9._~:/?#\[\]@!$&()*+,;=%-]+)?$";

/// The SSM `runCommand` lines. The agent writes them to `_script.sh` without a `#!` line and
/// runs `sh -c _script.sh`, so they are POSIX sh (dash on Ubuntu: no `pipefail`). They write
/// the reviewed script to a temporary file (a quoted here-document, so nothing in it is
/// expanded) and run it with bash and the document's parameters, whose allowed patterns keep
/// them free of quotes and whitespace.
fn run_command(script: &str) -> Vec<String> {
    const END: &str = "CLOVERLIFT_WAR_UPGRADE_SCRIPT";
    let mut lines = vec![
        "set -eu".to_owned(),
        "script=\"$(mktemp /var/tmp/cloverlift-war-upgrade.XXXXXX)\"".to_owned(),
        "trap 'rm -f \"$script\"' EXIT".to_owned(),
        format!("cat > \"$script\" <<'{END}'"),
    ];
    lines.extend(script.lines().map(str::to_owned));
    lines.push(END.to_owned());
    lines.push("bash \"$script\" '{{ action }}' '{{ warUrl }}' '{{ warSha256 }}'".to_owned());
    lines
}

#[cfg(test)]
mod tests {
    use super::run_command;

    #[test]
    fn run_command_embeds_the_script_verbatim() {
        let lines = run_command("echo 'a'\necho \"$b\"");
        assert!(lines.contains(&"echo 'a'".to_owned()));
        assert!(lines.contains(&"echo \"$b\"".to_owned()));
        assert_eq!(lines.last().map(|l| l.starts_with("bash ")), Some(true));
    }
}
