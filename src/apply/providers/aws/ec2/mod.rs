//! The thirteen EC2 operations apply makes, over EC2's Query API.
//!
//! Why not `aws-sdk-ec2`: it is generated for EC2's whole API (hundreds of operations), and one
//! rustc compiling it alone peaked at 6.0 GB and 3 min 41 s on a 2-core machine, more than the
//! rest of the build together (issue 17). These operations are a few lines each over a signed
//! POST; the SDK's signer, credential chain and region come from aws-config as before.

mod client;
pub mod model;
mod query;
mod xml;

use aws_config::SdkConfig;
use base64::Engine as _;

use self::client::Client;
pub use self::client::Ec2Error;
pub use self::model::{
    Address, Instance, IpPermission, SecurityGroup, Snapshot, Subnet, Volume, Vpc,
};
use self::query::Params;

pub struct Ec2 {
    client: Client,
}

impl Ec2 {
    /// A client for the configuration's region, its credentials chain and its endpoint: an
    /// explicit `--endpoint-url`, else `AWS_ENDPOINT_URL_EC2`, else aws-config's own
    /// (`AWS_ENDPOINT_URL`, the profile's `endpoint_url`), else EC2's public endpoint.
    pub fn new(config: &SdkConfig, explicit_endpoint: Option<&str>) -> Result<Ec2, String> {
        let region = config
            .region()
            .map(|r| r.as_ref().to_owned())
            .ok_or("no AWS region")?;
        let credentials = config
            .credentials_provider()
            .ok_or("no AWS credentials provider")?;
        let endpoint = match explicit_endpoint {
            Some(url) => url.to_owned(),
            None => configured_endpoint(config).unwrap_or_else(|| {
                public_endpoint(
                    &region,
                    config.use_fips().unwrap_or(false),
                    config.use_dual_stack().unwrap_or(false),
                )
            }),
        };
        Ok(Ec2 {
            client: Client::new(&endpoint, &region, credentials)?,
        })
    }

    pub async fn describe_instances(&self, ids: &[&str]) -> Result<Vec<Instance>, Ec2Error> {
        let p = Params::new("DescribeInstances").list("InstanceId", ids);
        self.client.describe(&p, Instance::all_in).await
    }

    pub async fn describe_volumes(&self, ids: &[&str]) -> Result<Vec<Volume>, Ec2Error> {
        let p = Params::new("DescribeVolumes").list("VolumeId", ids);
        self.client.describe(&p, Volume::all_in).await
    }

    pub async fn describe_snapshots(&self, ids: &[&str]) -> Result<Vec<Snapshot>, Ec2Error> {
        let p = Params::new("DescribeSnapshots").list("SnapshotId", ids);
        self.client.describe(&p, Snapshot::all_in).await
    }

    /// This account's snapshots carrying the tag `key=value`. `Owner=self`: without it EC2
    /// searches every public snapshot in the region as well.
    pub async fn snapshots_tagged(
        &self,
        key: &str,
        value: &str,
    ) -> Result<Vec<Snapshot>, Ec2Error> {
        let p = Params::new("DescribeSnapshots")
            .list("Owner", &["self"])
            .filter(&format!("tag:{key}"), &[value]);
        self.client.describe(&p, Snapshot::all_in).await
    }

    /// `CreateSnapshot` of `volume`, with `tags` on the new snapshot.
    pub async fn create_snapshot(
        &self,
        volume: &str,
        description: &str,
        tags: &[(&str, &str)],
    ) -> Result<Snapshot, Ec2Error> {
        let p = Params::new("CreateSnapshot")
            .set("VolumeId", volume)
            .set("Description", description)
            .tag_specification("snapshot", tags);
        let answer = self.client.call(&p, false).await?;
        Ok(Snapshot::from_node(&answer))
    }

    pub async fn describe_security_groups(
        &self,
        ids: &[&str],
    ) -> Result<Vec<SecurityGroup>, Ec2Error> {
        let p = Params::new("DescribeSecurityGroups").list("GroupId", ids);
        self.client.describe(&p, SecurityGroup::all_in).await
    }

    pub async fn describe_subnets(&self, ids: &[&str]) -> Result<Vec<Subnet>, Ec2Error> {
        let p = Params::new("DescribeSubnets").list("SubnetId", ids);
        self.client.describe(&p, Subnet::all_in).await
    }

    pub async fn describe_vpcs(&self, ids: &[&str]) -> Result<Vec<Vpc>, Ec2Error> {
        let p = Params::new("DescribeVpcs").list("VpcId", ids);
        self.client.describe(&p, Vpc::all_in).await
    }

    pub async fn describe_addresses(&self, allocations: &[&str]) -> Result<Vec<Address>, Ec2Error> {
        let p = Params::new("DescribeAddresses").list("AllocationId", allocations);
        self.client.describe(&p, Address::all_in).await
    }

    /// The ids of those of `ids` that exist (`DescribeImages`).
    pub async fn describe_images(&self, ids: &[&str]) -> Result<Vec<String>, Ec2Error> {
        let p = Params::new("DescribeImages").list("ImageId", ids);
        let take = |n: &xml::Node| named(n, "imagesSet", "imageId");
        self.client.describe(&p, take).await
    }

    /// The names of those of `names` that exist (`DescribeKeyPairs`).
    pub async fn describe_key_pairs(&self, names: &[&str]) -> Result<Vec<String>, Ec2Error> {
        let p = Params::new("DescribeKeyPairs").list("KeyName", names);
        let take = |n: &xml::Node| named(n, "keySet", "keyName");
        self.client.describe(&p, take).await
    }

    /// Puts the Elastic IP `allocation` on `instance`, taking it from wherever it is; gives the
    /// association id.
    pub async fn associate_address(
        &self,
        allocation: &str,
        instance: &str,
    ) -> Result<Option<String>, Ec2Error> {
        let p = Params::new("AssociateAddress")
            .set("AllocationId", allocation)
            .set("InstanceId", instance)
            .set("AllowReassociation", "true");
        let answer = self.client.call(&p, false).await?;
        Ok(answer.text_of("associationId").map(str::to_owned))
    }

    /// The instance's console output (`GetConsoleOutput`, base64 in `output`), decoded; `None`
    /// while EC2 has none. `Latest=true` asks for the serial console as it is now, which Nitro
    /// instances offer; elsewhere EC2 keeps only what it buffered around the last state change
    /// ("Only the most recent 64 KB of console output is available", EC2 API reference), so a
    /// refused `Latest` is asked again without it.
    pub async fn console_output(&self, instance: &str) -> Result<Option<String>, Ec2Error> {
        let latest = Params::new("GetConsoleOutput")
            .set("InstanceId", instance)
            .set("Latest", "true");
        let answer = match self.client.call(&latest, true).await {
            Ok(answer) => answer,
            Err(e) if (400..500).contains(&e.status) && e.code != "InvalidInstanceID.NotFound" => {
                let buffered = Params::new("GetConsoleOutput").set("InstanceId", instance);
                self.client.call(&buffered, true).await?
            }
            Err(e) => return Err(e),
        };
        let Some(encoded) = answer.text_of("output").filter(|t| !t.trim().is_empty()) else {
            return Ok(None);
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.split_whitespace().collect::<String>())
            .map_err(|e| Ec2Error {
                status: 200,
                code: "NotBase64".into(),
                message: format!("GetConsoleOutput's output is not base64: {e}"),
                request_id: None,
            })?;
        Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// Stopping a stopped instance is no error, so this may be sent again.
    pub async fn stop_instance(&self, id: &str) -> Result<(), Ec2Error> {
        let p = Params::new("StopInstances").list("InstanceId", &[id]);
        self.client.call(&p, true).await.map(drop)
    }

    /// A reboot sent twice reboots twice: sent again only when EC2 never saw it.
    pub async fn reboot_instance(&self, id: &str) -> Result<(), Ec2Error> {
        let p = Params::new("RebootInstances").list("InstanceId", &[id]);
        self.client.call(&p, false).await.map(drop)
    }
}

/// The `field` of each item of the list `set`.
fn named(answer: &xml::Node, set: &str, field: &str) -> Vec<String> {
    answer
        .items(set)
        .map(|i| i.text_of(field).unwrap_or_default().to_owned())
        .collect()
}

/// An endpoint set for EC2 or for every service, unless configured endpoints are switched off.
fn configured_endpoint(config: &SdkConfig) -> Option<String> {
    let ignore = std::env::var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    if ignore {
        return None;
    }
    std::env::var("AWS_ENDPOINT_URL_EC2")
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| config.endpoint_url().map(str::to_owned))
}

/// EC2's public endpoint for `region` (AWS's endpoint rules for the service): the `ec2-fips`
/// host for FIPS, `api.aws` for dual-stack, `amazonaws.com.cn` in China.
fn public_endpoint(region: &str, fips: bool, dual_stack: bool) -> String {
    let host = if fips { "ec2-fips" } else { "ec2" };
    let domain = match (region.starts_with("cn-"), dual_stack) {
        (true, true) => "api.amazonwebservices.com.cn",
        (true, false) => "amazonaws.com.cn",
        (false, true) => "api.aws",
        (false, false) => "amazonaws.com",
    };
    format!("https://{host}.{region}.{domain}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_endpoints_follow_the_partition_and_the_options() {
        assert_eq!(
            public_endpoint("eu-west-1", false, false),
            "https://ec2.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            public_endpoint("us-gov-west-1", true, false),
            "https://ec2-fips.us-gov-west-1.amazonaws.com"
        );
        assert_eq!(
            public_endpoint("cn-north-1", false, false),
            "https://ec2.cn-north-1.amazonaws.com.cn"
        );
        assert_eq!(
            public_endpoint("us-east-1", false, true),
            "https://ec2.us-east-1.api.aws"
        );
    }
}
