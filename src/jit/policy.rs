//! JIT policies: which ports of a VM are protected, and how access to them may be requested.

use std::fmt;

use ipnet::IpNet;

use crate::model::Vm;
use crate::time::Duration;

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

/// The port JIT pre-lists when it is enabled from a VM's own page (Configuration, or Connect):
/// Microsoft's "hard-coded parameters" are RDP 3389 on Windows and SSH 22 on Linux, any source,
/// three hours. Defender for Cloud's own page pre-lists [`default_ports`] whatever the OS.
pub fn vm_page_default_port(os: crate::model::Os) -> u16 {
    match os {
        crate::model::Os::Windows => 3389,
        crate::model::Os::Linux => 22,
    }
}

/// The ports JIT gets when it is enabled from the VM's own pages (Configuration, or the Connect
/// page's prompt): [`vm_page_default_port`], any source, three hours.
pub fn vm_page_ports(os: crate::model::Os) -> Vec<PortPolicy> {
    vec![PortPolicy {
        number: vm_page_default_port(os),
        protocol: JitProtocol::Any,
        allowed_sources: AllowedSources::Any,
        max_duration: DEFAULT_MAX_DURATION,
    }]
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
            PolicyScope::Vm(v) => crate::name::same_name(&vm.name, v),
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
    /// The policy is in force in Azure (read from this file and position) while the NSGs are
    /// as a plan writes them: at the start JIT takes over the deny rules it finds and writes
    /// none that is missing ([`super::JitEngine::take_over_in_force`]).
    pub in_force_from: Option<String>,
    /// Access granted before the start and open then, taken over when JIT is enabled at the
    /// start ([`super::ActiveGrant`]).
    pub active_grants: Vec<super::ActiveGrant>,
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

/// What changed in one protected port: each field that changed, as (before, after).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortEdit {
    /// The port.
    pub port: u16,
    /// Its protocol, if it changed.
    pub protocol: Option<(JitProtocol, JitProtocol)>,
    /// Its allowed sources, if they changed.
    pub allowed_sources: Option<(AllowedSources, AllowedSources)>,
    /// Its maximum request duration, if it changed.
    pub max_duration: Option<(Duration, Duration)>,
}

/// What an edit changed in a VM's policy: the ports added and removed, the ports whose settings
/// changed, and the approver roles (approval extension), so that a narrative says what changed
/// rather than the whole policy again.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyEdit {
    /// Ports now protected that were not.
    pub added: Vec<u16>,
    /// Ports no longer protected.
    pub removed: Vec<u16>,
    /// Ports kept with other settings.
    pub changed: Vec<PortEdit>,
    /// The approver roles, if they changed (before, after).
    pub approvers: Option<(Vec<String>, Vec<String>)>,
}

impl PolicyEdit {
    /// The difference between a policy and its edited form.
    pub fn between(before: &JitPolicy, after: &JitPolicy) -> PolicyEdit {
        let added =
            after.ports.iter().filter(|p| before.port(p.number).is_none()).map(|p| p.number).collect();
        let removed =
            before.ports.iter().filter(|p| after.port(p.number).is_none()).map(|p| p.number).collect();
        let changed = after
            .ports
            .iter()
            .filter_map(|new| {
                let old = before.port(new.number)?;
                fn differs<T: PartialEq + Clone>(a: &T, b: &T) -> Option<(T, T)> {
                    (a != b).then(|| (a.clone(), b.clone()))
                }
                let edit = PortEdit {
                    port: new.number,
                    protocol: differs(&old.protocol, &new.protocol),
                    allowed_sources: differs(&old.allowed_sources, &new.allowed_sources),
                    max_duration: differs(&old.max_duration, &new.max_duration),
                };
                (edit.protocol.is_some() || edit.allowed_sources.is_some() || edit.max_duration.is_some())
                    .then_some(edit)
            })
            .collect();
        let approvers = (before.approver_roles != after.approver_roles)
            .then(|| (before.approver_roles.clone(), after.approver_roles.clone()));
        PolicyEdit { added, removed, changed, approvers }
    }

    /// Whether the edit changed nothing.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.approvers.is_none()
    }
}

impl fmt::Display for PolicyEdit {
    /// `added port 80; removed port 5986; port 80 maximum PT3H -> PT1H`, or `no change`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |ports: &[u16]| ports.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
        let mut parts = Vec::new();
        if !self.added.is_empty() {
            let noun = if self.added.len() == 1 { "port" } else { "ports" };
            parts.push(format!("added {noun} {}", list(&self.added)));
        }
        if !self.removed.is_empty() {
            let noun = if self.removed.len() == 1 { "port" } else { "ports" };
            parts.push(format!("removed {noun} {}", list(&self.removed)));
        }
        for c in &self.changed {
            let mut fields = Vec::new();
            if let Some((a, b)) = c.protocol {
                fields.push(format!("protocol {a} -> {b}"));
            }
            if let Some((a, b)) = &c.allowed_sources {
                fields.push(format!("allowed sources {a} -> {b}"));
            }
            if let Some((a, b)) = c.max_duration {
                fields.push(format!("maximum {} -> {}", a.to_iso8601(), b.to_iso8601()));
            }
            parts.push(format!("port {} {}", c.port, fields.join(", ")));
        }
        if let Some((a, b)) = &self.approvers {
            let roles = |r: &[String]| if r.is_empty() { "none".to_string() } else { r.join(" or ") };
            parts.push(format!("approvers {} -> {} (nsgsim extension)", roles(a), roles(b)));
        }
        if parts.is_empty() { f.write_str("no change") } else { f.write_str(&parts.join("; ")) }
    }
}

impl From<JitPolicy> for PolicyChange {
    fn from(p: JitPolicy) -> Self {
        PolicyChange { ports: Some(p.ports), approver_roles: Some(p.approver_roles) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Os, Topology};

    #[test]
    fn defender_defaults_are_the_four_management_ports_any_source_three_hours() {
        let ports = default_ports();
        let numbers: Vec<u16> = ports.iter().map(|p| p.number).collect();
        assert_eq!(numbers, vec![22, 3389, 5985, 5986], "5986, not a training text's 5989");
        for p in &ports {
            assert_eq!(p.protocol, JitProtocol::Any);
            assert_eq!(p.allowed_sources, AllowedSources::Any);
            assert_eq!(p.max_duration, DEFAULT_MAX_DURATION);
        }
        assert_eq!(DEFAULT_MAX_DURATION.to_iso8601(), "PT3H");
        assert_eq!(MIN_MAX_DURATION.as_secs(), 300);
        assert_eq!(MAX_MAX_DURATION.as_secs(), 86_400);
    }

    #[test]
    fn protocols_and_sources_print_as_the_api_writes_them() {
        assert_eq!(JitProtocol::Tcp.to_string(), "TCP");
        assert_eq!(JitProtocol::Udp.to_string(), "UDP");
        assert_eq!(JitProtocol::Any.to_string(), "*");
        assert_eq!(AllowedSources::Any.to_string(), "* (per request)");
        let two = AllowedSources::Prefixes(vec![
            "10.0.0.0/8".parse().expect("net"),
            "2001:db8::/32".parse().expect("net"),
        ]);
        assert_eq!(two.to_string(), "10.0.0.0/8,2001:db8::/32");
    }

    #[test]
    fn a_policy_finds_its_ports() {
        let policy = JitPolicy { ports: default_ports(), approver_roles: vec![] };
        assert_eq!(policy.port(3389).map(|p| p.number), Some(3389));
        assert!(policy.port(23).is_none());
        let change = PolicyChange::from(policy.clone());
        assert_eq!(change.ports.as_deref(), Some(policy.ports.as_slice()));
        assert_eq!(change.approver_roles, Some(vec![]));
        assert_eq!(PolicyChange::default(), PolicyChange { ports: None, approver_roles: None });
    }

    #[test]
    fn an_edit_names_only_what_changed() {
        let before = JitPolicy { ports: default_ports(), approver_roles: vec![] };
        let mut after = before.clone();
        after.ports.retain(|p| p.number != 5986);
        after.ports.push(PortPolicy {
            number: 80,
            protocol: JitProtocol::Tcp,
            allowed_sources: AllowedSources::Any,
            max_duration: DEFAULT_MAX_DURATION,
        });
        after.ports[0].max_duration = Duration::from_secs(3600);
        after.approver_roles = vec!["Owner".into()];
        let edit = PolicyEdit::between(&before, &after);
        assert_eq!((edit.added.as_slice(), edit.removed.as_slice()), (&[80][..], &[5986][..]));
        assert_eq!(edit.changed.len(), 1);
        assert_eq!(
            edit.to_string(),
            "added port 80; removed port 5986; port 22 maximum PT3H -> PT1H; approvers none -> Owner (nsgsim extension)"
        );
        assert!(PolicyEdit::between(&before, &before).is_empty());
        assert_eq!(PolicyEdit::between(&before, &before).to_string(), "no change");
    }

    #[test]
    fn the_vm_pages_enable_the_os_port_for_three_hours() {
        let windows = vm_page_ports(crate::model::Os::Windows);
        assert_eq!(windows.iter().map(|p| p.number).collect::<Vec<_>>(), [3389]);
        assert_eq!(windows[0].max_duration, DEFAULT_MAX_DURATION);
        assert_eq!(windows[0].allowed_sources, AllowedSources::Any);
        assert_eq!(vm_page_ports(crate::model::Os::Linux)[0].number, 22);
    }

    #[test]
    fn scopes_cover_their_vms_and_rank_by_specificity() {
        let mut t = Topology::new();
        let vm = t.add_vm("vm1", Os::Linux, false, ("sub-a", "rg-a")).expect("vm");
        let v = t.vm(vm);
        let sub = PolicyScope::Subscription("sub-a".into());
        let rg = PolicyScope::ResourceGroup("rg-a".into());
        let one = PolicyScope::Vm("vm1".into());
        assert!(sub.covers(v) && rg.covers(v) && one.covers(v));
        assert!(!PolicyScope::Subscription("sub-b".into()).covers(v));
        assert!(!PolicyScope::ResourceGroup("rg-b".into()).covers(v));
        assert!(!PolicyScope::Vm("vm2".into()).covers(v));
        assert!(sub.specificity() < rg.specificity() && rg.specificity() < one.specificity());
        assert_eq!(sub.to_string(), "subscription 'sub-a'");
        assert_eq!(rg.to_string(), "resource group 'rg-a'");
        assert_eq!(one.to_string(), "vm 'vm1'");
    }
}
