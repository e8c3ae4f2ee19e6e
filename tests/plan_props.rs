//! Property tests: over generated valid specs (every cloud and strategy, reused snapshots or
//! not, with and without license and address move, and random hooks), the compiled plan is
//! acyclic, keeps the runbook's ordering rules and its safety invariant, honours every hook's
//! `after`/`before`, and compiles to identical output every time. Specs whose random hooks
//! form a cycle must be rejected with `spec::cycle` instead.

use std::collections::BTreeSet;

use cloverlift::plan::{Plan, invariant};
use cloverlift::source::SourceFile;
use cloverlift::spec::load::{ValidSpec, load};
use petgraph::algo::{has_path_connecting, toposort};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Params {
    cloud: usize,
    war: bool,
    reuse_snapshots: bool,
    license: bool,
    move_address: bool,
    /// Per hook: indices (into the plan's step ids so far) to run after and before.
    hooks: Vec<(Vec<usize>, Vec<usize>)>,
}

fn params() -> impl Strategy<Value = Params> {
    let hook = (
        prop::collection::vec(0usize..64, 0..3),
        prop::collection::vec(0usize..64, 0..3),
    );
    (
        0usize..3,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(hook, 0..6),
    )
        .prop_map(
            |(cloud, war, reuse_snapshots, license, move_address, hooks)| Params {
                cloud,
                war,
                reuse_snapshots: reuse_snapshots && !war,
                license,
                move_address: move_address && !war,
                hooks,
            },
        )
}

fn spec_text(p: &Params, hooks: &str) -> String {
    let (cloud, from, to, snapshots) = match p.cloud {
        0 => (
            "aws",
            "  aws:\n    region: eu-west-1\n    instance_id: i-0123456789abcdef0\n    db_instance: clover-db\n    data_volume: vol-0123456789abcdef0\n    elastic_ip: eipalloc-0123456789abcdef0\n",
            "  aws:\n    image_id: ami-0123456789abcdef0\n    instance_type: m6i.xlarge\n    key_name: ops\n    subnet_id: subnet-0123456789abcdef0\n    db_instance_class: db.m6g.large\n",
            "snapshots:\n  database: clover-db-before\n  data: snap-0123456789abcdef0\n",
        ),
        1 => (
            "azure",
            "  azure:\n    subscription: 3f2c6a1e-8b4d-4c2a-9e7f-1a2b3c4d5e6f\n    resource_group: clover\n    location: westeurope\n    vm: clover-vm\n    data_disk: clover-data\n    postgres_server: clover-pg\n    public_ip: clover-ip\n",
            "  azure:\n    vm_size: Standard_D4s_v5\n    image: { publisher: cloverdx, offer: cloverdx-server, sku: byol, version: 7.0.1 }\n    subnet_id: /subscriptions/3f2c6a1e-8b4d-4c2a-9e7f-1a2b3c4d5e6f/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/apps\n    admin_username: cloveradmin\n    ssh_public_key: { file: keys/ops.pub }\n    postgres_sku: Standard_D2ds_v5\n",
            "snapshots:\n  database: 2026-11-20T22:00:00Z\n  data: clover-data-before\n",
        ),
        _ => (
            "gcp",
            "  gcp:\n    project: acme-clover\n    region: europe-west1\n    zone: europe-west1-b\n    instance: clover-vm\n    data_disk: clover-data\n    sql_instance: clover-pg\n    address: clover-ip\n",
            "  gcp:\n    machine_type: n2-standard-4\n    image: projects/cloverdx-public/global/images/cloverdx-7\n    network: default\n    subnetwork: default\n    sql_tier: db-custom-2-7680\n",
            "snapshots:\n  database: \"1732140000000\"\n  data: clover-data-before\n",
        ),
    };
    let mut s = format!(
        "version: 1\nname: prop\ncloud: {cloud}\nstrategy: {}\nfrom:\n  version: 6.4.2\n  server:\n    url: https://clover.example.com/clover\n    username: clover\n    password: {{ env: PW }}\n{from}to:\n  version: 7.0.1\n",
        if p.war { "war" } else { "architecture" }
    );
    if p.license {
        s.push_str("  license: { env: LICENSE }\n");
    }
    if p.war {
        s.push_str("  war: { file: clover.war, sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 }\n");
    } else {
        s.push_str(to);
    }
    if p.reuse_snapshots {
        s.push_str(snapshots);
    }
    s.push_str(&format!("steps:\n  move_address: {}\n", p.move_address));
    s.push_str(hooks);
    s
}

fn compile(
    text: &str,
) -> (
    ValidSpec,
    Result<Plan, Vec<cloverlift::diagnostics::SpecError>>,
) {
    let file = SourceFile::new("prop.yaml", text);
    let valid = load(&file).unwrap_or_else(|e| panic!("generated spec is invalid: {e:?}\n{text}"));
    let plan = cloverlift::plan::compile(&valid);
    (valid, plan)
}

/// A generated hook: its name and what it runs after and before.
type GenHook = (String, Vec<String>, Vec<String>);

/// Hooks whose references are drawn from the built-in steps of this plan and earlier hooks.
fn hooks_yaml(p: &Params, builtin_ids: &[String]) -> (String, Vec<GenHook>) {
    let mut names: Vec<String> = builtin_ids.to_vec();
    let mut text = String::new();
    let mut hooks = Vec::new();
    if !p.hooks.is_empty() {
        text.push_str("hooks:\n");
    }
    for (i, (after, before)) in p.hooks.iter().enumerate() {
        let name = format!("hook-{i}");
        let pick = |ix: &Vec<usize>| -> Vec<String> {
            let set: BTreeSet<String> = ix.iter().map(|j| names[j % names.len()].clone()).collect();
            set.into_iter().collect()
        };
        let (a, b) = (pick(after), pick(before));
        text.push_str(&format!(
            "  - name: {name}\n    command: [./run.sh, \"{i}\"]\n    after: [{}]\n    before: [{}]\n",
            a.join(", "),
            b.join(", ")
        ));
        hooks.push((name.clone(), a, b));
        names.push(name);
    }
    (text, hooks)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn compiled_plans_keep_order_and_invariants(p in params()) {
        let (_, base) = compile(&spec_text(&p, ""));
        let base = base.expect("a spec without hooks always compiles");
        let builtin_ids: Vec<String> = base.schedule.order.iter().map(|&ix| base.step(ix).id.clone()).collect();
        let (hooks_text, hooks) = hooks_yaml(&p, &builtin_ids);
        let text = spec_text(&p, &hooks_text);
        let (valid, result) = compile(&text);
        let plan = match result {
            Ok(plan) => plan,
            Err(errors) => {
                // Random hooks may close a cycle; that must be the only complaint.
                prop_assert!(errors.iter().all(|e| e.code_string() == "spec::cycle"), "{errors:?}");
                return Ok(());
            }
        };
        let g = &plan.graph;
        prop_assert!(toposort(g, None).is_ok(), "cyclic plan");
        for e in g.edge_indices() {
            let (a, b) = g.edge_endpoints(e).expect("edge");
            prop_assert!(plan.schedule.level(a) < plan.schedule.level(b));
        }
        prop_assert_eq!(invariant::violations(&plan), Vec::<String>::new());
        // What validates renders: a valid spec never fails at render.
        let rendered = cloverlift::render::Renderer::new(&Default::default())
            .and_then(|r| r.render(&valid, &plan));
        prop_assert!(rendered.is_ok(), "valid but does not render: {:?}\n{text}", rendered.err());

        let id = |name: &str| plan.find(name);
        let edge = |a: &str, b: &str| match (id(a), id(b)) {
            (Some(x), Some(y)) => g.contains_edge(x, y),
            _ => false,
        };
        let reaches = |a: &str, b: &str| match (id(a), id(b)) {
            (Some(x), Some(y)) => has_path_connecting(g, x, y, None),
            _ => false,
        };
        let fresh = !p.reuse_snapshots;
        if fresh {
            for snap in ["snapshot-database", "snapshot-data"] {
                prop_assert!(edge("pause", snap));
                prop_assert!(edge(snap, "await-snapshots"));
            }
            prop_assert!(reaches("pause", "resume"));
        } else {
            for gone in ["pause", "snapshot-database", "snapshot-data", "resume", "await-snapshots"] {
                prop_assert!(id(gone).is_none(), "{gone} with reused snapshots");
            }
        }
        if p.war {
            prop_assert!(edge("await-snapshots", "stop-service"));
            prop_assert!(edge("stop-service", "replace-war"));
            prop_assert!(edge("replace-war", "start-service"));
            prop_assert!(edge("verify", "resume"));
            prop_assert_eq!(id("activate").is_some(), p.license);
        } else {
            if fresh {
                prop_assert!(edge("snapshot-database", "resume"));
                prop_assert!(edge("snapshot-data", "resume"));
                prop_assert!(edge("await-snapshots", "deploy"));
                // Resume waits for the snapshots' initiation only, and deploy never for resume.
                prop_assert!(!edge("await-snapshots", "resume"));
                prop_assert!(!edge("resume", "deploy"));
            }
            prop_assert_eq!(id("move-address").is_some(), p.move_address);
            if p.move_address {
                prop_assert!(edge("verify", "cutover"));
                prop_assert!(edge("cutover", "move-address"));
            }
            prop_assert_eq!(id("restore-database").is_some(), p.cloud == 2);
        }
        for (name, after, before) in &hooks {
            for a in after {
                prop_assert!(edge(a, name), "{a} → {name}");
            }
            for b in before {
                prop_assert!(edge(name, b), "{name} → {b}");
            }
        }
        // The critical path is a chain of real edges from a source to a sink.
        let cp = &plan.schedule.critical_path;
        prop_assert!(!cp.is_empty());
        for w in cp.windows(2) {
            prop_assert!(g.contains_edge(w[0], w[1]));
        }
        prop_assert_eq!(g.neighbors_directed(cp[0], petgraph::Direction::Incoming).count(), 0);
        prop_assert_eq!(g.neighbors(cp[cp.len() - 1]).count(), 0);

        // Deterministic: a second compile renders byte-identical JSON.
        let (valid2, again) = compile(&text);
        let again = again.expect("compiles again");
        prop_assert_eq!(
            cloverlift::plan::format::json::render(&plan, &valid2.spec),
            cloverlift::plan::format::json::render(&again, &valid2.spec)
        );
    }
}
