//! The AWS provider: snapshots of the old RDS instance and EBS volume, the waiters for them,
//! the CloudFormation deployment through a change set (described before it is executed, stack
//! events streamed as progress), and the Elastic IP move. Credentials and region come from the
//! standard chain (aws-config); `--endpoint-url` and the standard `AWS_ENDPOINT_URL*` variables
//! point it elsewhere (moto in the tests). Old resources are only ever read here, except the
//! Elastic IP that `move-address` moves on request.

pub mod ec2;
pub mod network;
mod preflight;
mod rollback;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_cloudformation as cfn;
use aws_sdk_rds as rds;
use serde_json::{Value, json};

use self::ec2::Ec2;
use self::network as aws_network;
use crate::apply::events::{Event, Events};
use crate::apply::executor::{StepContext, StepFuture};
use crate::apply::preflight::PreflightFuture;
use crate::apply::runner::Provider;
use crate::plan::step::StepKind;
use crate::spec::model::{FromAws, Spec};

/// How long snapshots and stacks may take before apply gives up waiting.
const LONG_WAIT: Duration = Duration::from_secs(6 * 3600);

/// The SDK's error with its whole cause chain (service code and message included).
pub fn describe_error(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

pub struct AwsProvider {
    spec: Arc<Spec>,
    ec2: Ec2,
    rds: rds::Client,
    cfn: cfn::Client,
    sts: aws_sdk_sts::Client,
    /// The rendered CloudFormation template and the parameters the spec gives.
    template: String,
    known_parameters: Vec<(String, String)>,
    events: Arc<dyn Events>,
    poll: Duration,
}

impl AwsProvider {
    pub async fn new(
        spec: Arc<Spec>,
        endpoint_url: Option<&str>,
        template: String,
        parameters_file: &str,
        events: Arc<dyn Events>,
        poll: Duration,
    ) -> Result<AwsProvider, String> {
        let from = spec
            .from
            .aws
            .as_ref()
            .ok_or("the spec has no from.aws block")?;
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(from.region.to_string()));
        if let Some(url) = endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let config = loader.load().await;
        let ec2 = Ec2::new(&config, endpoint_url)?;
        let list: Vec<Value> = serde_json::from_str(parameters_file).map_err(|e| e.to_string())?;
        let known_parameters = list
            .iter()
            .filter_map(|p| {
                Some((
                    p["ParameterKey"].as_str()?.to_owned(),
                    p["ParameterValue"].as_str()?.to_owned(),
                ))
            })
            .collect();
        Ok(AwsProvider {
            ec2,
            rds: rds::Client::new(&config),
            cfn: cfn::Client::new(&config),
            sts: aws_sdk_sts::Client::new(&config),
            spec,
            template,
            known_parameters,
            events,
            poll,
        })
    }

    fn from(&self) -> Result<&FromAws, String> {
        self.spec
            .from
            .aws
            .as_ref()
            .ok_or_else(|| "the spec has no from.aws block".into())
    }

    fn progress(&self, step: &str, message: impl Into<String>) {
        self.events.emit(&Event::Progress {
            step: step.into(),
            message: message.into(),
        });
    }

    fn stack_name(&self) -> &str {
        self.spec.name.as_str()
    }

    /// RDS `CreateDBSnapshot`, named and tagged for this plan. A resumed run finds the
    /// snapshot its interrupted predecessor started (its name is journaled first).
    async fn snapshot_database(&self, cx: &StepContext) -> Result<Value, String> {
        let from = self.from()?;
        let earlier = cx
            .earlier_notes
            .iter()
            .find_map(|n| n["snapshot"].as_str().map(str::to_owned));
        let id = match earlier {
            Some(id) => id,
            None => {
                // RDS identifiers hold no `--` and end with no `-`; plan names may.
                let mut name = self.spec.name.as_str().to_owned();
                while name.contains("--") {
                    name = name.replace("--", "-");
                }
                let id = format!(
                    "cloverlift-{}-{}",
                    name.trim_end_matches('-'),
                    crate::apply::clock::now_secs() as u64
                );
                cx.note(json!({ "snapshot": id }))?;
                id
            }
        };
        let existing = self
            .rds
            .describe_db_snapshots()
            .db_snapshot_identifier(&id)
            .send()
            .await
            .ok()
            .and_then(|o| {
                o.db_snapshots()
                    .first()
                    .and_then(|s| s.db_snapshot_arn().map(str::to_owned))
            });
        let arn = match existing {
            Some(arn) => arn,
            None => {
                let out = self
                    .rds
                    .create_db_snapshot()
                    .db_instance_identifier(from.db_instance.as_str())
                    .db_snapshot_identifier(&id)
                    .tags(rds_tag("cloverlift:plan", self.spec.name.as_str()))
                    .tags(rds_tag("cloverlift:step", "snapshot-database"))
                    .send()
                    .await
                    .map_err(|e| format!("rds:CreateDBSnapshot: {}", describe_error(&e)))?;
                out.db_snapshot()
                    .and_then(|s| s.db_snapshot_arn().map(str::to_owned))
                    .unwrap_or_default()
            }
        };
        Ok(json!({ "snapshot": id, "arn": arn }))
    }

    /// EC2 `CreateSnapshot` of the old data volume, tagged with this run so a resume finds it.
    async fn snapshot_data(&self, cx: &StepContext) -> Result<Value, String> {
        let from = self.from()?;
        let earlier = cx
            .earlier_notes
            .iter()
            .find_map(|n| n["run"].as_str().map(str::to_owned));
        let run = match earlier {
            Some(run) => run,
            None => {
                let run = format!(
                    "{}-{}",
                    self.spec.name,
                    crate::apply::clock::now_secs() as u64
                );
                cx.note(json!({ "run": run }))?;
                run
            }
        };
        let found = self
            .ec2
            .snapshots_tagged("cloverlift:run", &run)
            .await
            .map_err(|e| format!("ec2:DescribeSnapshots: {e}"))?;
        let usable = found
            .iter()
            .find(|s| s.state.as_deref() != Some("error") && !s.id.is_empty());
        if let Some(s) = usable {
            return Ok(json!({ "snapshot": s.id }));
        }
        let description = format!(
            "cloverlift {}: data disk before the upgrade",
            self.spec.name
        );
        let tags = [
            ("cloverlift:plan", self.spec.name.as_str()),
            ("cloverlift:run", run.as_str()),
            ("cloverlift:step", "snapshot-data"),
        ];
        let out = self
            .ec2
            .create_snapshot(from.data_volume.as_str(), &description, &tags)
            .await
            .map_err(|e| format!("ec2:CreateSnapshot: {e}"))?;
        if out.id.is_empty() {
            return Err("ec2:CreateSnapshot returned no id".into());
        }
        Ok(json!({ "snapshot": out.id }))
    }

    async fn await_snapshots(&self, cx: &StepContext) -> Result<Value, String> {
        let data = cx
            .output("snapshot-data")
            .and_then(|o| o["snapshot"].as_str())
            .ok_or("snapshot-data left no snapshot id")?
            .to_owned();
        let db = cx
            .output("snapshot-database")
            .and_then(|o| o["snapshot"].as_str())
            .ok_or("snapshot-database left no snapshot")?
            .to_owned();
        let started = Instant::now();
        let (mut data_ok, mut db_ok) = (false, false);
        while !(data_ok && db_ok) {
            if !data_ok {
                let out = self
                    .ec2
                    .describe_snapshots(&[&data])
                    .await
                    .map_err(|e| format!("ec2:DescribeSnapshots: {e}"))?;
                let state = out.first().and_then(|s| s.state.clone());
                match state.as_deref() {
                    Some("completed") => data_ok = true,
                    Some("error") => return Err(format!("EBS snapshot {data} failed")),
                    Some(other) => self.progress("await-snapshots", format!("{data}: {other}")),
                    None => self.progress("await-snapshots", format!("{data}: not listed yet")),
                }
            }
            if !db_ok {
                let out = self
                    .rds
                    .describe_db_snapshots()
                    .db_snapshot_identifier(&db)
                    .send()
                    .await
                    .map_err(|e| format!("rds:DescribeDBSnapshots: {}", describe_error(&e)))?;
                let status = out
                    .db_snapshots()
                    .first()
                    .and_then(|s| s.status().map(str::to_owned));
                match status.as_deref() {
                    Some("available") => db_ok = true,
                    Some("failed" | "error") => return Err(format!("RDS snapshot {db} failed")),
                    other => self.progress("await-snapshots", format!("{db}: {other:?}")),
                }
            }
            if data_ok && db_ok {
                break;
            }
            if started.elapsed() > LONG_WAIT {
                return Err("the snapshots did not complete within 6 hours".into());
            }
            tokio::time::sleep(self.poll).await;
        }
        Ok(json!({ "data": data, "database": db, "seconds": started.elapsed().as_secs_f64() }))
    }

    /// The security groups of the old server's instance (read only).
    async fn old_server_groups(&self) -> Result<Vec<ec2::SecurityGroup>, String> {
        let from = self.from()?;
        let instances = self
            .ec2
            .describe_instances(&[from.instance_id.as_str()])
            .await
            .map_err(|e| format!("ec2:DescribeInstances: {e}"))?;
        let ids: Vec<String> = instances
            .into_iter()
            .flat_map(|i| i.security_groups)
            .collect();
        self.security_groups(ids).await
    }

    async fn vpc_cidr(&self, vpc: &str) -> Result<String, String> {
        let vpcs = self
            .ec2
            .describe_vpcs(&[vpc])
            .await
            .map_err(|e| format!("ec2:DescribeVpcs: {e}"))?;
        vpcs.into_iter()
            .next()
            .and_then(|v| v.cidr)
            .ok_or_else(|| format!("{vpc} has no IPv4 CIDR block"))
    }

    async fn security_groups(&self, ids: Vec<String>) -> Result<Vec<ec2::SecurityGroup>, String> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        self.ec2
            .describe_security_groups(&ids)
            .await
            .map_err(|e| format!("ec2:DescribeSecurityGroups: {e}"))
    }

    /// Reads what only the running deployment knows: the subnet's VPC and zone, the network
    /// the old server admits on HTTPS, the old database's subnet group and Multi-AZ setting,
    /// and the old data volume's size.
    async fn discover(&self, cx: &StepContext) -> Result<BTreeMap<String, String>, String> {
        let from = self.from()?;
        let to = self
            .spec
            .to
            .aws
            .as_ref()
            .ok_or("the spec has no to.aws block")?;
        let mut p: BTreeMap<String, String> = self.known_parameters.iter().cloned().collect();
        let subnets = self
            .ec2
            .describe_subnets(&[to.subnet_id.as_str()])
            .await
            .map_err(|e| format!("ec2:DescribeSubnets: {e}"))?;
        let subnet = subnets.into_iter().next().ok_or("subnet not found")?;
        let vpc = subnet.vpc.unwrap_or_default();
        p.insert("VpcId".into(), vpc.clone());
        p.insert("AvailabilityZone".into(), subnet.zone.unwrap_or_default());
        if to.security_group_ids.is_none() {
            if !p.contains_key("AllowedCidr") {
                let groups = self.old_server_groups().await?;
                p.insert("AllowedCidr".into(), aws_network::https_network(&groups)?);
            }
            p.insert("SshCidr".into(), self.vpc_cidr(&vpc).await?);
        }
        let dbs = self
            .rds
            .describe_db_instances()
            .db_instance_identifier(from.db_instance.as_str())
            .send()
            .await
            .map_err(|e| format!("rds:DescribeDBInstances: {}", describe_error(&e)))?;
        let subnets: Vec<&str> = dbs
            .db_instances()
            .first()
            .and_then(|d| d.db_subnet_group())
            .map(|g| {
                g.subnets()
                    .iter()
                    .filter_map(|s| s.subnet_identifier())
                    .collect()
            })
            .unwrap_or_default();
        if subnets.is_empty() {
            return Err(format!(
                "{} has no DB subnet group with subnets to place the new database in",
                from.db_instance
            ));
        }
        // CloudFormation takes a List<…> parameter as comma-separated values.
        p.insert("DBSubnetIds".into(), subnets.join(","));
        if !p.contains_key("MultiAZ") {
            let multi_az = dbs
                .db_instances()
                .first()
                .and_then(|d| d.multi_az())
                .unwrap_or(false);
            p.insert("MultiAZ".into(), multi_az.to_string());
        }
        let volumes = self
            .ec2
            .describe_volumes(&[from.data_volume.as_str()])
            .await
            .map_err(|e| format!("ec2:DescribeVolumes: {e}"))?;
        let size = volumes.first().and_then(|v| v.size).unwrap_or(1);
        p.insert("DataVolumeSize".into(), size.to_string());
        if let Some(s) = cx
            .output("snapshot-data")
            .and_then(|o| o["snapshot"].as_str())
        {
            p.insert("DataSnapshotId".into(), s.to_owned());
        }
        if let Some(s) = cx
            .output("snapshot-database")
            .and_then(|o| o["snapshot"].as_str())
        {
            p.insert("DatabaseSnapshot".into(), s.to_owned());
        }
        Ok(p)
    }

    async fn stack(&self) -> Result<Option<cfn::types::Stack>, String> {
        match self
            .cfn
            .describe_stacks()
            .stack_name(self.stack_name())
            .send()
            .await
        {
            Ok(out) => Ok(out.stacks().first().cloned()),
            Err(e) => {
                let text = describe_error(&e);
                if text.contains("does not exist") {
                    Ok(None)
                } else {
                    Err(format!("cloudformation:DescribeStacks: {text}"))
                }
            }
        }
    }

    /// Creates the stack through a change set: created, described, then executed; waits for
    /// it, streaming the stack's events.
    async fn deploy(&self, cx: &StepContext) -> Result<Value, String> {
        if let Some(stack) = self.stack().await? {
            // A resumed apply may find the stack its predecessor started.
            let status = stack
                .stack_status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default();
            if status == "CREATE_COMPLETE" || status == "UPDATE_COMPLETE" {
                return self.outputs(&stack).await;
            }
            if !status.ends_with("_IN_PROGRESS") {
                return Err(format!(
                    "stack {} exists in state {status}; delete it or choose another plan name",
                    self.stack_name()
                ));
            }
        } else {
            let parameters = self.discover(cx).await?;
            let change_set = format!("cloverlift-{}", crate::apply::clock::now_secs() as u64);
            let mut req = self
                .cfn
                .create_change_set()
                .stack_name(self.stack_name())
                .change_set_name(&change_set)
                .change_set_type(cfn::types::ChangeSetType::Create)
                .template_body(&self.template)
                .capabilities(cfn::types::Capability::CapabilityIam)
                .tags(cfn_tag("cloverlift:plan", self.spec.name.as_str()));
            for (k, v) in &parameters {
                req = req.parameters(
                    cfn::types::Parameter::builder()
                        .parameter_key(k)
                        .parameter_value(v)
                        .build(),
                );
            }
            let created = req
                .send()
                .await
                .map_err(|e| format!("cloudformation:CreateChangeSet: {}", describe_error(&e)))?;
            let id = created.id().unwrap_or(&change_set).to_owned();
            cx.note(json!({ "change_set": id, "parameters": parameters }))?;
            let described = self.wait_change_set(&id).await?;
            for change in described.changes() {
                if let Some(rc) = change.resource_change() {
                    self.progress(
                        "deploy",
                        format!(
                            "change set: {} {} ({})",
                            rc.action().map(|a| a.as_str()).unwrap_or("?"),
                            rc.logical_resource_id().unwrap_or("?"),
                            rc.resource_type().unwrap_or("?")
                        ),
                    );
                }
            }
            self.cfn
                .execute_change_set()
                .change_set_name(&id)
                .stack_name(self.stack_name())
                .send()
                .await
                .map_err(|e| format!("cloudformation:ExecuteChangeSet: {}", describe_error(&e)))?;
        }
        let stack = self.wait_stack("deploy", "CREATE_COMPLETE").await?;
        self.outputs(&stack).await
    }

    /// The stack's outputs, with the instance id also read from the template's `Instance`
    /// resource when the stack reports no outputs (moto's change sets do not compute them).
    async fn outputs(&self, stack: &cfn::types::Stack) -> Result<Value, String> {
        let mut outputs = stack_outputs(stack);
        if outputs.get("InstanceId").is_none() {
            let resource = self
                .cfn
                .describe_stack_resource()
                .stack_name(self.stack_name())
                .logical_resource_id("Instance")
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "cloudformation:DescribeStackResource: {}",
                        describe_error(&e)
                    )
                })?;
            let id = resource
                .stack_resource_detail()
                .and_then(|r| r.physical_resource_id())
                .ok_or("the stack has no Instance resource")?;
            if let Some(map) = outputs.as_object_mut() {
                map.insert("InstanceId".into(), json!(id));
            }
        }
        Ok(outputs)
    }

    async fn wait_change_set(
        &self,
        id: &str,
    ) -> Result<cfn::operation::describe_change_set::DescribeChangeSetOutput, String> {
        let started = Instant::now();
        loop {
            let out = self
                .cfn
                .describe_change_set()
                .change_set_name(id)
                .stack_name(self.stack_name())
                .send()
                .await
                .map_err(|e| format!("cloudformation:DescribeChangeSet: {}", describe_error(&e)))?;
            match out.status().map(|s| s.as_str()) {
                Some("CREATE_COMPLETE") => return Ok(out),
                Some("FAILED") => {
                    return Err(format!(
                        "change set failed: {}",
                        out.status_reason().unwrap_or("no reason given")
                    ));
                }
                _ => {}
            }
            if started.elapsed() > LONG_WAIT {
                return Err("the change set was not created in time".into());
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    /// Waits for the stack to reach `goal`, reporting new stack events; on a failed or rolled
    /// back stack, names the first resource that failed and why.
    async fn wait_stack(&self, step: &str, goal: &str) -> Result<cfn::types::Stack, String> {
        let started = Instant::now();
        let mut seen: std::collections::BTreeSet<String> = Default::default();
        loop {
            let events = self
                .cfn
                .describe_stack_events()
                .stack_name(self.stack_name())
                .send()
                .await
                .map(|o| o.stack_events().to_vec())
                .unwrap_or_default();
            let mut failure = None;
            for ev in events.iter().rev() {
                let id = ev.event_id().unwrap_or_default().to_owned();
                let status = ev
                    .resource_status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default();
                if status.ends_with("_FAILED") && failure.is_none() {
                    failure = Some(format!(
                        "{} ({}): {}",
                        ev.logical_resource_id().unwrap_or("?"),
                        ev.resource_type().unwrap_or("?"),
                        ev.resource_status_reason().unwrap_or("no reason given")
                    ));
                }
                if seen.insert(id) {
                    self.progress(
                        step,
                        format!(
                            "{} {}{}",
                            ev.logical_resource_id().unwrap_or("?"),
                            status,
                            ev.resource_status_reason()
                                .map(|r| format!(": {r}"))
                                .unwrap_or_default()
                        ),
                    );
                }
            }
            let stack = self.stack().await?.ok_or("the stack disappeared")?;
            let status = stack
                .stack_status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default();
            if status == goal {
                return Ok(stack);
            }
            if status.ends_with("_FAILED") || status.contains("ROLLBACK") {
                if status.ends_with("_IN_PROGRESS") {
                    tokio::time::sleep(self.poll).await;
                    continue;
                }
                return Err(format!(
                    "stack {} ended {status}: {}",
                    self.stack_name(),
                    failure.unwrap_or_else(|| stack
                        .stack_status_reason()
                        .unwrap_or("no reason given")
                        .to_owned())
                ));
            }
            if started.elapsed() > LONG_WAIT {
                return Err(format!(
                    "stack {} did not reach {goal} in time",
                    self.stack_name()
                ));
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    /// Moves the old Elastic IP to the new instance, then drops the new stack's own address
    /// (stack update with NewPublicAddress=false) and reboots the new instance so it renews its
    /// certificate for the address (CloverDX AWS upgrade guide).
    async fn move_address(&self, cx: &StepContext) -> Result<Value, String> {
        let from = self.from()?;
        let allocation = from
            .elastic_ip
            .as_ref()
            .ok_or("move-address needs from.aws.elastic_ip")?;
        let instance = cx
            .output("deploy")
            .and_then(|o| o["InstanceId"].as_str())
            .ok_or("deploy left no InstanceId output")?
            .to_owned();
        let association = self
            .ec2
            .associate_address(allocation.as_str(), &instance)
            .await
            .map_err(|e| format!("ec2:AssociateAddress: {e}"))?
            .unwrap_or_default();
        let addresses = self
            .ec2
            .describe_addresses(&[allocation.as_str()])
            .await
            .map_err(|e| format!("ec2:DescribeAddresses: {e}"))?;
        let public_ip = addresses
            .into_iter()
            .next()
            .and_then(|a| a.public_ip)
            .ok_or_else(|| format!("{allocation} has no public IP"))?;
        let stack = self.stack().await?.ok_or("the stack disappeared")?;
        let mut req = self
            .cfn
            .update_stack()
            .stack_name(self.stack_name())
            .use_previous_template(true)
            .capabilities(cfn::types::Capability::CapabilityIam);
        for p in stack.parameters() {
            let key = p.parameter_key().unwrap_or_default();
            let value = match key {
                "NewPublicAddress" => Some("false"),
                // The stack's ServerUrl then names the address the server answers on.
                "MovedPublicIp" => Some(public_ip.as_str()),
                _ => None,
            };
            let param = if let Some(value) = value {
                cfn::types::Parameter::builder()
                    .parameter_key(key)
                    .parameter_value(value)
                    .build()
            } else {
                cfn::types::Parameter::builder()
                    .parameter_key(key)
                    .use_previous_value(true)
                    .build()
            };
            req = req.parameters(param);
        }
        match req.send().await {
            Ok(_) => {
                self.wait_stack("move-address", "UPDATE_COMPLETE").await?;
            }
            Err(e) => {
                let text = describe_error(&e);
                if !text.contains("No updates are to be performed") {
                    return Err(format!("cloudformation:UpdateStack: {text}"));
                }
            }
        }
        self.ec2
            .reboot_instance(&instance)
            .await
            .map_err(|e| format!("ec2:RebootInstances: {e}"))?;
        Ok(
            json!({ "allocation": allocation, "instance": instance, "association": association, "public_ip": public_ip }),
        )
    }
}

fn stack_outputs(stack: &cfn::types::Stack) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("StackId".into(), json!(stack.stack_id()));
    for o in stack.outputs() {
        if let (Some(k), Some(v)) = (o.output_key(), o.output_value()) {
            out.insert(k.to_owned(), json!(v));
        }
    }
    Value::Object(out)
}

fn rds_tag(k: &str, v: &str) -> rds::types::Tag {
    rds::types::Tag::builder().key(k).value(v).build()
}

fn cfn_tag(k: &str, v: &str) -> cfn::types::Tag {
    cfn::types::Tag::builder().key(k).value(v).build()
}

impl Provider for AwsProvider {
    fn describe(&self, kind: StepKind) -> Vec<String> {
        let Ok(from) = self.from() else {
            return Vec::new();
        };
        let stack = self.stack_name();
        match kind {
            StepKind::SnapshotDatabase => vec![format!(
                "rds:CreateDBSnapshot DBInstanceIdentifier={} (tagged cloverlift:plan={stack})",
                from.db_instance
            )],
            StepKind::SnapshotData => vec![format!(
                "ec2:CreateSnapshot VolumeId={} (tagged cloverlift:plan={stack})",
                from.data_volume
            )],
            StepKind::AwaitSnapshots => vec![
                "ec2:DescribeSnapshots until completed".into(),
                "rds:DescribeDBSnapshots until available".into(),
            ],
            StepKind::Deploy => vec![
                "ec2:DescribeSubnets, ec2:DescribeVpcs, ec2:DescribeInstances, ec2:DescribeSecurityGroups, ec2:DescribeVolumes, rds:DescribeDBInstances (discover parameters)".into(),
                format!("cloudformation:CreateChangeSet StackName={stack} ChangeSetType=CREATE Capabilities=CAPABILITY_IAM"),
                "cloudformation:DescribeChangeSet until CREATE_COMPLETE (changes shown)".into(),
                "cloudformation:ExecuteChangeSet".into(),
                "cloudformation:DescribeStacks/DescribeStackEvents until CREATE_COMPLETE".into(),
            ],
            StepKind::MoveAddress => vec![
                format!(
                    "ec2:AssociateAddress AllocationId={} InstanceId=<new instance> AllowReassociation=true",
                    from.elastic_ip.as_ref().map_or("?", |e| e.as_str())
                ),
                format!("cloudformation:UpdateStack StackName={stack} NewPublicAddress=false MovedPublicIp=<its address>"),
                "ec2:RebootInstances <new instance> (renews its certificate)".into(),
            ],
            other => vec![format!("{other}: not an AWS step")],
        }
    }

    fn run(&self, kind: StepKind, cx: StepContext) -> StepFuture<'_> {
        Box::pin(async move {
            match kind {
                StepKind::SnapshotDatabase => self.snapshot_database(&cx).await,
                StepKind::SnapshotData => self.snapshot_data(&cx).await,
                StepKind::AwaitSnapshots => self.await_snapshots(&cx).await,
                StepKind::Deploy => self.deploy(&cx).await,
                StepKind::MoveAddress => self.move_address(&cx).await,
                other => Err(format!(
                    "step {other} has no AWS implementation in this build (the war strategy's in-place steps run through SSM, which apply does not drive yet)"
                )),
            }
        })
    }

    fn preflight(&self) -> PreflightFuture<'_> {
        Box::pin(self.preflight())
    }

    fn move_address_back<'a>(&'a self, deploy: &'a Value) -> StepFuture<'a> {
        Box::pin(self.move_address_back(deploy))
    }

    fn stop_new<'a>(&'a self, deploy: &'a Value) -> StepFuture<'a> {
        Box::pin(self.stop_new(deploy))
    }

    fn delete_new(&self) -> StepFuture<'_> {
        Box::pin(self.delete_new())
    }

    fn console<'a>(&'a self, deploy: &'a Value) -> StepFuture<'a> {
        Box::pin(async move {
            let instance = deploy["InstanceId"]
                .as_str()
                .ok_or("the deploy step left no instance id")?;
            let output = self
                .ec2
                .console_output(instance)
                .await
                .map_err(|e| format!("ec2:GetConsoleOutput {instance}: {e}"))?;
            Ok(output.map_or(Value::Null, Value::String))
        })
    }

    fn describe_console(&self) -> Option<String> {
        Some("ec2:GetConsoleOutput InstanceId=<new instance> Latest=true".into())
    }

    fn new_server_url(&self, cx: &StepContext) -> Option<String> {
        cx.output("deploy")
            .and_then(|o| o["ServerUrl"].as_str())
            .map(str::to_owned)
    }
}
