//! Strings with a syntax: cloud identifiers, names, URLs. Each is a newtype whose JSON Schema
//! carries `x-check`, the name of its rule; the schema-driven reader runs that rule on the YAML
//! node (so the diagnostic has the node's span), and deserialization runs it again, so no
//! value of these types exists without having passed it.

#[cfg(test)]
use std::borrow::Cow;

#[cfg(test)]
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use crate::cloud::{Check, aws, azure, gcp, problem};

/// Which diagnostic a failed rule becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `spec::invalid_id`: a cloud identifier.
    Id,
    /// `spec::invalid_value`: any other malformed value.
    Value,
}

/// A named rule: what the value is, the diagnostic family, and the check itself.
pub struct Rule {
    pub name: &'static str,
    pub what: &'static str,
    pub family: Family,
    pub check: fn(&str) -> Check,
}

macro_rules! checked_strings {
    ($(
        $(#[doc = $doc:literal])+
        $ty:ident: $name:literal, $family:ident, $what:literal, $check:expr $(, pattern = $pat:literal)?;
    )+) => {
        $(
            $(#[doc = $doc])+
            #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
            #[serde(try_from = "String", into = "String")]
            pub struct $ty(String);

            impl $ty {
                pub fn as_str(&self) -> &str {
                    &self.0
                }
            }

            impl TryFrom<String> for $ty {
                type Error = String;
                fn try_from(s: String) -> Result<Self, String> {
                    let check: fn(&str) -> Check = $check;
                    check(&s).map_err(|p| p.reason)?;
                    Ok($ty(s))
                }
            }

            impl From<$ty> for String {
                fn from(v: $ty) -> String {
                    v.0
                }
            }

            impl std::fmt::Display for $ty {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str(&self.0)
                }
            }

            #[cfg(test)]
            impl JsonSchema for $ty {
                fn schema_name() -> Cow<'static, str> {
                    stringify!($ty).into()
                }
                fn inline_schema() -> bool {
                    true
                }
                fn json_schema(_: &mut SchemaGenerator) -> Schema {
                    let description = [$($doc),+].map(str::trim).join(" ");
                    #[allow(unused_mut)]
                    let mut schema = json_schema!({
                        "type": "string",
                        "description": description,
                        "x-check": $name,
                    });
                    $( schema.insert("pattern".into(), $pat.into()); )?
                    schema
                }
            }
        )+

        /// Every rule, by the name the schema's `x-check` uses.
        pub const RULES: &[Rule] = &[
            $( Rule { name: $name, what: $what, family: Family::$family, check: $check }, )+
        ];
    };
}

/// The rule an `x-check` names.
pub fn rule(name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.name == name)
}

checked_strings! {
    /// Name of the upgrade: `[a-z][a-z0-9-]*`, at most 40 characters. Names the new stack or
    /// deployment.
    PlanName: "name", Value, "name", plan_name, pattern = "^[a-z][a-z0-9-]{0,39}$";
    /// Hook name: `[a-z][a-z0-9-]*`, at most 40 characters, unique, not a built-in step id.
    HookName: "hook_name", Value, "hook name", plan_name, pattern = "^[a-z][a-z0-9-]{0,39}$";
    /// A step id or hook name that a hook runs after or before.
    StepRef: "step_ref", Value, "step reference", step_ref;
    /// URL of the running CloverDX Server: https, or http only to localhost / 127.0.0.1.
    ServerUrl: "server_url", Value, "server URL", server_url;
    /// An https URL.
    HttpsUrl: "https_url", Value, "https URL", https_url, pattern = "^https://";
    /// A path on the new server, starting with `/`, e.g. `/clover/`.
    HttpPath: "http_path", Value, "HTTP path", http_path,
        pattern = "^/([A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*$";
    /// A local file path, relative to the spec's directory or absolute.
    FilePath: "file_path", Value, "file path", file_path;
    /// SHA-256 fingerprint of a certificate: 32 hex bytes, colon-separated or not, e.g.
    /// `AB:CD:…` as `openssl x509 -fingerprint -sha256` prints it.
    Fingerprint: "sha256_fingerprint", Value, "certificate fingerprint", fingerprint,
        pattern = "^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{64}$";
    /// SHA-256 digest: 64 lowercase hex digits.
    Sha256: "sha256", Value, "sha256 digest", sha256, pattern = "^[0-9a-f]{64}$";
    /// Name of an environment variable.
    EnvName: "env_name", Value, "environment variable name", env_name,
        pattern = "^[A-Za-z_][A-Za-z0-9_]*$";
    /// A non-empty user name.
    UserName: "user_name", Value, "user name", user_name;
    /// A CloverDX sandbox code: letters, digits, `_`, `-` and `.`.
    SandboxCode: "sandbox_code", Value, "sandbox code", sandbox_code,
        pattern = "^[A-Za-z0-9_.-]+$";
    /// A job's path inside its sandbox, e.g. `jobflow/Smoke.jbf`.
    JobPath: "job_path", Value, "job path", job_path;
    /// CloverDX version, MAJOR.MINOR.PATCH, e.g. `7.0.1`.
    Version: "version", Value, "version", version, pattern = "^[0-9]+\\.[0-9]+\\.[0-9]+$";
    /// A duration: a number with a unit, `90s`, `10m`, `1h`, or combined, `1h30m`.
    Duration: "duration", Value, "duration", duration,
        pattern = "^([0-9]+h)?([0-9]+m)?([0-9]+s)?$";

    /// An IPv4 network in CIDR notation, e.g. `10.0.0.0/16`.
    Ipv4Cidr: "ipv4_cidr", Value, "IPv4 CIDR block", ipv4_cidr,
        pattern = "^([0-9]{1,3}\\.){3}[0-9]{1,3}/[0-9]{1,2}$";

    /// AWS region, e.g. `eu-west-1`.
    AwsRegion: "aws.region", Id, "AWS region", aws::region;
    /// EC2 instance id, `i-` and 8 or 17 hex digits.
    InstanceId: "aws.instance_id", Id, "EC2 instance id", aws::instance_id,
        pattern = "^i-([0-9a-f]{8}|[0-9a-f]{17})$";
    /// EBS volume id, `vol-` and 8 or 17 hex digits.
    VolumeId: "aws.volume_id", Id, "EBS volume id", aws::volume_id,
        pattern = "^vol-([0-9a-f]{8}|[0-9a-f]{17})$";
    /// AMI id, `ami-` and 8 or 17 hex digits.
    ImageId: "aws.image_id", Id, "AMI id", aws::image_id,
        pattern = "^ami-([0-9a-f]{8}|[0-9a-f]{17})$";
    /// Subnet id, `subnet-` and 8 or 17 hex digits.
    SubnetId: "aws.subnet_id", Id, "subnet id", aws::subnet_id,
        pattern = "^subnet-([0-9a-f]{8}|[0-9a-f]{17})$";
    /// Security group id, `sg-` and 8 or 17 hex digits.
    SecurityGroupId: "aws.security_group_id", Id, "security group id", aws::security_group_id,
        pattern = "^sg-([0-9a-f]{8}|[0-9a-f]{17})$";
    /// Elastic IP allocation id, `eipalloc-` and 8 or 17 hex digits.
    AllocationId: "aws.allocation_id", Id, "Elastic IP allocation id", aws::allocation_id,
        pattern = "^eipalloc-([0-9a-f]{8}|[0-9a-f]{17})$";
    /// RDS DB instance identifier.
    DbInstanceId: "aws.db_instance", Id, "RDS DB instance identifier", aws::db_instance;
    /// EC2 instance type, e.g. `m6i.xlarge`.
    InstanceType: "aws.instance_type", Id, "EC2 instance type", aws::instance_type;
    /// RDS DB instance class, e.g. `db.m6g.large`.
    DbInstanceClass: "aws.db_instance_class", Id, "RDS DB instance class", aws::db_instance_class;
    /// EC2 key pair name.
    KeyName: "aws.key_name", Id, "EC2 key pair name", aws::key_name;
    /// AWS Secrets Manager secret ARN or SSM parameter ARN.
    AwsSecretArn: "aws.secret_arn", Id, "AWS secret ARN", aws::secret_arn;

    /// Azure subscription id (a GUID).
    Subscription: "azure.subscription", Id, "Azure subscription id", azure::subscription;
    /// Azure resource group name.
    ResourceGroup: "azure.resource_group", Id, "resource group name", azure::resource_group;
    /// Azure location, e.g. `westeurope`.
    AzureLocation: "azure.location", Id, "Azure location", azure::location;
    /// Azure Linux VM name.
    VmName: "azure.vm_name", Id, "VM name", azure::vm_name;
    /// Azure managed disk name.
    DiskName: "azure.disk_name", Id, "managed disk name", azure::disk_name;
    /// Azure Database for PostgreSQL flexible server name.
    PostgresServer: "azure.postgres_server", Id, "PostgreSQL flexible server name",
        azure::postgres_server;
    /// Azure public IP address resource name.
    PublicIpName: "azure.public_ip", Id, "public IP name", azure::public_ip_name;
    /// Azure VM size, e.g. `Standard_D4s_v5`.
    VmSize: "azure.vm_size", Id, "VM size", azure::vm_size;
    /// Azure Database for PostgreSQL SKU name, e.g. `Standard_D2ds_v5`.
    PostgresSku: "azure.postgres_sku", Id, "PostgreSQL SKU", azure::postgres_sku;
    /// Resource id of a subnet.
    SubnetResourceId: "azure.subnet_id", Id, "subnet resource id", azure::subnet_id;
    /// Linux admin user name of the new VM.
    AdminUsername: "azure.admin_username", Id, "admin user name", azure::admin_username;
    /// A marketplace image field (publisher, offer, SKU or version).
    ImagePart: "azure.image_part", Id, "image field", azure::image_part;
    /// Key Vault secret URL, `https://VAULT.vault.azure.net/secrets/NAME[/VERSION]`.
    KeyVaultSecret: "azure.key_vault_secret", Id, "Key Vault secret URL", azure::key_vault_secret;

    /// Google Cloud project id.
    GcpProject: "gcp.project", Id, "project id", gcp::project;
    /// Google Cloud region, e.g. `europe-west1`.
    GcpRegion: "gcp.region", Id, "Google Cloud region", gcp::region;
    /// Google Cloud zone, e.g. `europe-west1-b`.
    GcpZone: "gcp.zone", Id, "Google Cloud zone", gcp::zone;
    /// Compute Engine resource name (RFC 1035).
    GcpName: "gcp.name", Id, "Compute Engine name", gcp::name,
        pattern = "^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$";
    /// Cloud SQL instance id.
    SqlInstance: "gcp.sql_instance", Id, "Cloud SQL instance id", gcp::sql_instance;
    /// Compute Engine machine type, e.g. `n2-standard-4`.
    MachineType: "gcp.machine_type", Id, "machine type", gcp::machine_type;
    /// Image: `projects/P/global/images/NAME`, `…/images/family/F`, or a name.
    GcpImage: "gcp.image", Id, "image", gcp::image;
    /// VPC network name or `projects/P/global/networks/N`.
    GcpNetwork: "gcp.network", Id, "network", gcp::network;
    /// Subnetwork name or `projects/P/regions/R/subnetworks/S`.
    GcpSubnetwork: "gcp.subnetwork", Id, "subnetwork", gcp::subnetwork;
    /// Cloud SQL PostgreSQL version, e.g. `POSTGRES_15`.
    SqlDatabaseVersion: "gcp.database_version", Id, "Cloud SQL database version",
        gcp::database_version, pattern = "^POSTGRES_[0-9]+$";
    /// Cloud SQL tier, e.g. `db-custom-2-7680`.
    SqlTier: "gcp.sql_tier", Id, "Cloud SQL tier", gcp::sql_tier;
    /// Secret Manager version, `projects/P/secrets/S/versions/V`.
    GcpSecretVersion: "gcp.secret_version", Id, "Secret Manager version", gcp::secret_version;
    /// Service account email, `NAME@PROJECT.iam.gserviceaccount.com`.
    GcpServiceAccount: "gcp.service_account", Id, "service account email", gcp::service_account;
    /// Cloud Storage bucket name.
    GcpBucket: "gcp.bucket", Id, "Cloud Storage bucket name", gcp::bucket;
}

/// A step or hook name in `after`/`before`. Built-in step ids use hyphens; the spec's own keys
/// (`move_address`) use underscores, so the underscore spelling gets a pointed suggestion.
fn step_ref(v: &str) -> Check {
    plan_name(v).map_err(|p| {
        let hyphenated = v.to_ascii_lowercase().replace('_', "-");
        match crate::plan::step::StepKind::parse(&hyphenated) {
            Some(_) if hyphenated != v => crate::cloud::Problem {
                reason: p.reason,
                help: format!("did you mean `{hyphenated}`? step ids are written with hyphens"),
            },
            _ => p,
        }
    })
}

fn plan_name(v: &str) -> Check {
    let ok = (1..=40).contains(&v.len())
        && v.starts_with(|c: char| c.is_ascii_lowercase())
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        return problem(
            "not a name of the form [a-z][a-z0-9-]*",
            "use lowercase letters, digits and hyphens, starting with a letter, at most 40 \
             characters",
        );
    }
    Ok(())
}

/// Characters RFC 3986 never allows in a URL, plus `\\` (which WHATWG parsers read as `/`,
/// so a host check could be fooled) and `'` (kept out so URLs stay safe in shell words).
fn url_chars_ok(v: &str) -> bool {
    !v.chars()
        .any(|c| c.is_whitespace() || c.is_control() || "\"<>\\^`{|}'".contains(c) || !c.is_ascii())
}

fn server_url(v: &str) -> Check {
    if !url_chars_ok(v) {
        return problem(
            "the URL holds characters a URL cannot (spaces, quotes, `\\`, non-ASCII)",
            "percent-encode them, e.g. a space as %20",
        );
    }
    let Some((scheme, rest)) = v.split_once("://") else {
        return problem("not a URL", "use e.g. `https://clover.example.com/clover`");
    };
    if rest
        .split(['/', '?', '#'])
        .next()
        .is_some_and(|a| a.contains('@'))
    {
        return problem(
            "credentials in the URL",
            "give the user in `username` and the password as a secret reference",
        );
    }
    let host = url_host(rest);
    if host.is_empty() {
        return problem(
            "the URL has no host",
            "use e.g. `https://clover.example.com/clover`",
        );
    }
    match scheme {
        "https" => Ok(()),
        "http" if matches!(host, "localhost" | "127.0.0.1" | "[::1]") => Ok(()),
        "http" => problem(
            "plain http sends the server password in clear text",
            "use https; http is allowed only to localhost or 127.0.0.1",
        ),
        _ => problem(
            format!("`{scheme}` is not an http(s) scheme"),
            "use an https URL",
        ),
    }
}

/// The host of `rest` (what follows `scheme://`), without user info and port.
fn url_host(rest: &str) -> &str {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.starts_with('[') {
        return host_port.split_inclusive(']').next().unwrap_or(host_port);
    }
    host_port.split(':').next().unwrap_or(host_port)
}

fn ipv4_cidr(v: &str) -> Check {
    let ok = v.split_once('/').is_some_and(|(addr, bits)| {
        addr.parse::<std::net::Ipv4Addr>().is_ok()
            && bits.parse::<u8>().is_ok_and(|b| b <= 32)
            && !bits.starts_with('+')
    });
    if !ok {
        return problem(
            "not an IPv4 CIDR block",
            "write the network as ADDRESS/BITS, e.g. `10.0.0.0/16`",
        );
    }
    Ok(())
}

fn https_url(v: &str) -> Check {
    if !url_chars_ok(v) {
        return problem(
            "the URL holds characters a URL cannot (spaces, quotes, `\\`, non-ASCII)",
            "percent-encode them, e.g. `'` as %27",
        );
    }
    match v.strip_prefix("https://") {
        Some(rest) if !url_host(rest).is_empty() => Ok(()),
        _ => problem("not an https URL", "use an https:// URL"),
    }
}

/// A path with an optional query, as RFC 3986 writes them: printable ASCII from its path and
/// query sets only, other bytes percent-encoded. Control characters, spaces and `#` would change
/// the request line or be cut off by the client.
fn http_path(v: &str) -> Check {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b);
    let bytes = v.as_bytes();
    let well_encoded = bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || (bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    });
    if !v.starts_with('/') || !bytes.iter().all(|&b| allowed(b)) || !well_encoded {
        return problem(
            "not a URL path",
            "give the path on the new server, starting with `/`, e.g. `/clover/`; \
             percent-encode spaces and other characters (`%20`)",
        );
    }
    Ok(())
}

fn file_path(v: &str) -> Check {
    if v.trim().is_empty() || v.contains('\0') {
        return problem("an empty path", "give the path of the file");
    }
    Ok(())
}

fn sha256(v: &str) -> Check {
    if v.len() != 64 || !crate::cloud::is_lower_hex(v) {
        return problem(
            "a sha256 digest is 64 lowercase hex digits",
            "compute it with `sha256sum clover.war`",
        );
    }
    Ok(())
}

fn fingerprint(v: &str) -> Check {
    if Fingerprint::bytes_of(v).is_none() {
        return problem(
            "a SHA-256 fingerprint is 32 hex bytes, e.g. `AB:CD:…` (95 characters) or 64 hex digits",
            "print it with `openssl x509 -noout -fingerprint -sha256 -in server.crt`",
        );
    }
    Ok(())
}

impl Fingerprint {
    /// The 32 bytes a fingerprint spells, with or without colons, in either case.
    pub fn bytes_of(v: &str) -> Option<[u8; 32]> {
        let hex: String = if v.len() == 95 {
            let pairs: Vec<&str> = v.split(':').collect();
            if pairs.len() != 32 || pairs.iter().any(|p| p.len() != 2) {
                return None;
            }
            pairs.concat()
        } else {
            v.to_owned()
        };
        if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(out)
    }

    /// The pinned bytes (the value passed its rule, so they exist).
    pub fn bytes(&self) -> [u8; 32] {
        Self::bytes_of(&self.0).unwrap_or_default()
    }
}

/// `AB:CD:…`: how a fingerprint is shown, as openssl prints it.
pub fn fingerprint_text(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn env_name(v: &str) -> Check {
    let ok = v.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        return problem(
            "not an environment variable name",
            "use letters, digits and `_`, e.g. `CLOVER_PASSWORD`",
        );
    }
    Ok(())
}

fn user_name(v: &str) -> Check {
    if v.trim().is_empty() || v.chars().any(char::is_control) {
        return problem(
            "an empty or unprintable user name",
            "give the server's user name",
        );
    }
    Ok(())
}

fn sandbox_code(v: &str) -> Check {
    if v.is_empty()
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    {
        return problem(
            "not a sandbox code",
            "give the sandbox's code (letters, digits, `_`, `-`, `.`), as the server lists it",
        );
    }
    Ok(())
}

fn job_path(v: &str) -> Check {
    if v.trim().is_empty() || v.starts_with('/') || v.chars().any(char::is_control) {
        return problem(
            "not a job path",
            "give the job's path inside its sandbox, e.g. `jobflow/Smoke.jbf`",
        );
    }
    Ok(())
}

impl Version {
    /// `(major, minor, patch)`, the order versions compare in.
    pub fn triple(&self) -> (u64, u64, u64) {
        parse_version(&self.0).unwrap_or_default()
    }
}

fn parse_version(v: &str) -> Option<(u64, u64, u64)> {
    let mut parts = v.split('.').map(|p| {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            None
        } else {
            p.parse::<u64>().ok()
        }
    });
    let triple = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(triple)
}

fn version(v: &str) -> Check {
    if parse_version(v).is_none() {
        return problem(
            "not a MAJOR.MINOR.PATCH version",
            "write the CloverDX version in full, e.g. `7.0.1`",
        );
    }
    Ok(())
}

impl Duration {
    pub fn seconds(&self) -> u64 {
        parse_duration(&self.0).unwrap_or_default()
    }

    pub fn std(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.seconds())
    }
}

/// Longest accepted duration: a week. Anything longer is a typo, not a timeout.
const MAX_DURATION_SECS: u64 = 7 * 24 * 3600;

fn parse_duration(v: &str) -> Option<u64> {
    let mut total = 0u64;
    let mut rest = v;
    let mut last_unit = usize::MAX;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        let unit = rest[digits..].chars().next()?;
        let (rank, scale) = match unit {
            'h' => (0, 3600),
            'm' => (1, 60),
            's' => (2, 1),
            _ => return None,
        };
        // Units in descending order, each at most once: `1h30m`, never `30m1h` or `1m1m`.
        if last_unit != usize::MAX && rank <= last_unit {
            return None;
        }
        last_unit = rank;
        total = total.checked_add(n.checked_mul(scale)?)?;
        rest = &rest[digits + 1..];
    }
    (total <= MAX_DURATION_SECS).then_some(total)
}

fn duration(v: &str) -> Check {
    if parse_duration(v).is_none() {
        return problem(
            "not a duration",
            "write a number and a unit, e.g. `90s`, `10m`, `1h` or `1h30m`, at most a week",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Some(90));
        assert_eq!(parse_duration("10m"), Some(600));
        assert_eq!(parse_duration("1h30m"), Some(5400));
        assert_eq!(parse_duration("30m1h"), None);
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("10 m"), None);
        assert_eq!(parse_duration("9999h"), None);
        assert_eq!(parse_duration(""), None);
    }

    #[test]
    fn versions_compare_numerically() {
        let v = |s: &str| Version::try_from(s.to_owned()).map(|v| v.triple());
        assert_eq!(v("6.4.2"), Ok((6, 4, 2)));
        assert!(v("6.10.0") > v("6.9.9"));
        assert!(v("7.0").is_err());
        assert!(v("7.0.1-rc1").is_err());
    }

    #[test]
    fn server_urls_are_https_or_local_http() {
        assert!(server_url("https://clover.example.com/clover").is_ok());
        assert!(server_url("http://localhost:8080/clover").is_ok());
        assert!(server_url("http://127.0.0.1:8080/clover").is_ok());
        assert!(server_url("http://clover.example.com/clover").is_err());
        assert!(server_url("http://localhost.evil.com/clover").is_err());
        assert!(server_url("ftp://clover.example.com").is_err());
        assert!(server_url("http://evil.com\\@localhost/clover").is_err());
        assert!(server_url("http://user@localhost/clover").is_err());
        assert!(server_url("https://exa mple.com/clover").is_err());
        assert!(https_url("https://example.com/it's.war").is_err());
    }

    #[test]
    fn every_rule_name_is_unique() {
        let mut names: Vec<_> = RULES.iter().map(|r| r.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), RULES.len());
    }
}
