//! Systems: everything one modelled system is, one folder each, behind [`System`].
//!
//! A system owns its processes and messages, its config (the scenario's `system:` section,
//! deserialised straight into [`System::Config`]), its validation, the roles its processes
//! play, its named properties (each *always*, *sometimes* or *eventually*, with a one-line
//! meaning), its online monitor, its end-of-run judge (ground truth: durability and its
//! own properties) and the sections it adds to a report ([`SystemReport`]).
//!
//! [`systems!`](crate::systems) below is the one place that lists the systems: one line
//! each, the scenario's variant name and the type. It generates [`AnySystem`], the
//! `system:` section of a scenario, which dispatches statically to the system's type
//! through a [`Visitor`]. Nothing in `scenario/`, `simulation/`, `check/`, `report/`,
//! `sweep/` or `cli/` names a particular system.
//!
//! Adding a system: a folder with a type implementing [`System`], one line in the list.
//! docs/extending.md walks through one.

pub mod failover;
pub mod kv;
pub mod raft;

use crate::check::durability::Durability;
use crate::check::expect::{PropertyResult, WORLD_SOMETIMES};
use crate::history::History;
use crate::metrics::table::Section;
use crate::process::{NodeId, Process};
use crate::scenario::SystemSection;
use crate::sim::SimTime;
use crate::workload::WorkloadSpec;
use crate::world::network::NodeInfo;
use crate::world::{Monitor, Spawner, World};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize, Serializer};
use std::any::Any;
use std::collections::BTreeSet;
use std::fmt::Debug;
use std::sync::Arc;

/// The one list of systems: `Variant => Type`, the variant as scenarios write it
/// (`system: Raft(...)`).
macro_rules! systems {
    ($($(#[$doc:meta])* $variant:ident => $system:ty,)+) => {
        /// A scenario's `system:` section: one variant per system, holding its config.
        /// Written as a struct variant, `Raft(heartbeat: "50ms", ..)`.
        #[derive(Clone, Debug, Serialize)]
        pub enum AnySystem {
            $($(#[$doc])* $variant(<$system as System>::Config),)+
        }

        impl<'de> Deserialize<'de> for AnySystem {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                const VARIANTS: &[&str] = &[$(stringify!($variant),)+];
                struct Any;
                impl<'de> serde::de::Visitor<'de> for Any {
                    type Value = AnySystem;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        write!(f, "a system, one of {}", VARIANTS.join(", "))
                    }
                    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, data: A) -> Result<AnySystem, A::Error> {
                        use serde::de::{Error, VariantAccess};
                        let (VariantName(name), variant) = data.variant()?;
                        $(if name == stringify!($variant) {
                            return variant.struct_variant(&[], ConfigFields::<<$system as System>::Config>::new())
                                .map(AnySystem::$variant);
                        })+
                        Err(A::Error::unknown_variant(&name, VARIANTS))
                    }
                }
                d.deserialize_enum("AnySystem", VARIANTS, Any)
            }
        }

        impl AnySystem {
            /// Calls `v` with the system's type and its config (static dispatch).
            pub fn visit<V: Visitor>(&self, v: V) -> V::Output {
                match self {
                    $(AnySystem::$variant(config) => v.visit::<$system>(config),)+
                }
            }

            /// Every system's name and declared properties, in list order.
            pub fn catalogue() -> Vec<(&'static str, &'static [PropertyDecl])> {
                vec![$((<$system as System>::NAME, <$system as System>::PROPERTIES),)+]
            }
        }
    };
}

systems! {
    /// One key-value server with a log on disk (`hello-kv`).
    KeyValue => kv::KeyValue,
    /// A Raft cluster with a replicated key-value store.
    Raft => raft::Raft,
    /// A primary and its backups: heartbeats, failure detection, promotion and fencing.
    Failover => failover::Failover,
}

/// Reads a system's config from the fields of a struct variant (`Raft(heartbeat: ..)`).
struct ConfigFields<C>(std::marker::PhantomData<C>);

impl<C> ConfigFields<C> {
    fn new() -> Self {
        ConfigFields(std::marker::PhantomData)
    }
}

impl<'de, C: Deserialize<'de>> serde::de::Visitor<'de> for ConfigFields<C> {
    type Value = C;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("the system's fields, e.g. (heartbeat: \"50ms\")")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<C, A::Error> {
        C::deserialize(serde::de::value::MapAccessDeserializer::new(map))
    }
}

/// An enum variant's name, as read by `deserialize_identifier`.
struct VariantName(String);

impl<'de> Deserialize<'de> for VariantName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Name;
        impl serde::de::Visitor<'_> for Name {
            type Value = VariantName;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a system's name")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<VariantName, E> {
                Ok(VariantName(v.to_string()))
            }
        }
        d.deserialize_identifier(Name)
    }
}

/// A scenario of any system.
pub type Scenario = crate::scenario::Scenario<AnySystem>;
/// The raw schema of a scenario of any system.
pub type RawScenario = crate::scenario::raw::RawScenario<AnySystem>;

/// Reads and validates a scenario file of any system.
pub fn load(path: &std::path::Path) -> Result<Scenario, crate::scenario::ScenarioError> {
    crate::scenario::load(path)
}

/// Parses and validates scenario text of any system; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<Scenario, crate::scenario::ScenarioError> {
    crate::scenario::parse(text, file)
}

/// How a declared property is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PropertyKind {
    /// Holds in every state of every run (a safety property): `Property(name)`.
    Always,
    /// Reached by some seed of a sweep: `Sometimes(name)`, judged by `check`.
    Sometimes,
    /// Reached in every run once faults stop (a liveness property).
    Eventually,
}

/// A named property a system declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PropertyDecl {
    pub name: &'static str,
    pub kind: PropertyKind,
    pub meaning: &'static str,
}

/// A role a system's processes play, as fault targets name it (`Role("leader")`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoleDecl {
    pub name: &'static str,
    pub meaning: &'static str,
}

/// What a system builds its processes from: every node (the topology's, then the
/// workload's clients) and the workload.
pub struct Setup<'a> {
    pub nodes: &'a [NodeInfo],
    /// The index of the first client node; clients follow the topology's nodes.
    pub first_client: u32,
    pub workload: Arc<WorkloadSpec>,
}

impl Setup<'_> {
    /// The node of this name. Validation has checked every name a config holds.
    pub fn id_of(&self, name: &str) -> NodeId {
        let i = self.nodes.iter().position(|n| n.name == name).expect("validation: every name is a node");
        NodeId(u32::try_from(i).expect("fewer than 2^32 nodes"))
    }

    /// What a spawner needs to build the workload's clients (it outlives the setup).
    pub fn clients(&self) -> Clients {
        Clients { first: self.first_client, spec: self.workload.clone() }
    }

    /// The names of the topology's nodes (clients excluded), in order.
    pub fn topology_names(&self) -> Vec<String> {
        self.nodes[..self.first_client as usize].iter().map(|n| n.name.clone()).collect()
    }
}

/// The workload's clients, for a spawner: node `id` is a client if it comes after the
/// topology's nodes, and drives the workload with its own driver.
#[derive(Clone, Debug)]
pub struct Clients {
    first: u32,
    spec: Arc<WorkloadSpec>,
}

impl Clients {
    /// The driver of client node `id` (a fresh one: at the start, or at a restart), or
    /// `None` if `id` is not a client.
    pub fn driver(&self, id: NodeId) -> Option<crate::workload::Driver> {
        let client = crate::history::ClientId(id.0.checked_sub(self.first)?);
        Some(crate::workload::Driver::new(client, self.spec.clone()))
    }
}

/// The property every key-value system declares: its register history is linearizable
/// (checked by `check::durability::key_checks`).
pub const LINEARIZABLE: PropertyDecl = PropertyDecl {
    name: "linearizable",
    kind: PropertyKind::Always,
    meaning: "the clients' reads and writes have one order, consistent with real time, in which every read sees the latest write",
};

/// What a system brings to a run: how its processes are built (at the start and at every
/// restart, from the node's durable disk), and its online monitor.
pub struct Parts<P: Process> {
    pub spawner: Spawner<P>,
    pub monitor: Option<Monitor<P>>,
}

/// What a system's judge found at the end of a run.
#[derive(Debug, Default)]
pub struct Judgement {
    pub durability: Durability,
    /// Its properties as judged, in the order it declares them.
    pub properties: Vec<PropertyResult>,
    /// Its "sometimes" events this run reached.
    pub reached: Vec<&'static str>,
    pub report: SystemReport,
}

/// A system: one folder, one type. Every function is static: the config carries the
/// scenario's knobs, the world what happened.
pub trait System: 'static {
    /// The name people use for it (in messages: "applies to Raft systems only").
    const NAME: &'static str;
    /// Its named properties; `Sometimes` ones come before the world's in coverage tables.
    const PROPERTIES: &'static [PropertyDecl];
    /// The roles its processes play.
    const ROLES: &'static [RoleDecl];

    /// The scenario's `system:` section.
    type Config: Clone + Debug + Serialize + DeserializeOwned + Send + Sync;
    /// One node's process: an enum over the system's kinds of process (static dispatch).
    type Node: Process;

    /// Cross-field checks beyond what the config's types say, against the topology's node
    /// names; a failure is (path inside the section, message with a hint).
    fn validate(config: &Self::Config, nodes: &BTreeSet<String>) -> Result<(), (String, String)>;

    /// The processes and the monitor of a run.
    fn build(config: &Self::Config, setup: &Setup) -> Parts<Self::Node>;

    /// Ground truth at the end of the run (the world after its last event).
    fn judge(config: &Self::Config, world: &World<Self::Node>, setup: &Setup) -> Judgement;

    /// What the system can say about a service still not recovered at `deadline` after the
    /// liveness phase began at `quiet` (e.g. when the last leader was elected).
    fn liveness_note(
        _config: &Self::Config,
        _history: &History,
        _quiet: SimTime,
        _deadline: SimTime,
    ) -> Option<String> {
        None
    }
}

/// A generic function over systems, called by [`AnySystem::visit`] with the system's type.
pub trait Visitor {
    type Output;
    fn visit<S: System>(self, config: &S::Config) -> Self::Output;
}

/// Serialisable figures of one system, kept in the run result under the system's key.
pub trait Figures: erased_serde::Serialize + Debug + Send + Sync {
    fn as_any(&self) -> &dyn Any;
}

impl<T: Serialize + Debug + Send + Sync + 'static> Figures for T {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

erased_serde::serialize_trait_object!(Figures);

/// The part of a run's report a system adds: figures for the JSON report (under `key`),
/// titled sections for the Markdown and HTML pages, and lines for the terminal summary.
#[derive(Clone, Debug, Default)]
pub struct SystemReport {
    pub figures: Option<(&'static str, Arc<dyn Figures>)>,
    pub sections: Vec<Section>,
    /// Terminal lines, each `(label, text)`: printed as the summary's other lines are.
    pub terminal: Vec<(&'static str, String)>,
}

impl SystemReport {
    /// The system's figures, if they are of type `T`.
    pub fn figures<T: 'static>(&self) -> Option<&T> {
        self.figures.as_ref().and_then(|(_, f)| f.as_any().downcast_ref())
    }
}

/// Serialised as a map of its one entry (`key: figures`), or of none: flattened into the
/// run result, it reads as one more field of it.
impl Serialize for SystemReport {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(usize::from(self.figures.is_some())))?;
        if let Some((key, figures)) = &self.figures {
            map.serialize_entry(key, figures.as_ref())?;
        }
        map.end()
    }
}

/// The scenario layer's view of the `system:` section.
impl SystemSection for AnySystem {
    fn validate(&self, nodes: &BTreeSet<String>) -> Result<(), (String, String)> {
        struct V<'a>(&'a BTreeSet<String>);
        impl Visitor for V<'_> {
            type Output = Result<(), (String, String)>;
            fn visit<S: System>(self, config: &S::Config) -> Self::Output {
                S::validate(config, self.0)
            }
        }
        self.visit(V(nodes))
    }

    fn roles(&self) -> Vec<&'static str> {
        self.visit(Roles)
    }

    fn properties(&self) -> Vec<&'static str> {
        self.visit(Declared(PropertyKind::Always))
    }

    fn sometimes(&self) -> Vec<&'static str> {
        let mut names = self.visit(Declared(PropertyKind::Sometimes));
        names.extend(WORLD_SOMETIMES.iter().map(|(name, _)| *name));
        names
    }

    fn owner(name: &str) -> Option<&'static str> {
        AnySystem::catalogue()
            .into_iter()
            .find_map(|(system, props)| props.iter().any(|p| p.name == name).then_some(system))
    }
}

struct Roles;

impl Visitor for Roles {
    type Output = Vec<&'static str>;
    fn visit<S: System>(self, _: &S::Config) -> Self::Output {
        S::ROLES.iter().map(|r| r.name).collect()
    }
}

/// The names of the system's properties of one kind, in declared order.
struct Declared(PropertyKind);

impl Visitor for Declared {
    type Output = Vec<&'static str>;
    fn visit<S: System>(self, _: &S::Config) -> Self::Output {
        S::PROPERTIES.iter().filter(|p| p.kind == self.0).map(|p| p.name).collect()
    }
}
