//! The upgrade spec, format version 1, as SPEC.md defines it. These types are the single
//! source of truth: the JSON Schema is generated from them (by the crate's tests, which keep
//! the checked-in copy the binary reads equal to it), and the reader checks YAML against that
//! schema before serde builds them, so the schema cannot drift from the parser.
//! Doc comments become the schema's descriptions and the help of "missing field" errors.

use std::collections::BTreeMap;

#[cfg(test)]
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::checked::*;

/// A CloverDX Server upgrade: from the running version to a new one, side by side from
/// snapshots (`architecture`) or in place (`war`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(test, schemars(title = "cloverlift upgrade spec"))]
pub struct Spec {
    /// Format version of this file. This build reads version 1.
    pub version: u32,
    /// Name of the upgrade: `[a-z][a-z0-9-]*`, at most 40 characters. Names the new stack or
    /// deployment.
    pub name: PlanName,
    /// The cloud the CloverDX Server runs in.
    pub cloud: Cloud,
    /// How to upgrade: `architecture` (side by side from snapshots, the default) or `war`
    /// (replace clover.war in place).
    #[serde(default)]
    pub strategy: Strategy,
    /// The running version. Read-only, except pause/resume and the opt-in address move.
    pub from: From,
    /// The new version.
    pub to: To,
    /// Reuse existing snapshots; then pause, snapshot and resume leave the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshots: Option<Snapshots>,
    /// Settings of the built-in steps.
    #[serde(default)]
    pub steps: Steps,
    /// Extra steps run by `apply` at chosen points of the plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<Hook>,
}

/// A cloud provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    Aws,
    Azure,
    Gcp,
}

impl Cloud {
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Aws => "aws",
            Cloud::Azure => "azure",
            Cloud::Gcp => "gcp",
        }
    }

    pub const ALL: [Cloud; 3] = [Cloud::Aws, Cloud::Azure, Cloud::Gcp];
}

/// An upgrade strategy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Deploy the new version next to the old one from snapshots of its database and data disk.
    #[default]
    Architecture,
    /// Replace clover.war on the running instance and restart its service.
    War,
}

/// The running deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct From {
    /// CloverDX version that runs now, MAJOR.MINOR.PATCH.
    pub version: Version,
    /// How to reach the running CloverDX Server's API (pause and resume use it).
    pub server: Server,
    /// Where the running version lives on AWS (when `cloud: aws`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<FromAws>,
    /// Where the running version lives on Azure (when `cloud: azure`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure: Option<FromAzure>,
    /// Where the running version lives on Google Cloud (when `cloud: gcp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcp: Option<FromGcp>,
}

/// The running CloverDX Server's API endpoint and credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// Base URL of the server, e.g. `https://clover.example.com/clover`: https, or http only to
    /// localhost / 127.0.0.1.
    pub url: ServerUrl,
    /// User with rights to manage schedules and event listeners.
    pub username: UserName,
    /// The user's password, as a secret reference.
    pub password: SecretRef,
    /// API paths, relative to `url`, when this server's own reference
    /// (`/clover/api/rest/v1/docs.html`) shows others than CloverDX's documented ones.
    #[serde(default)]
    pub endpoints: Endpoints,
    /// How to trust the server's HTTPS certificate when the system's roots do not (CloverDX's
    /// marketplace images serve a self-signed one): a CA bundle or the pinned certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<Trust>,
}

/// How apply trusts a CloverDX Server's HTTPS certificate. Verification is never switched off:
/// either a CA bundle signs the certificate (and it names the host), or the certificate is
/// exactly the pinned one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Trust {
    /// A PEM file of CA certificates (a self-signed server certificate may be its own CA),
    /// relative to the spec.
    CaFile(FilePath),
    /// The SHA-256 fingerprint of the server's certificate (`openssl x509 -fingerprint
    /// -sha256`): that certificate and no other is trusted, whatever host it names.
    Sha256Fingerprint(Fingerprint),
}

/// The new CloverDX Server: how apply reaches its API (the URL comes from the deployment, the
/// credentials are the old server's, restored with its database).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewServer {
    /// How to trust the new server's HTTPS certificate, which its image generates at first
    /// boot on CloverDX's marketplace images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<Trust>,
}

/// What the new version does when it must patch the restored system database's schema.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum DatabasePatches {
    /// The boot guard sets `autoapply.sys.db.patches` to `to.version` in the new disk's
    /// clover.properties: the snapshot is the backup CloverDX's confirmation dialog asks for.
    #[default]
    Auto,
    /// The new server waits at its "backup completed" dialog; apply stops (exit 3) and says
    /// what to confirm, and `apply --resume` goes on once a person has.
    Confirm,
}

/// Paths of the CloverDX Server API that apply calls, relative to the server URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct Endpoints {
    /// Exports the server configuration (schedules and event listeners).
    pub config_export: HttpPath,
    /// Imports the server configuration.
    pub config_import: HttpPath,
    /// Lists the running jobs, one run id per line (the Simple HTTP API's `server_jobs`).
    pub running_jobs: HttpPath,
    /// Lists the cluster's nodes, `NAME|URL|LOAD|STATUS` a line (the Simple HTTP API's
    /// `cluster_status`).
    pub cluster_status: HttpPath,
    /// Takes a license file (PUT).
    pub license: HttpPath,
    /// Answers 200 when the server is healthy.
    pub health: HttpPath,
    /// Starts a job run (POST) and, with `/RUN_ID` appended, reports its status (GET).
    pub executions: HttpPath,
}

impl Default for Endpoints {
    fn default() -> Self {
        let path = |p: &str| {
            HttpPath::try_from(p.to_owned()).unwrap_or_else(|_| unreachable!("a valid literal"))
        };
        Endpoints {
            config_export: path("/api/rest/v1/server/configuration/export"),
            config_import: path("/api/rest/v1/server/configuration/import"),
            running_jobs: path("/simpleHttpApi/server_jobs"),
            cluster_status: path("/simpleHttpApi/cluster_status"),
            license: path("/api/rest/v1/server/license"),
            health: path("/accessibilityTest.jsp"),
            executions: path("/api/rest/v1/executions"),
        }
    }
}

/// The running version on AWS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FromAws {
    /// AWS region of the running deployment, e.g. `eu-west-1`.
    pub region: AwsRegion,
    /// EC2 instance id of the running CloverDX Server.
    pub instance_id: InstanceId,
    /// RDS DB instance identifier of the system database.
    pub db_instance: DbInstanceId,
    /// EBS volume id of the data disk (`/dev/sdf`, mounted at `/var/clover`).
    pub data_volume: VolumeId,
    /// Elastic IP allocation id of the running server; required when `steps.move_address`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elastic_ip: Option<AllocationId>,
}

/// The running version on Azure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FromAzure {
    /// Subscription id (a GUID).
    pub subscription: Subscription,
    /// Resource group of the running deployment.
    pub resource_group: ResourceGroup,
    /// Azure location, e.g. `westeurope`.
    pub location: AzureLocation,
    /// Name of the running VM.
    pub vm: VmName,
    /// Name of the data disk (mounted at `/var/clover`).
    pub data_disk: DiskName,
    /// Azure Database for PostgreSQL flexible server holding the system database.
    pub postgres_server: PostgresServer,
    /// Public IP resource of the running VM; required when `steps.move_address`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_ip: Option<PublicIpName>,
}

/// The running version on Google Cloud.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FromGcp {
    /// Project id.
    pub project: GcpProject,
    /// Region, e.g. `europe-west1`.
    pub region: GcpRegion,
    /// Zone of the instance, in `region`, e.g. `europe-west1-b`.
    pub zone: GcpZone,
    /// Compute Engine instance of the running server.
    pub instance: GcpName,
    /// Data disk of the running server.
    pub data_disk: GcpName,
    /// Cloud SQL for PostgreSQL instance holding the system database.
    pub sql_instance: SqlInstance,
    /// Static external address of the running server; required when `steps.move_address`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<GcpName>,
}

/// The new version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct To {
    /// CloverDX version to upgrade to, MAJOR.MINOR.PATCH; newer than `from.version`.
    pub version: Version,
    /// License for the new version, as a secret reference; the activate step installs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<SecretRef>,
    /// The new server's API: how to trust its certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<NewServer>,
    /// Schema patches of the system database at the new version's first start: `auto` (the
    /// default; the snapshot is the backup) or `confirm` (a person confirms in the console).
    #[serde(default)]
    pub database_patches: DatabasePatches,
    /// The new deployment on AWS (architecture strategy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<ToAws>,
    /// The new deployment on Azure (architecture strategy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure: Option<ToAzure>,
    /// The new deployment on Google Cloud (architecture strategy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcp: Option<ToGcp>,
    /// The new clover.war (war strategy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub war: Option<War>,
}

/// The new deployment on AWS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ToAws {
    /// CloverDX Server AMI of the new version.
    pub image_id: ImageId,
    /// EC2 instance type, e.g. `m6i.xlarge`.
    pub instance_type: InstanceType,
    /// EC2 key pair for SSH access.
    pub key_name: KeyName,
    /// Subnet of the new instance.
    pub subnet_id: SubnetId,
    /// Security groups of the new instance; a new group is created when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_group_ids: Option<Vec<SecurityGroupId>>,
    /// RDS DB instance class of the restored system database, e.g. `db.m6g.large`.
    pub db_instance_class: DbInstanceClass,
    /// Network allowed to reach a created security group on ports 22, 80 and 443; when absent,
    /// `apply` copies the network the old server's security groups admit on 443. Not used with
    /// `security_group_ids`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_cidr: Option<Ipv4Cidr>,
    /// Whether the restored system database is Multi-AZ; when absent, `apply` takes the old
    /// DB instance's setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_az: Option<bool>,
    /// Accept that the old system database's security groups admit the new server's subnet,
    /// so that only the boot guard keeps the new server off it (one wall instead of two).
    /// `apply` refuses such a network otherwise, and `plan` says when this is set.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub accept_old_database_reachable: bool,
    /// Tags applied to every new resource.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// The new deployment on Azure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ToAzure {
    /// Resource group of the new deployment; defaults to `from.azure.resource_group`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_group: Option<ResourceGroup>,
    /// VM size, e.g. `Standard_D4s_v5`.
    pub vm_size: VmSize,
    /// CloverDX Server marketplace image of the new version.
    pub image: AzureImage,
    /// Resource id of the subnet for the new VM.
    pub subnet_id: SubnetResourceId,
    /// Admin user of the new VM.
    pub admin_username: AdminUsername,
    /// SSH public key of the admin user, as a reference (`file:` usually).
    pub ssh_public_key: SecretRef,
    /// SKU of the restored PostgreSQL flexible server, e.g. `Standard_D2ds_v5`.
    pub postgres_sku: PostgresSku,
    /// Network allowed to reach the new VM on ports 80 and 443; when absent, `apply` copies
    /// the source the old VM's network security group admits on 443.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_cidr: Option<Ipv4Cidr>,
    /// Tags applied to every new resource.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// An Azure Marketplace image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AzureImage {
    /// Image publisher, e.g. `cloverdx`.
    pub publisher: ImagePart,
    /// Image offer, e.g. `cloverdx-server`.
    pub offer: ImagePart,
    /// Image SKU (plan), e.g. `byol`.
    pub sku: ImagePart,
    /// Image version, e.g. `7.0.1`, or `latest`.
    pub version: ImagePart,
}

/// The new deployment on Google Cloud.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ToGcp {
    /// Machine type, e.g. `n2-standard-4`.
    pub machine_type: MachineType,
    /// CloverDX Server image of the new version.
    pub image: GcpImage,
    /// VPC network of the new instance.
    pub network: GcpNetwork,
    /// Subnetwork of the new instance.
    pub subnetwork: GcpSubnetwork,
    /// Cloud SQL tier of the new system database, e.g. `db-custom-2-7680`.
    pub sql_tier: SqlTier,
    /// PostgreSQL version of the new Cloud SQL instance; a backup restores only into an
    /// instance of its source's version. When absent, `main.tf.json` takes it as the input
    /// variable `database_version`, which `apply` reads from the old instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_version: Option<SqlDatabaseVersion>,
    /// Network allowed to reach the new VM on ports 80 and 443; when absent, `main.tf.json`
    /// takes it as the input variable `ingress_source_ranges`, which `apply` copies from the
    /// old instance's firewall rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_cidr: Option<Ipv4Cidr>,
    /// Labels applied to every new resource.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The service account Infrastructure Manager runs Terraform as when `apply` deploys
    /// `main.tf.json` (it needs the roles that create the new resources). Only `apply` reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<GcpServiceAccount>,
    /// The Cloud Storage bucket `apply` uploads the blueprint (`main.tf.json`) to, under
    /// `cloverlift/PLAN/`; default `PROJECT-cloverlift`. It must exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blueprint_bucket: Option<GcpBucket>,
}

/// The new clover.war: from a URL or a local file, with its digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct War {
    /// Where to download the WAR (https).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<HttpsUrl>,
    /// A local WAR file, relative to the spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FilePath>,
    /// SHA-256 of the WAR; the file is refused when it differs.
    pub sha256: Sha256,
}

/// Existing snapshots to reuse, instead of taking new ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Snapshots {
    /// The system database's snapshot. aws: RDS DB snapshot identifier or ARN; azure: restore
    /// point in time (RFC 3339, UTC); gcp: Cloud SQL backup id.
    pub database: String,
    /// The data disk's snapshot. aws: EBS snapshot id; azure: snapshot name or resource id;
    /// gcp: disk snapshot name.
    pub data: String,
}

/// Settings of the built-in steps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Steps {
    /// What pause disables on the running server.
    #[serde(default)]
    pub pause: Pause,
    /// Checks on the new server.
    #[serde(default)]
    pub verify: Verify,
    /// Move the running server's public address to the new server after verify.
    #[serde(default)]
    pub move_address: bool,
}

/// What pause disables, and how long it waits for running jobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Pause {
    /// Disable enabled schedules (and re-enable exactly those on resume).
    #[serde(default = "yes")]
    pub schedules: bool,
    /// Disable enabled event listeners (and re-enable exactly those on resume).
    #[serde(default = "yes")]
    pub listeners: bool,
    /// How long to wait for running jobs to finish before snapshotting.
    #[serde(default = "ten_minutes")]
    #[cfg_attr(test, schemars(default = "ten_minutes"))]
    pub drain_timeout: Duration,
}

impl Default for Pause {
    fn default() -> Self {
        Pause {
            schedules: true,
            listeners: true,
            drain_timeout: ten_minutes(),
        }
    }
}

fn yes() -> bool {
    true
}

fn ten_minutes() -> Duration {
    Duration::try_from("10m".to_owned()).unwrap_or_else(|_| unreachable!("a valid literal"))
}

fn fifteen_minutes() -> Duration {
    Duration::try_from("15m".to_owned()).unwrap_or_else(|_| unreachable!("a valid literal"))
}

/// Health and smoke checks on the new server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Verify {
    /// How long the checks may take in all.
    #[serde(default = "fifteen_minutes")]
    #[cfg_attr(test, schemars(default = "fifteen_minutes"))]
    pub timeout: Duration,
    /// The checks; each must pass.
    #[serde(default = "default_checks")]
    pub checks: Vec<Check>,
    /// Which kinds cutover moves to the new server (`schedules`, `listeners`); empty or absent,
    /// everything the old server ran moves.
    #[serde(default)]
    pub enable: Vec<Enable>,
    /// A job run on the new server on demand; it must finish `FINISHED_OK`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smoke: Option<Smoke>,
}

/// A smoke job: run once on the new server during verify, its result checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Smoke {
    /// The sandbox the job is in.
    pub sandbox: SandboxCode,
    /// The job's path inside the sandbox, e.g. `jobflow/Smoke.jbf`.
    pub job: JobPath,
    /// How long the run may take.
    #[serde(default = "ten_minutes")]
    #[cfg_attr(test, schemars(default = "ten_minutes"))]
    pub timeout: Duration,
}

impl Default for Verify {
    fn default() -> Self {
        Verify {
            timeout: fifteen_minutes(),
            checks: default_checks(),
            enable: Vec::new(),
            smoke: None,
        }
    }
}

fn default_checks() -> Vec<Check> {
    HttpPath::try_from("/clover/".to_owned())
        .map(|p| vec![Check::Http(p)])
        .unwrap_or_default()
}

/// One check on the new server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    /// GET this path on the new server and expect a 2xx answer.
    Http(HttpPath),
}

/// What verify may re-enable on the new server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Enable {
    Schedules,
    Listeners,
}

/// A secret: exactly one reference, resolved only by `apply`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SecretRef {
    /// An environment variable of the apply process.
    Env(EnvName),
    /// A file, relative to the spec.
    File(FilePath),
    /// AWS Secrets Manager secret (or SSM parameter) ARN.
    AwsSecret(AwsSecretArn),
    /// Azure Key Vault secret URL.
    AzureKeyVault(KeyVaultSecret),
    /// Google Secret Manager secret version.
    GcpSecret(GcpSecretVersion),
}

/// An extra step of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Hook {
    /// `[a-z][a-z0-9-]*`, unique, not a built-in step id.
    pub name: HookName,
    /// A command to run (program and arguments, no shell).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// An HTTP request to make.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HookHttp>,
    /// Steps or hooks this hook runs after.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<StepRef>,
    /// Steps or hooks this hook runs before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub before: Vec<StepRef>,
}

/// An HTTP request made by a hook; any 2xx answer is success.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct HookHttp {
    /// The URL (https).
    pub url: HttpsUrl,
    /// The HTTP method; `POST` when absent.
    #[serde(default)]
    pub method: HttpMethod,
}

/// An HTTP method.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    #[default]
    Post,
    Put,
    Patch,
    Delete,
}
