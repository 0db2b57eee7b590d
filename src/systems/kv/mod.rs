//! `KeyValue`: one key-value server with a log on disk, and the workload's clients
//! (`hello-kv` and its variants). The processes are in [`node`]; this file is the system:
//! its config, validation, roles, properties and judge.
//!
//! Ground truth for "no acknowledged write lost": [`node::authoritative_writes`] decodes
//! the server's log as the server would see it now; every acknowledged write must be in it.

pub mod node;

use super::{Judgement, Parts, PropertyDecl, RoleDecl, Setup, System};
use crate::check::durability::{durability, key_checks};
use crate::process::NodeId;
use crate::scenario::raw::{one_second, yes, Dur};
use crate::world::{Spawner, World};
use node::{KvClient, KvNode, KvServer, KvServerConfig};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The scenario's `system: KeyValue(...)` section.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KvConfig {
    /// The node that runs the server.
    pub server: String,
    #[serde(default = "yes")]
    pub fsync_before_ack: bool,
    /// Without `fsync_before_ack`: how often the log is synced in the background.
    #[serde(default = "one_second")]
    pub sync_interval: Dur,
    /// Records carry a CRC-32C, verified on reads and at recovery.
    #[serde(default)]
    pub checksums: bool,
    /// Reads fetch the record from disk instead of memory.
    #[serde(default)]
    pub reads_from_disk: bool,
}

impl KvConfig {
    fn server_config(&self) -> KvServerConfig {
        KvServerConfig {
            fsync_before_ack: self.fsync_before_ack,
            sync_interval: self.sync_interval.0,
            checksums: self.checksums,
            reads_from_disk: self.reads_from_disk,
        }
    }
}

/// The key-value system.
pub struct KeyValue;

/// What the server observes when a record fails its checksum.
pub const CHECKSUM_MISMATCH: &str = "checksum_mismatch";

impl System for KeyValue {
    const NAME: &'static str = "KeyValue";
    const PROPERTIES: &'static [PropertyDecl] = &[super::LINEARIZABLE];
    const ROLES: &'static [RoleDecl] = &[
        RoleDecl { name: "server", meaning: "the key-value server" },
        RoleDecl { name: "client", meaning: "a workload client" },
    ];

    type Config = KvConfig;
    type Node = KvNode;

    fn validate(config: &KvConfig, nodes: &BTreeSet<String>) -> Result<(), (String, String)> {
        if !nodes.contains(&config.server) {
            let server = &config.server;
            return Err((
                "server".into(),
                format!("server '{server}' is not a node of the topology; add it to topology.nodes or fix the name"),
            ));
        }
        Ok(())
    }

    fn build(config: &KvConfig, setup: &Setup) -> Parts<KvNode> {
        let server = setup.id_of(&config.server);
        let server_config = config.server_config();
        let clients = setup.clients();
        let spawner: Spawner<KvNode> = Box::new(move |id: NodeId, disk| {
            if id == server {
                KvNode::Server(KvServer::recover(server_config, disk))
            } else if let Some(driver) = clients.driver(id) {
                KvNode::Client(KvClient { driver, server })
            } else {
                KvNode::Idle
            }
        });
        Parts { spawner, monitor: None }
    }

    fn judge(config: &KvConfig, world: &World<KvNode>, setup: &Setup) -> Judgement {
        let server = &world.nodes[setup.id_of(&config.server).index()];
        let truth = node::authoritative_writes(&config.server_config(), &server.disk, server.is_up());
        let mut durability = durability(&world.history, |k, v| truth.contains(&(k, v)));
        let (wrong_reads, linearizable) = key_checks(&world.history);
        durability.wrong_reads = wrong_reads;
        durability.detected_corruptions =
            world.history.observations.iter().filter(|o| o.name == CHECKSUM_MISMATCH).count() as u64;
        Judgement {
            durability,
            properties: vec![linearizable],
            reached: Vec::new(),
            report: Default::default(),
        }
    }
}
