//! AWS's part of the preflight: the credentials, then every resource the spec names, in the
//! state the run needs, with read-only calls. Each problem names the spec field to fix.

use super::network::{self, Admits, Ipv4Net};
use super::{AwsProvider, describe_error};
use crate::apply::preflight::Report;
use crate::spec::model::{FromAws, ToAws};

impl AwsProvider {
    pub(super) async fn preflight(&self) -> Report {
        let mut report = Report::default();
        if !self.credentials(&mut report).await {
            // Every other call would fail the same way.
            return report;
        }
        let Ok(from) = self.from() else {
            report.problem("the spec has no from.aws block");
            return report;
        };
        self.old_instance(from, &mut report).await;
        self.old_volume(from, &mut report).await;
        self.old_database(from, self.spec.to.aws.as_ref(), &mut report)
            .await;
        if self.spec.steps.move_address {
            self.old_address(from, &mut report).await;
        }
        self.given_snapshots(&mut report).await;
        if let Some(to) = &self.spec.to.aws {
            self.new_placement(to, &mut report).await;
            self.new_ingress(to, &mut report).await;
        }
        report
    }

    /// A security group the template creates admits on 80/443 what the old server's groups
    /// admit on 443; that must be one network, or the spec must name it.
    async fn new_ingress(&self, to: &ToAws, report: &mut Report) {
        if to.security_group_ids.is_some() || to.ingress_cidr.is_some() {
            return;
        }
        match self.old_server_groups().await {
            Ok(groups) => match network::https_network(&groups) {
                Ok(cidr) => report.ok(format!(
                    "the new server's group will admit {cidr} on 80 and 443, as the old server's does on 443"
                )),
                Err(e) => report.problem(e),
            },
            Err(e) => report.problem(format!("the old server's security groups: {e}")),
        }
    }

    async fn credentials(&self, report: &mut Report) -> bool {
        match self.sts.get_caller_identity().send().await {
            Ok(who) => {
                report.ok(format!(
                    "AWS credentials: {} (account {})",
                    who.arn().unwrap_or("?"),
                    who.account().unwrap_or("?")
                ));
                true
            }
            Err(e) => {
                report.problem(format!(
                    "AWS credentials do not work (sts:GetCallerIdentity: {}); set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or log in with `aws sso login`",
                    describe_error(&e)
                ));
                false
            }
        }
    }

    async fn old_instance(&self, from: &FromAws, report: &mut Report) {
        let id = from.instance_id.as_str();
        match self.ec2.describe_instances(&[id]).await {
            Ok(out) => {
                let state = out.into_iter().find_map(|i| i.state);
                match state.as_deref() {
                    Some("running") => report.ok(format!("from.aws.instance_id {id} runs")),
                    Some(other) => report.problem(format!(
                        "from.aws.instance_id {id} is {other}, not running: the old server must run to be paused and resumed"
                    )),
                    None => report.problem(format!("from.aws.instance_id {id}: no such instance")),
                }
            }
            Err(e) => report.problem(not_found(
                "from.aws.instance_id",
                id,
                "ec2:DescribeInstances",
                &e,
            )),
        }
    }

    async fn old_volume(&self, from: &FromAws, report: &mut Report) {
        let id = from.data_volume.as_str();
        match self.ec2.describe_volumes(&[id]).await {
            Ok(out) => {
                let attached = out
                    .iter()
                    .flat_map(|v| &v.attached_to)
                    .any(|i| i == from.instance_id.as_str());
                if attached {
                    report.ok(format!(
                        "from.aws.data_volume {id} is attached to {}",
                        from.instance_id
                    ));
                } else if out.is_empty() {
                    report.problem(format!("from.aws.data_volume {id}: no such volume"));
                } else {
                    report.problem(format!(
                        "from.aws.data_volume {id} is not attached to {}: name the old server's data disk (/dev/sdf)",
                        from.instance_id
                    ));
                }
            }
            Err(e) => report.problem(not_found(
                "from.aws.data_volume",
                id,
                "ec2:DescribeVolumes",
                &e,
            )),
        }
    }

    /// The old database exists and is available, and nothing it admits reaches it from the new
    /// server: neither the new server's security groups nor a network overlapping its subnet.
    /// The boot guard is the first wall between the new server and the old database, this is
    /// the second; a spec accepts a missing one only with `to.aws.accept_old_database_reachable`.
    async fn old_database(&self, from: &FromAws, to: Option<&ToAws>, report: &mut Report) {
        let id = from.db_instance.as_str();
        let out = match self
            .rds
            .describe_db_instances()
            .db_instance_identifier(id)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                report.problem(not_found(
                    "from.aws.db_instance",
                    id,
                    "rds:DescribeDBInstances",
                    &e,
                ));
                return;
            }
        };
        let Some(db) = out.db_instances().first() else {
            report.problem(format!("from.aws.db_instance {id}: no such DB instance"));
            return;
        };
        match db.db_instance_status() {
            Some("available") => report.ok(format!("from.aws.db_instance {id} is available")),
            status => report.problem(format!(
                "from.aws.db_instance {id} is {}, not available: a snapshot needs an available instance",
                status.unwrap_or("in an unknown state")
            )),
        }
        let Some(to) = to else { return };
        let port = db.endpoint().and_then(|e| e.port()).unwrap_or(5432);
        let group_ids: Vec<String> = db
            .vpc_security_groups()
            .iter()
            .filter_map(|g| g.vpc_security_group_id().map(str::to_owned))
            .collect();
        let groups = match self.security_groups(group_ids).await {
            Ok(g) => g,
            Err(e) => {
                report.problem(format!("the old database's security groups: {e}"));
                return;
            }
        };
        let admitted = network::admitted(&groups, port);
        for a in &admitted {
            if let Admits::Group { source, .. } = a
                && to
                    .security_group_ids
                    .iter()
                    .flatten()
                    .any(|g| g.as_str() == source)
            {
                report.problem(format!(
                    "to.aws.security_group_ids names {source}, which the old system database {id} admits on port {port} ({a}): the new server could reach the old database; give it groups the old database does not admit, or leave security_group_ids out so the template creates its own"
                ));
            }
        }
        let subnet = self.subnet_cidr(to).await;
        for a in &admitted {
            if let (Admits::Cidr { cidr, .. }, Some(subnet)) = (a, subnet)
                && Ipv4Net::parse(cidr).is_some_and(|net| net.overlaps(subnet))
            {
                let what = format!(
                    "the old system database {id} admits the new server's subnet {} on port {port} ({a})",
                    to.subnet_id
                );
                if to.accept_old_database_reachable {
                    report.warn(format!(
                        "{what}; accepted by to.aws.accept_old_database_reachable: only the boot guard keeps the new server off it"
                    ));
                } else {
                    report.problem(format!(
                        "{what}: the network would not stop the new server from reaching the old database, only the boot guard would. Put the new server in a subnet that rule does not cover (to.aws.subnet_id), or narrow the rule to the old server's own group; to accept one wall instead of two, set to.aws.accept_old_database_reachable: true"
                    ));
                }
            }
        }
    }

    async fn subnet_cidr(&self, to: &ToAws) -> Option<Ipv4Net> {
        let out = self
            .ec2
            .describe_subnets(&[to.subnet_id.as_str()])
            .await
            .ok()?;
        out.first()
            .and_then(|s| s.cidr.as_deref())
            .and_then(Ipv4Net::parse)
    }

    async fn old_address(&self, from: &FromAws, report: &mut Report) {
        let Some(allocation) = &from.elastic_ip else {
            return;
        };
        let id = allocation.as_str();
        match self.ec2.describe_addresses(&[id]).await {
            Ok(out) if !out.is_empty() => {
                report.ok(format!("from.aws.elastic_ip {id} exists"));
            }
            Ok(_) => report.problem(format!("from.aws.elastic_ip {id}: no such address")),
            Err(e) => report.problem(not_found(
                "from.aws.elastic_ip",
                id,
                "ec2:DescribeAddresses",
                &e,
            )),
        }
    }

    /// Snapshots the spec names must be usable: deploy creates the new volume and database
    /// from them.
    async fn given_snapshots(&self, report: &mut Report) {
        let Some(s) = &self.spec.snapshots else {
            return;
        };
        match self.ec2.describe_snapshots(&[s.data.as_str()]).await {
            Ok(out) => match out.first().and_then(|x| x.state.as_deref()) {
                Some("completed") => {
                    report.ok(format!("snapshots.data {} is completed", s.data));
                }
                Some(state) => report.problem(format!(
                    "snapshots.data {} is {state}, not completed",
                    s.data
                )),
                None => report.problem(format!("snapshots.data {}: no such snapshot", s.data)),
            },
            Err(e) => report.problem(not_found(
                "snapshots.data",
                &s.data,
                "ec2:DescribeSnapshots",
                &e,
            )),
        }
        let db = self
            .rds
            .describe_db_snapshots()
            .db_snapshot_identifier(&s.database)
            .send()
            .await;
        match db {
            Ok(out) => match out.db_snapshots().first().and_then(|x| x.status()) {
                Some("available") => {
                    report.ok(format!("snapshots.database {} is available", s.database))
                }
                Some(status) => report.problem(format!(
                    "snapshots.database {} is {status}, not available",
                    s.database
                )),
                None => report.problem(format!(
                    "snapshots.database {}: no such DB snapshot",
                    s.database
                )),
            },
            Err(e) => report.problem(not_found(
                "snapshots.database",
                &s.database,
                "rds:DescribeDBSnapshots",
                &e,
            )),
        }
    }

    /// Where the new server goes: the subnet, the image, the key pair and the given groups.
    async fn new_placement(&self, to: &ToAws, report: &mut Report) {
        let subnet = to.subnet_id.as_str();
        match self.ec2.describe_subnets(&[subnet]).await {
            Ok(out) if !out.is_empty() => report.ok(format!("to.aws.subnet_id {subnet} exists")),
            Ok(_) => report.problem(format!("to.aws.subnet_id {subnet}: no such subnet")),
            Err(e) => report.problem(not_found(
                "to.aws.subnet_id",
                subnet,
                "ec2:DescribeSubnets",
                &e,
            )),
        }
        let image = to.image_id.as_str();
        match self.ec2.describe_images(&[image]).await {
            Ok(out) if !out.is_empty() => report.ok(format!("to.aws.image_id {image} exists")),
            Ok(_) => report.problem(format!(
                "to.aws.image_id {image}: not found{}",
                fix("to.aws.image_id")
            )),
            Err(e) => report.problem(not_found(
                "to.aws.image_id",
                image,
                "ec2:DescribeImages",
                &e,
            )),
        }
        let key = to.key_name.as_str();
        match self.ec2.describe_key_pairs(&[key]).await {
            Ok(out) if !out.is_empty() => report.ok(format!("to.aws.key_name {key} exists")),
            Ok(_) => report.problem(format!(
                "to.aws.key_name {key}: not found{}",
                fix("to.aws.key_name")
            )),
            Err(e) => report.problem(not_found(
                "to.aws.key_name",
                key,
                "ec2:DescribeKeyPairs",
                &e,
            )),
        }
        if let Some(groups) = &to.security_group_ids {
            let ids: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
            if let Err(e) = self.security_groups(ids).await {
                report.problem(format!("to.aws.security_group_ids: {e}"));
            }
        }
    }
}

/// A failed describe call, worded for the spec field that named the resource.
fn not_found(field: &str, id: &str, call: &str, e: &(dyn std::error::Error + 'static)) -> String {
    let text = describe_error(e);
    if text.to_lowercase().contains("notfound") || text.contains("not found") {
        format!("{field} {id}: not found ({call}){}", fix(field))
    } else {
        format!("{field} {id}: {call}: {text}")
    }
}

/// What to do about a resource that does not exist, where there is more to say than "name
/// another one".
fn fix(field: &str) -> &'static str {
    match field {
        "to.aws.image_id" => {
            "; subscribe to the CloverDX Server AMI of the new version and use its id in this region"
        }
        "to.aws.key_name" => "; create or import the key pair in this region",
        _ => "",
    }
}
