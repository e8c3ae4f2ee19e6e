//! Resolving secret references, which only `apply` does. A resolved secret never reaches the
//! journal, events or logs: its Debug output is redacted.

use std::path::Path;

use crate::spec::model::SecretRef;

/// A secret value. Deliberately neither Display nor Serialize.
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Secret {
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn text(&self) -> Result<String, String> {
        String::from_utf8(self.0.clone()).map_err(|_| "the secret is not UTF-8 text".to_owned())
    }
}

/// Resolves `r`; `file:` paths are relative to the spec's directory.
pub async fn resolve(r: &SecretRef, spec_dir: &Path) -> Result<Secret, String> {
    match r {
        SecretRef::Env(name) => std::env::var(name.as_str())
            .map(|v| Secret(v.into_bytes()))
            .map_err(|_| format!("environment variable {name} is not set")),
        SecretRef::File(path) => {
            let path = spec_dir.join(path.as_str());
            tokio::fs::read(&path)
                .await
                .map(Secret)
                .map_err(|e| format!("cannot read secret file {}: {e}", path.display()))
        }
        SecretRef::AwsSecret(arn) => aws_secret(arn.as_str()).await,
        SecretRef::AzureKeyVault(url) => azure_secret(url.as_str()).await,
        SecretRef::GcpSecret(name) => gcp_secret(name.as_str()).await,
    }
}

#[cfg(feature = "aws")]
async fn aws_secret(arn: &str) -> Result<Secret, String> {
    if arn.contains(":ssm:") {
        return Err(
            "SSM parameter references are not resolved by this build; store the secret in \
                    Secrets Manager"
                .into(),
        );
    }
    // The secret lives in the region its ARN names, whatever the default region is.
    let region = arn.split(':').nth(3).unwrap_or_default().to_owned();
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region))
        .load()
        .await;
    let client = aws_sdk_secretsmanager::Client::new(&config);
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| {
            format!(
                "secretsmanager:GetSecretValue: {}",
                super::providers::aws::describe_error(&e)
            )
        })?;
    if let Some(s) = out.secret_string() {
        return Ok(Secret(s.as_bytes().to_vec()));
    }
    out.secret_binary()
        .map(|b| Secret(b.as_ref().to_vec()))
        .ok_or_else(|| format!("secret {arn} has no value"))
}

#[cfg(not(feature = "aws"))]
async fn aws_secret(_arn: &str) -> Result<Secret, String> {
    Err("aws_secret references need the `aws` feature of cloverlift".into())
}

#[cfg(feature = "azure")]
async fn azure_secret(url: &str) -> Result<Secret, String> {
    super::providers::azure::key_vault::resolve(url)
        .await
        .map(Secret)
}

#[cfg(not(feature = "azure"))]
async fn azure_secret(_url: &str) -> Result<Secret, String> {
    Err("azure_key_vault references need the `azure` feature of cloverlift".into())
}

/// A Secret Manager version, read with Application Default Credentials.
/// `CLOVERLIFT_GCP_SECRET_MANAGER_URL` sends the call elsewhere (a private endpoint, the tests).
#[cfg(feature = "gcp")]
async fn gcp_secret(name: &str) -> Result<Secret, String> {
    let endpoint = std::env::var("CLOVERLIFT_GCP_SECRET_MANAGER_URL").ok();
    let client = super::providers::gcp::clients::secret_manager(endpoint.as_deref()).await?;
    let response = client
        .access_secret_version()
        .set_name(name)
        .send()
        .await
        .map_err(super::providers::gcp::clients::error(&format!(
            "secretmanager versions.access {name}"
        )))?;
    let payload = response
        .payload
        .ok_or_else(|| format!("Secret Manager returned no payload for {name}"))?;
    Ok(Secret(payload.data.to_vec()))
}

#[cfg(not(feature = "gcp"))]
async fn gcp_secret(_name: &str) -> Result<Secret, String> {
    Err("Secret Manager references need the `gcp` feature (the default build)".into())
}
