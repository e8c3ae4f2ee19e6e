//! AWS's part of `cloverlift rollback`: the Elastic IP back on the old instance, the new
//! instance stopped, and on request the new stack deleted (its database and volume leave final
//! snapshots, by their DeletionPolicy).

use serde_json::{Value, json};

use super::{AwsProvider, describe_error};

impl AwsProvider {
    pub(super) async fn move_address_back(&self, _deploy: &Value) -> Result<Value, String> {
        let from = self.from()?;
        let allocation = from
            .elastic_ip
            .as_ref()
            .ok_or("the spec names no from.aws.elastic_ip to move back")?;
        let association = self
            .ec2
            .associate_address(allocation.as_str(), from.instance_id.as_str())
            .await
            .map_err(|e| format!("ec2:AssociateAddress: {e}"))?;
        Ok(json!({
            "allocation": allocation,
            "instance": from.instance_id,
            "association": association,
        }))
    }

    pub(super) async fn stop_new(&self, deploy: &Value) -> Result<Value, String> {
        let instance = deploy["InstanceId"]
            .as_str()
            .ok_or("the journal has no new instance (deploy's InstanceId output)")?;
        self.ec2
            .stop_instance(instance)
            .await
            .map_err(|e| format!("ec2:StopInstances: {e}"))?;
        Ok(json!({ "instance": instance }))
    }

    pub(super) async fn delete_new(&self) -> Result<Value, String> {
        self.cfn
            .delete_stack()
            .stack_name(self.stack_name())
            .send()
            .await
            .map_err(|e| format!("cloudformation:DeleteStack: {}", describe_error(&e)))?;
        Ok(json!({ "stack": self.stack_name() }))
    }
}
