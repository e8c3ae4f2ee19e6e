//! Each cloud's part of the plan, as same-shaped siblings behind the [`Provider`] trait:
//! snapshots, deployment, the address move and the cloud's preflight checks.
//!
//! [`Provider`]: crate::apply::runner::Provider

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "azure")]
pub mod azure;
#[cfg(feature = "gcp")]
pub mod gcp;

#[cfg(any(feature = "aws", feature = "azure", feature = "gcp"))]
pub use self::select::{Inputs, for_spec};

#[cfg(any(feature = "aws", feature = "azure", feature = "gcp"))]
mod select {
    use std::collections::BTreeMap;
    use std::path::PathBuf;
    use std::sync::Arc;
    use std::time::Duration;

    use crate::apply::events::Events;
    use crate::apply::runner::Provider;
    use crate::spec::model::{Cloud, Spec};

    /// What every provider is built from besides the spec.
    pub struct Inputs<'a> {
        pub endpoint_url: Option<&'a str>,
        /// The rendered files, by name (templates and parameters files).
        pub files: &'a BTreeMap<String, String>,
        pub spec_dir: PathBuf,
        pub accept_marketplace_terms: bool,
        pub events: Arc<dyn Events>,
        pub poll: Duration,
    }

    impl Inputs<'_> {
        fn file(&self, name: &str, default: &str) -> String {
            self.files
                .get(name)
                .cloned()
                .unwrap_or_else(|| default.to_owned())
        }
    }

    /// The provider of the spec's cloud.
    pub async fn for_spec(
        spec: Arc<Spec>,
        inputs: Inputs<'_>,
    ) -> Result<Arc<dyn Provider>, String> {
        match spec.cloud {
            #[cfg(feature = "aws")]
            Cloud::Aws => {
                let provider = super::aws::AwsProvider::new(
                    Arc::clone(&spec),
                    inputs.endpoint_url,
                    inputs.file("cloudformation.yaml", ""),
                    &inputs.file("cloudformation.parameters.json", "[]"),
                    Arc::clone(&inputs.events),
                    inputs.poll,
                )
                .await?;
                Ok(Arc::new(provider))
            }
            #[cfg(feature = "azure")]
            Cloud::Azure => {
                let template = inputs.file("azuredeploy.json", "");
                let parameters = inputs.file("azuredeploy.parameters.json", "");
                let provider = super::azure::AzureProvider::new(
                    spec,
                    super::azure::Options {
                        endpoint_url: inputs.endpoint_url,
                        template: &template,
                        parameters_file: &parameters,
                        spec_dir: inputs.spec_dir,
                        accept_marketplace_terms: inputs.accept_marketplace_terms,
                        events: inputs.events,
                        poll: inputs.poll,
                    },
                )?;
                Ok(Arc::new(provider))
            }
            #[cfg(feature = "gcp")]
            Cloud::Gcp => {
                let blueprint = inputs.file("main.tf.json", "");
                let war_scripts = inputs
                    .files
                    .get(crate::render::gcp::WAR_STARTUP_SCRIPT)
                    .zip(inputs.files.get("war-upgrade.sh"))
                    .map(|(startup, upgrade)| (startup.clone(), upgrade.clone()));
                let provider = super::gcp::GcpProvider::new(
                    spec,
                    super::gcp::Options {
                        endpoint_url: inputs.endpoint_url,
                        blueprint: &blueprint,
                        war_scripts,
                        events: inputs.events,
                        poll: inputs.poll,
                    },
                )
                .await?;
                Ok(Arc::new(provider))
            }
            #[allow(unreachable_patterns)]
            other => Err(format!("apply does not drive {other:?} in this build")),
        }
    }
}
