//! Compiling a prioritised rule list into a structure that answers "which rule matches this
//! flow first?".
//!
//! The matcher knows nothing of Azure. A rule is a [`MatchRule`]: a union of [`MatchBox`]es, each
//! box the product of five per-field sets (protocols, source addresses, source ports, destination
//! addresses, destination ports). That shape holds every NSG rule exactly: an augmented rule's
//! lists are per-field unions, and the "ports only apply to TCP and UDP" rule is a union of two
//! boxes (see `nsg::resolve`). Rule order is priority order: index 0 is evaluated first.
//!
//! Every engine answers with the *index* of the first matching rule, never just a verdict,
//! because every verdict nsgsim prints is explained by the rule that made it.
//!
//! [`LinearMatcher`] is the obviously-correct oracle: it scans the rules in order. The fast
//! engines are tested against it.

mod compiled;
mod dynamic;
mod facade;
mod linear;
pub mod synth;

pub use compiled::{ClassCounts, CompiledMatcher, CompiledStats};
pub use dynamic::{Dynamic, REBUILD_THRESHOLD};
pub use facade::{Engine, Matcher};
pub use linear::LinearMatcher;

use crate::net::{AddrSet, Flow, PortSet, ProtocolSet};

/// One box: the product of five per-field sets. A flow is in the box when each of its fields is
/// in the corresponding set.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MatchBox {
    /// Protocols covered.
    pub protocols: ProtocolSet,
    /// Source addresses covered.
    pub src: AddrSet,
    /// Source ports covered.
    pub src_ports: PortSet,
    /// Destination addresses covered.
    pub dst: AddrSet,
    /// Destination ports covered.
    pub dst_ports: PortSet,
}

impl MatchBox {
    /// The box that holds every flow.
    pub fn any() -> MatchBox {
        MatchBox {
            protocols: ProtocolSet::ALL,
            src: AddrSet::any(),
            src_ports: PortSet::any(),
            dst: AddrSet::any(),
            dst_ports: PortSet::any(),
        }
    }

    /// Whether `flow` lies in the box.
    #[inline]
    pub fn contains(&self, flow: &Flow) -> bool {
        self.protocols.contains(flow.protocol)
            && self.dst_ports.contains(flow.dst_port)
            && self.src_ports.contains(flow.src_port)
            && self.dst.contains(flow.dst)
            && self.src.contains(flow.src)
    }

    /// Whether some flow lies in both boxes. Allocates nothing; the cheap fields go first.
    pub fn overlaps(&self, other: &MatchBox) -> bool {
        self.protocols.overlaps(&other.protocols)
            && self.dst_ports.overlaps(&other.dst_ports)
            && self.src_ports.overlaps(&other.src_ports)
            && self.dst.overlaps(&other.dst)
            && self.src.overlaps(&other.src)
    }

    /// Whether the box holds no flow at all (some field is empty).
    pub fn is_empty(&self) -> bool {
        self.protocols.is_empty()
            || self.src.is_empty()
            || self.src_ports.is_empty()
            || self.dst.is_empty()
            || self.dst_ports.is_empty()
    }
}

/// One rule as the matcher sees it: a union of boxes. An empty union matches nothing.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct MatchRule {
    /// The boxes whose union is the rule's match set.
    pub boxes: Vec<MatchBox>,
}

impl MatchRule {
    /// A rule of a single box.
    pub fn from_box(b: MatchBox) -> MatchRule {
        MatchRule { boxes: vec![b] }
    }

    /// Whether `flow` is in any of the rule's boxes.
    #[inline]
    pub fn contains(&self, flow: &Flow) -> bool {
        self.boxes.iter().any(|b| b.contains(flow))
    }
}

/// Why a rule list could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The rules hold more non-empty boxes than the compiled matcher can number.
    #[error("the rules hold {given} non-empty boxes; the compiled matcher takes at most {limit}")]
    TooManyBoxes {
        /// Boxes counted so far.
        given: usize,
        /// The most allowed.
        limit: usize,
    },
    /// One field's class bitsets would exceed the size limit.
    #[error("one field would need {classes} classes ({bytes} bytes of bitsets); the limit is {limit} bytes")]
    TooLarge {
        /// Bytes needed so far.
        bytes: usize,
        /// The limit.
        limit: usize,
        /// Classes needed so far.
        classes: usize,
    },
}
