//! The war strategy on Azure: the rendered run command (`war-upgrade.sh` as a managed
//! `virtualMachines/runCommands` resource) on the old VM, once per step with its action
//! (`stop`, `replace`, `start`); each run waits for the command's instance view and reports its
//! exit code and output. The snapshots are taken before, as for the architecture strategy.

use serde_json::{Value, json};

use super::{AzureProvider, api, arm_error};
use crate::plan::step::StepKind;

/// The run command's name, as the template names it.
const RUN_COMMAND: &str = "cloverlift-war-upgrade";
/// How much of the command's output a report quotes.
const OUTPUT_TAIL: usize = 2000;

impl AzureProvider {
    pub(super) async fn war_step(&self, kind: StepKind) -> Result<Value, String> {
        let action = match kind {
            StepKind::StopService => "stop",
            StepKind::ReplaceWar => "replace",
            StepKind::StartService => "start",
            other => return Err(format!("{other} is not a war step")),
        };
        let ids = self.ids()?;
        let from = self.from()?;
        let id = format!("{}/runCommands/{RUN_COMMAND}", ids.vm);
        let body = json!({
            "location": from.location.as_str(),
            "properties": self.run_command_properties(action)?,
        });
        self.wait_for_earlier_run(&id, kind).await?;
        let put = self.arm.put(&id, api::COMPUTE, &body).await;
        let view = self
            .arm
            .read(&format!("{id}?$expand=instanceView"), api::COMPUTE)
            .await
            .map_err(arm_error("read the run command's instance view"))?;
        let v = &view["properties"]["instanceView"];
        let state = v["executionState"].as_str().unwrap_or("?");
        let exit_code = v["exitCode"].as_i64();
        let output = tail(v["output"].as_str().unwrap_or(""));
        let error = tail(v["error"].as_str().unwrap_or(""));
        if let Err(e) = put {
            return Err(format!(
                "war-upgrade.sh {action} on {} ended {state} (exit code {}): {e}; its stderr: {error}",
                from.vm,
                exit_code.map_or("none".into(), |c| c.to_string())
            ));
        }
        if state != "Succeeded" || exit_code != Some(0) {
            return Err(format!(
                "war-upgrade.sh {action} on {} ended {state} (exit code {}); its stderr: {error}",
                from.vm,
                exit_code.map_or("none".into(), |c| c.to_string())
            ));
        }
        self.progress(kind.id(), format!("war-upgrade.sh {action}: exit code 0"));
        Ok(json!({ "action": action, "exit_code": exit_code, "output": output }))
    }

    /// A resumed run may find the command of an interrupted one still executing: Azure takes
    /// no update of a run command while it runs, so wait for it to end first.
    async fn wait_for_earlier_run(&self, id: &str, kind: StepKind) -> Result<(), String> {
        let view = format!("{id}?$expand=instanceView");
        let started = std::time::Instant::now();
        while let Some(found) = self
            .arm
            .get(&view, api::COMPUTE)
            .await
            .map_err(arm_error("read the run command"))?
        {
            let state = found["properties"]["instanceView"]["executionState"]
                .as_str()
                .unwrap_or("Unknown");
            if !matches!(state, "Pending" | "Running") {
                break;
            }
            if started.elapsed() > std::time::Duration::from_secs(3600) {
                return Err(format!(
                    "{id} of an earlier run is still {state} after an hour"
                ));
            }
            self.progress(
                kind.id(),
                format!("an earlier run of the command is {state}; waiting"),
            );
            tokio::time::sleep(self.poll).await;
        }
        Ok(())
    }

    /// The rendered run command's properties, with this action's parameter values: the
    /// template's `[parameters('…')]` placeholders filled from the parameters file, the action
    /// and the WAR's URL.
    fn run_command_properties(&self, action: &str) -> Result<Value, String> {
        let war = self
            .spec
            .to
            .war
            .as_ref()
            .ok_or("the war strategy needs to.war")?;
        let resource = self.template["resources"]
            .as_array()
            .and_then(|r| {
                r.iter()
                    .find(|r| r["type"] == "Microsoft.Compute/virtualMachines/runCommands")
            })
            .ok_or("the rendered template has no run command")?;
        let mut properties = resource["properties"].clone();
        let mut values = serde_json::Map::new();
        for (name, p) in &self.known_parameters {
            values.insert(name.clone(), p["value"].clone());
        }
        values.insert("action".into(), json!(action));
        let url = war.url.as_ref().map(|u| u.to_string()).unwrap_or_default();
        values.insert(
            "warUrl".into(),
            json!(if action == "replace" {
                url
            } else {
                String::new()
            }),
        );
        for list in ["parameters", "protectedParameters"] {
            for p in properties[list].as_array_mut().into_iter().flatten() {
                if let Some(name) = placeholder(&p["value"]) {
                    p["value"] = values.get(name).cloned().unwrap_or(json!(""));
                }
            }
        }
        // A literal string ARM would read as an expression is written `[[…` in the template.
        if let Some(script) = properties["source"]["script"].as_str()
            && let Some(rest) = script.strip_prefix("[[")
        {
            properties["source"]["script"] = json!(format!("[{rest}"));
        }
        Ok(properties)
    }
}

/// `name` of a `[parameters('name')]` value.
fn placeholder(value: &Value) -> Option<&str> {
    value
        .as_str()?
        .strip_prefix("[parameters('")?
        .strip_suffix("')]")
}

fn tail(text: &str) -> String {
    let start = text.len().saturating_sub(OUTPUT_TAIL);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    crate::text::printable(&text[start..]).into_owned()
}
