//! JIT policies: which ports of a VM are protected, and how access to them may be requested.

use std::fmt;

use ipnet::IpNet;

use crate::model::Vm;
use crate::sim::Duration;

/// The protocol of a JIT port rule: the API's `TCP`, `UDP` or `*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JitProtocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// `*`.
    Any,
}

impl fmt::Display for JitProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JitProtocol::Tcp => "TCP",
            JitProtocol::Udp => "UDP",
            JitProtocol::Any => "*",
        })
    }
}

/// Which sources a request may name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowedSources {
    /// `*`: any source; the portal calls this "per request" (the requester's IP by default).
    Any,
    /// Only these prefixes (`allowedSourceAddressPrefixes`).
    Prefixes(Vec<IpNet>),
}

impl fmt::Display for AllowedSources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllowedSources::Any => f.write_str("* (per request)"),
            AllowedSources::Prefixes(p) => {
                let parts: Vec<String> = p.iter().map(|n| n.to_string()).collect();
                f.write_str(&parts.join(","))
            }
        }
    }
}

/// One protected port (the API's `JitNetworkAccessPortRule`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortPolicy {
    /// Port number.
    pub number: u16,
    /// Protocol.
    pub protocol: JitProtocol,
    /// Sources a request may name.
    pub allowed_sources: AllowedSources,
    /// Longest access a request may ask for (PT5M..P1D).
    pub max_duration: Duration,
}

/// The shortest `maxRequestAccessDuration` the API accepts.
pub const MIN_MAX_DURATION: Duration = Duration::from_secs(5 * 60);
/// The longest `maxRequestAccessDuration` the API accepts.
pub const MAX_MAX_DURATION: Duration = Duration::from_secs(24 * 3600);
/// The default maximum request duration.
pub const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(3 * 3600);

/// The ports Defender for Cloud pre-lists when JIT is enabled from its own page: 22, 3389,
/// 5985, 5986, protocol any, any source, three hours.
pub fn default_ports() -> Vec<PortPolicy> {
    [22, 3389, 5985, 5986]
        .into_iter()
        .map(|number| PortPolicy {
            number,
            protocol: JitProtocol::Any,
            allowed_sources: AllowedSources::Any,
            max_duration: DEFAULT_MAX_DURATION,
        })
        .collect()
}

/// A VM's JIT configuration: its ports and whether requests need an approver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JitPolicy {
    /// Protected ports.
    pub ports: Vec<PortPolicy>,
    /// nsgsim extension: requests wait for an approver holding one of these roles. Empty = no
    /// approval step (Azure's behaviour: the RBAC check is the approval).
    pub approver_roles: Vec<String>,
}

impl JitPolicy {
    /// The policy of `port`, if protected.
    pub fn port(&self, number: u16) -> Option<&PortPolicy> {
        self.ports.iter().find(|p| p.number == number)
    }
}

/// Where a scenario-level policy applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyScope {
    /// Every VM of a subscription.
    Subscription(String),
    /// Every VM of a resource group (in any subscription).
    ResourceGroup(String),
    /// One VM.
    Vm(String),
}

impl PolicyScope {
    /// Whether the scope covers `vm`.
    pub fn covers(&self, vm: &Vm) -> bool {
        match self {
            PolicyScope::Subscription(s) => &vm.subscription == s,
            PolicyScope::ResourceGroup(r) => &vm.resource_group == r,
            PolicyScope::Vm(v) => &vm.name == v,
        }
    }

    /// How specific the scope is: VM over resource group over subscription.
    pub fn specificity(&self) -> u8 {
        match self {
            PolicyScope::Subscription(_) => 0,
            PolicyScope::ResourceGroup(_) => 1,
            PolicyScope::Vm(_) => 2,
        }
    }
}

impl fmt::Display for PolicyScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyScope::Subscription(s) => write!(f, "subscription '{s}'"),
            PolicyScope::ResourceGroup(r) => write!(f, "resource group '{r}'"),
            PolicyScope::Vm(v) => write!(f, "vm '{v}'"),
        }
    }
}

/// A named policy template that applies to the VMs of a scope when JIT is enabled on them
/// without explicit ports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopedPolicy {
    /// Name, for messages.
    pub name: String,
    /// Where it applies.
    pub scope: PolicyScope,
    /// The policy.
    pub policy: JitPolicy,
    /// Enable JIT with this policy on every supported VM in scope at the scenario's start.
    pub enable_at_start: bool,
}

/// What an enable or edit sets: fields left `None` keep their current value (on an edit), or
/// take the scoped policy's or Defender's defaults (on a first enable), as the portal's Edit does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyChange {
    /// New ports.
    pub ports: Option<Vec<PortPolicy>>,
    /// New approver roles (approval extension).
    pub approver_roles: Option<Vec<String>>,
}

impl From<JitPolicy> for PolicyChange {
    fn from(p: JitPolicy) -> Self {
        PolicyChange { ports: Some(p.ports), approver_roles: Some(p.approver_roles) }
    }
}
