//! What a JIT operation did, as data: the event (enabled, granted, pending, expired, refused…),
//! the rules and DNAT collections written and deleted, and the warnings Defender gives.
//!
//! The event and the warnings render themselves (`Display`) without the topology: they carry the
//! names of the VMs, users, NSGs and firewalls involved. A rule change carries the rule itself,
//! and `report` writes it out with the topology (an ASG is named through the topology's table).

use std::fmt;
use std::net::IpAddr;

use crate::model::NsgId;
use crate::nsg::SecurityRule;
use crate::time::{Duration, Instant};

use super::{CancelledRequest, GrantId, JitError, NsgLevels, OpenPort, PolicyEdit, RequestSource};

/// What an operation did.
#[derive(Clone, Debug)]
pub struct JitOutcome {
    /// What happened (or why nothing did).
    pub event: JitEvent,
    /// Rules and DNAT collections written and deleted, in order.
    pub changes: Vec<RuleChange>,
    /// Warnings, e.g. existing rules that defeat the new deny rule.
    pub warnings: Vec<JitWarning>,
    /// NSGs whose rules changed (to recompile).
    pub changed_nsgs: Vec<NsgId>,
    /// Grants created, with their end instants (to queue their expiry).
    pub new_grants: Vec<(GrantId, Instant)>,
    /// Grants that ended (to re-check sessions when expiry drops them).
    pub ended_grants: Vec<GrantId>,
}

impl JitOutcome {
    /// Whether Azure accepted the operation.
    pub fn accepted(&self) -> bool {
        self.refusal().is_none()
    }

    /// Why the operation was refused, if it was.
    pub fn refusal(&self) -> Option<&JitError> {
        self.event.refusal()
    }
}

/// What an operation writes as it goes, before its event is known; [`Effects::finish`] makes the
/// outcome.
#[derive(Clone, Debug, Default)]
pub(super) struct Effects {
    pub(super) changes: Vec<RuleChange>,
    pub(super) warnings: Vec<JitWarning>,
    pub(super) changed_nsgs: Vec<NsgId>,
    pub(super) new_grants: Vec<(GrantId, Instant)>,
    pub(super) ended_grants: Vec<GrantId>,
}

impl Effects {
    /// Takes in what another operation of the same action did (each VM of "Enable JIT on n
    /// VMs", the enabling before a Connect-page request), and returns its event.
    pub(super) fn absorb(&mut self, other: JitOutcome) -> JitEvent {
        self.changes.extend(other.changes);
        self.warnings.extend(other.warnings);
        for nsg in other.changed_nsgs {
            if !self.changed_nsgs.contains(&nsg) {
                self.changed_nsgs.push(nsg);
            }
        }
        self.new_grants.extend(other.new_grants);
        self.ended_grants.extend(other.ended_grants);
        other.event
    }

    /// The outcome of an operation that did these things.
    pub(super) fn finish(self, event: JitEvent) -> JitOutcome {
        JitOutcome {
            event,
            changes: self.changes,
            warnings: self.warnings,
            changed_nsgs: self.changed_nsgs,
            new_grants: self.new_grants,
            ended_grants: self.ended_grants,
        }
    }
}

impl From<JitError> for JitOutcome {
    /// A refusal: nothing was written.
    fn from(error: JitError) -> Self {
        Effects::default().finish(JitEvent::Refused(error))
    }
}

/// One port of one VM, by name (`vm1:22`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortAccess {
    /// The VM.
    pub vm: String,
    /// The port.
    pub port: u16,
}

/// `access to vm1:22, vm2:22`.
pub(super) struct AccessList<'a>(pub(super) &'a [PortAccess]);

impl fmt::Display for AccessList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|p| format!("{}:{}", p.vm, p.port)).collect();
        write!(f, "access to {}", parts.join(", "))
    }
}

/// Where to connect for a grant behind an Azure Firewall (the API's `mappedPort`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappedPort {
    /// The VM.
    pub vm: String,
    /// The VM's port.
    pub port: u16,
    /// The firewall.
    pub firewall: String,
    /// The firewall's public address (`None`: it has none).
    pub public_ip: Option<IpAddr>,
    /// The public port mapped to the VM's port.
    pub mapped: u16,
}

/// An active grant that a newer one replaced (`statusReason: NewerRequestInitiated`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupersededGrant {
    /// The grant.
    pub grant: GrantId,
    /// Whose it was.
    pub requester: String,
    /// The VM.
    pub vm: String,
    /// The port.
    pub port: u16,
    /// Its source.
    pub source: RequestSource,
    /// The request it came from.
    pub request: String,
    /// When it would have ended.
    pub expires_at: Instant,
}

/// What a granted request gave: who, which ports, from where, until when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantSummary {
    /// The requester.
    pub requester: String,
    /// The ports granted.
    pub access: Vec<PortAccess>,
    /// The source allowed.
    pub source: RequestSource,
    /// The end of the access window.
    pub expires_at: Instant,
    /// Where to connect, for grants behind an Azure Firewall.
    pub mapped: Vec<MappedPort>,
    /// The grants this one replaced.
    pub superseded: Vec<SupersededGrant>,
    /// The requester's justification (the API's `justification`), if they gave one.
    pub justification: Option<String>,
}

impl fmt::Display for GrantSummary {
    /// `access to vm1:22 from 203.0.113.5 until …`, then where to connect and what it replaced.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} from {} until {}", AccessList(&self.access), self.source, self.expires_at)?;
        if !self.mapped.is_empty() {
            let parts: Vec<String> = self
                .mapped
                .iter()
                .map(|m| {
                    let public = m.public_ip.map(|ip| ip.to_string()).unwrap_or_default();
                    format!("{}:{} through firewall '{}' at {public}:{}", m.vm, m.port, m.firewall, m.mapped)
                })
                .collect();
            write!(f, " (connect to {})", parts.join(", "))?;
        }
        if !self.superseded.is_empty() {
            let parts: Vec<String> = self
                .superseded
                .iter()
                .map(|s| {
                    format!(
                        "{}'s grant for {}:{} from {} (request '{}', until {})",
                        s.requester, s.vm, s.port, s.source, s.request, s.expires_at
                    )
                })
                .collect();
            write!(
                f,
                "; this supersedes {} (statusReason NewerRequestInitiated: that access ends now)",
                parts.join(" and ")
            )?;
        }
        if let Some(why) = &self.justification {
            write!(f, "; justification: \"{why}\"")?;
        }
        Ok(())
    }
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JitEvent {
    /// JIT was enabled on a VM, or its policy updated.
    Enabled {
        /// The VM.
        vm: String,
        /// The protected ports.
        ports: Vec<u16>,
        /// The approver roles (approval extension; empty: none).
        approver_roles: Vec<String>,
        /// Whether JIT was already enabled (an update).
        updated: bool,
        /// For an update, what it changed in the policy.
        edit: Option<PolicyEdit>,
        /// Requests that waited for approval and were cancelled: the update left no approver.
        cancelled: Vec<CancelledRequest>,
    },
    /// "Enable JIT on n VMs": one action of the portal's Not configured tab, every VM enabled
    /// (each an [`JitEvent::Enabled`]) or, when one of them cannot be, none.
    EnabledOnVms(Vec<JitEvent>),
    /// Defender for Servers Plan 2 was turned on or off.
    Plan2Set {
        /// On or off.
        enabled: bool,
        /// The VMs where JIT is configured (their policies and deny rules stay).
        configured: Vec<String>,
    },
    /// A request made from a VM's Connect page: if JIT was not enabled, the user accepted the
    /// page's prompt and JIT was enabled with the VM page's parameters first.
    ConnectPage {
        /// The VM.
        vm: String,
        /// The enabling, when the page enabled JIT first.
        enabled: Option<Box<JitEvent>>,
        /// The request (granted, pending or refused).
        request: Box<JitEvent>,
    },
    /// JIT was disabled on a VM.
    Disabled {
        /// The VM.
        vm: String,
        /// Requests that waited for approval on it and were cancelled.
        cancelled: Vec<CancelledRequest>,
    },
    /// A request waits for an approver (approval extension).
    Pending {
        /// The requester.
        requester: String,
        /// The ports asked for.
        access: Vec<PortAccess>,
        /// How long.
        duration: Duration,
        /// Who may approve it.
        approver_roles: Vec<String>,
        /// The requester's justification, if any.
        justification: Option<String>,
    },
    /// A request was granted.
    Granted(GrantSummary),
    /// A pending request was approved and granted (approval extension).
    Approved {
        /// The approver.
        approver: String,
        /// The request.
        request: String,
        /// What it gave.
        grant: GrantSummary,
    },
    /// A pending request was denied (approval extension).
    Denied {
        /// The approver.
        approver: String,
        /// The request.
        request: String,
        /// Their reason.
        reason: String,
    },
    /// A request's active grants were ended early (revoke extension).
    Revoked {
        /// Who revoked.
        by: String,
        /// The request.
        request: String,
        /// How many grants ended.
        ended: usize,
    },
    /// A grant reached its end time.
    Expired {
        /// Whose it was.
        requester: String,
        /// The VM.
        vm: String,
        /// The port.
        port: u16,
    },
    /// Refused, with the reason; nothing was written.
    Refused(JitError),
}

impl JitEvent {
    /// Why the operation was refused, if it was (a Connect-page request whose request was
    /// refused counts as refused).
    pub fn refusal(&self) -> Option<&JitError> {
        match self {
            JitEvent::Refused(e) => Some(e),
            JitEvent::ConnectPage { request, .. } => request.refusal(),
            _ => None,
        }
    }
}

/// `'name' of requester` for each request, joined with `, `.
fn cancelled_list(cancelled: &[CancelledRequest]) -> String {
    let parts: Vec<String> =
        cancelled.iter().map(|c| format!("'{}' of {}", c.request, c.requester)).collect();
    parts.join(", ")
}

impl fmt::Display for JitEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JitEvent::Enabled { vm, ports, approver_roles, updated, edit, cancelled } => {
                let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
                match edit.as_ref().filter(|_| *updated) {
                    Some(edit) => {
                        write!(f, "updated JIT on vm '{vm}': {edit} (ports now {})", ports.join(", "))?
                    }
                    None => {
                        let verb = if *updated { "updated" } else { "enabled" };
                        write!(f, "{verb} JIT on vm '{vm}' for ports {}", ports.join(", "))?;
                    }
                }
                if !approver_roles.is_empty() {
                    write!(
                        f,
                        "; requests need approval by {} (nsgsim extension)",
                        approver_roles.join(" or ")
                    )?;
                }
                if !cancelled.is_empty() {
                    write!(
                        f,
                        "; pending request {} cancelled: no approver role is left (nsgsim extension)",
                        cancelled_list(cancelled)
                    )?;
                }
                Ok(())
            }
            JitEvent::Disabled { vm, cancelled } => {
                write!(f, "disabled JIT on vm '{vm}'")?;
                if !cancelled.is_empty() {
                    write!(
                        f,
                        "; pending request {} cancelled (nsgsim extension: it waited for approval)",
                        cancelled_list(cancelled)
                    )?;
                }
                Ok(())
            }
            JitEvent::Pending { requester, access, duration, approver_roles, justification } => {
                write!(
                    f,
                    "{requester} requested {} for {duration}: pending approval by {} (nsgsim extension)",
                    AccessList(access),
                    approver_roles.join(" or ")
                )?;
                if let Some(why) = justification {
                    write!(f, "; justification: \"{why}\"")?;
                }
                Ok(())
            }
            JitEvent::EnabledOnVms(each) => {
                let parts: Vec<String> = each
                    .iter()
                    .map(|e| match e {
                        JitEvent::Enabled { vm, ports, .. } => {
                            let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
                            format!("vm '{vm}' ports {}", ports.join(", "))
                        }
                        other => other.to_string(),
                    })
                    .collect();
                let noun = if each.len() == 1 { "VM" } else { "VMs" };
                let n = each.len();
                write!(
                    f,
                    "enabled JIT on {n} {noun} in one action (the portal's 'Enable JIT on {n} {noun}'): {}",
                    parts.join("; ")
                )
            }
            JitEvent::Plan2Set { enabled: true, configured } => write!(
                f,
                "turned Microsoft Defender for Servers Plan 2 on: JIT is available again ({} configured VM(s) keep their policies)",
                configured.len()
            ),
            JitEvent::Plan2Set { enabled: false, configured } => write!(
                f,
                "turned Microsoft Defender for Servers Plan 2 off: JIT requires it, so no VM can be enabled and requests are refused; the {} configured VM(s) keep their policies and deny rules, and open grants end at their end time [{}]",
                configured.len(),
                super::PLAN2_OFF_MODEL_CHOICE
            ),
            JitEvent::ConnectPage { vm, enabled: None, request } => {
                write!(f, "from the Connect page of vm '{vm}': {request}")
            }
            JitEvent::ConnectPage { vm, enabled: Some(enabled), request } => write!(
                f,
                "from the Connect page of vm '{vm}': JIT was not enabled, the page prompted to enable it and it was accepted: {enabled}; then {request}"
            ),
            JitEvent::Granted(grant) => write!(f, "{} was granted {grant}", grant.requester),
            JitEvent::Approved { approver, request, grant } => write!(
                f,
                "{approver} approved request '{request}' (nsgsim extension): {} has {grant}",
                grant.requester
            ),
            JitEvent::Denied { approver, request, reason } => {
                write!(f, "{approver} denied request '{request}' (nsgsim extension): {reason}")
            }
            JitEvent::Revoked { by, request, ended } => {
                write!(f, "{by} revoked request '{request}' (nsgsim extension): {ended} grant(s) ended")
            }
            JitEvent::Expired { requester, vm, port } => {
                write!(f, "JIT access of {requester} to vm '{vm}' port {port} expired")
            }
            JitEvent::Refused(e) => write!(f, "refused: {e}"),
        }
    }
}

/// A rule or DNAT rule collection JIT wrote or deleted.
#[derive(Clone, Debug, PartialEq)]
pub enum RuleChange {
    /// A security rule added to an NSG.
    Added {
        /// The NSG.
        nsg: String,
        /// The rule.
        rule: SecurityRule,
    },
    /// A security rule deleted from an NSG.
    Removed {
        /// The NSG.
        nsg: String,
        /// The rule.
        rule: SecurityRule,
    },
    /// A DNAT rule collection added to an Azure Firewall for a grant.
    DnatAdded {
        /// The firewall.
        firewall: String,
        /// The collection.
        collection: String,
        /// The firewall's public address.
        public_ip: IpAddr,
        /// The public port mapped.
        mapped: u16,
        /// The VM's address.
        vm_ip: IpAddr,
        /// The VM's port.
        port: u16,
        /// The collection's priority.
        priority: u32,
    },
    /// A grant's DNAT rule collection removed.
    DnatRemoved {
        /// The firewall.
        firewall: String,
        /// The collection.
        collection: String,
        /// The public port it mapped.
        mapped: u16,
    },
}

/// Something Defender (or nsgsim, for an option) warns about; the operation went ahead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JitWarning {
    /// An existing rule keeps a protected port open ahead of the JIT deny rule.
    OpenPort(OpenPort),
    /// Option `jit_strict_deny_placement` placed the deny rules above existing allows.
    StrictDenyPlacement,
    /// Option `jit_nsg_levels: NicOnly` wrote the rules to the NIC's NSG only.
    NicLevelOnly,
    /// Option `jit_nsg_levels: SubnetOnly` wrote the rules to the subnet's NSG only.
    SubnetLevelOnly,
    /// An NSG had no free priority for a deny rule: that port is not protected there.
    NoFreeDenyPriority {
        /// The NSG.
        nsg: String,
        /// The port.
        port: u16,
    },
    /// A deny rule could not go where it belongs and was placed elsewhere.
    DenyPlacedElsewhere {
        /// The NSG.
        nsg: String,
        /// The port.
        port: u16,
        /// Where it went.
        priority: u16,
    },
    /// JIT wrote no rule at all: no NSG of the VM is at the option's level.
    NoRuleWritten {
        /// The VM.
        vm: String,
        /// The option's levels.
        levels: NsgLevels,
    },
    /// A JIT policy in force in Azure was taken over while the VM's NSGs are as a plan writes
    /// them, and they lack JIT's deny rule for these ports: nothing JIT owns denies them.
    DenyRulesMissing {
        /// The VM.
        vm: String,
        /// Each (NSG, port) without JIT's deny rule.
        missing: Vec<(String, u16)>,
    },
    /// A grant open in Azure, on a VM whose JIT policy is taken over as in force beside a plan,
    /// for which the NSGs as planned hold no allow rule: after an apply the port is closed to
    /// its requester, although Defender still lists the request until it ends.
    GrantRuleAbsent {
        /// Who holds the grant.
        requester: String,
        /// The VM.
        vm: String,
        /// The port.
        port: u16,
        /// When the grant ends in Azure.
        ends_at: Instant,
        /// The NSGs JIT manages for the VM that lack the grant's allow rule.
        nsgs: Vec<String>,
    },
    /// The VM is behind a classic Azure Firewall: grants also get a DNAT rule there.
    BehindFirewall {
        /// The VM.
        vm: String,
        /// The firewall.
        firewall: String,
    },
    /// Option `jit_keep_deny_rules_on_disable` left the deny rules in place.
    DenyRulesKept,
    /// The VM has more than one NIC: JIT's rules protect the primary NIC's address only.
    OtherNicsUnprotected {
        /// The VM.
        vm: String,
        /// The primary NIC and its private IP (the rules' destination).
        primary: (String, IpAddr),
        /// The other NICs and their private IPs.
        others: Vec<(String, IpAddr)>,
    },
    /// The VM's NICs have secondary IP configurations: JIT's rules protect the primary NIC's
    /// primary configuration's address only.
    OtherIpConfigsUnprotected {
        /// The VM.
        vm: String,
        /// The primary NIC and its primary configuration's private IP (the rules' destination).
        primary: (String, IpAddr),
        /// The secondary configurations, as `nic/configuration`, and their private IPs.
        others: Vec<(String, IpAddr)>,
    },
}

impl fmt::Display for JitWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JitWarning::OpenPort(open) => write!(f, "{open}"),
            JitWarning::StrictDenyPlacement => f.write_str(
                "deny rules placed above existing allow rules for their ports (option jit_strict_deny_placement, Learn module behaviour; Microsoft's JIT docs keep existing rules first)",
            ),
            JitWarning::NicLevelOnly => f.write_str(
                "JIT rules written to the NIC's NSG only (option jit_nsg_levels: NicOnly, from user reports)",
            ),
            JitWarning::SubnetLevelOnly => f.write_str(
                "JIT rules written to the subnet's NSG only (option jit_nsg_levels: SubnetOnly, from user reports)",
            ),
            JitWarning::NoFreeDenyPriority { nsg, port } => {
                write!(f, "NSG '{nsg}' has no free priority for the JIT deny rule of port {port}")
            }
            JitWarning::DenyPlacedElsewhere { nsg, port, priority } => write!(
                f,
                "NSG '{nsg}': no free priority where the deny rule for port {port} belongs; placed at {priority}"
            ),
            JitWarning::NoRuleWritten { vm, levels } => write!(
                f,
                "JIT wrote no rule for vm '{vm}': with jit_nsg_levels {levels:?} no NSG of the VM is at that level, so grants will open nothing"
            ),
            JitWarning::DenyRulesMissing { vm, missing } => {
                let list: Vec<String> = missing.iter().map(|(nsg, port)| format!("{port} in NSG '{nsg}'")).collect();
                write!(
                    f,
                    "JIT's policy for vm '{vm}' is in force, but the NSGs as planned have no JIT deny rule for port {}: an apply leaves those ports to the NSGs' other rules (`nsgsim lint` says what the Internet then reaches) [model choice: JIT is taken to write no deny rule again until its policy is saved anew]",
                    list.join(", ")
                )
            }
            JitWarning::GrantRuleAbsent { requester, vm, port, ends_at, nsgs } => {
                let list: Vec<String> = nsgs.iter().map(|n| format!("'{n}'")).collect();
                write!(
                    f,
                    "the grant of {requester} for {vm}:{port} is open in Azure until {ends_at}, but the NSGs as planned have no allow rule for it (NSG {}): after an apply the port is closed to {requester}, although Defender lists the request until it ends (`nsgsim lint` reports JIT007) [model choice: Defender is taken not to write the allow rule again]",
                    list.join(", ")
                )
            }
            JitWarning::BehindFirewall { vm, firewall } => write!(
                f,
                "vm '{vm}' is protected by Azure Firewall '{firewall}': grants will also add a DNAT rule there (connect to the firewall's public IP and the mapped port)"
            ),
            JitWarning::DenyRulesKept => f.write_str(
                "deny rules left in place (option jit_keep_deny_rules_on_disable, Learn module behaviour; Microsoft's cleanup removes them)",
            ),
            JitWarning::OtherNicsUnprotected { vm, primary, others } => {
                let list: Vec<String> = others.iter().map(|(n, ip)| format!("'{n}' ({ip})")).collect();
                write!(
                    f,
                    "vm '{vm}' has {} NICs: JIT's rules protect the primary NIC '{}' ({}) only, so on NIC {} the protected ports are open or closed as its own NSGs say [model choice: Microsoft's rules name \"the VM's internal IP address\", one destination]",
                    others.len() + 1,
                    primary.0,
                    primary.1,
                    list.join(", ")
                )
            }
            JitWarning::OtherIpConfigsUnprotected { vm, primary, others } => {
                let list: Vec<String> = others.iter().map(|(n, ip)| format!("'{n}' ({ip})")).collect();
                write!(
                    f,
                    "vm '{vm}' has secondary IP configurations: JIT's rules protect the primary NIC '{}' primary configuration's address ({}) only, so at {} the protected ports are open or closed as the NSGs' own rules say [model choice: Microsoft's rules name \"the VM's internal IP address\", one destination, and a VM's own address is its primary NIC's primary IP configuration's]",
                    primary.0,
                    primary.1,
                    list.join(", ")
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! How events and warnings read in every output; the engine's tests check the facts.
    use super::*;

    fn at(text: &str) -> Instant {
        Instant::parse(text).expect("valid")
    }

    fn cancelled(request: &str, requester: &str) -> CancelledRequest {
        CancelledRequest { request: request.into(), requester: requester.into() }
    }

    #[test]
    fn events_read_as_the_narrative_prints_them() {
        let ssh = vec![PortAccess { vm: "vm1".into(), port: 22 }, PortAccess { vm: "vm2".into(), port: 22 }];
        let grant = GrantSummary {
            requester: "dev".into(),
            access: ssh.clone(),
            source: RequestSource::Any,
            expires_at: at("2025-01-06T10:00:00Z"),
            mapped: vec![MappedPort {
                vm: "vm2".into(),
                port: 22,
                firewall: "fw".into(),
                public_ip: Some("20.0.0.9".parse().expect("ip")),
                mapped: 50000,
            }],
            superseded: vec![],
            justification: Some("patch Tuesday".into()),
        };
        let edit = crate::jit::PolicyEdit { removed: vec![5986], ..Default::default() };
        let cases = [
            (
                JitEvent::Enabled {
                    vm: "vm1".into(),
                    ports: vec![22, 3389],
                    approver_roles: vec!["Owner".into(), "Security Admin".into()],
                    updated: true,
                    edit: None,
                    cancelled: vec![cancelled("r", "dev"), cancelled("s", "ops")],
                },
                "updated JIT on vm 'vm1' for ports 22, 3389; requests need approval by Owner or Security Admin (nsgsim extension); pending request 'r' of dev, 's' of ops cancelled: no approver role is left (nsgsim extension)",
            ),
            (
                JitEvent::Enabled {
                    vm: "vm1".into(),
                    ports: vec![22, 3389],
                    approver_roles: vec![],
                    updated: true,
                    edit: Some(edit),
                    cancelled: vec![],
                },
                "updated JIT on vm 'vm1': removed port 5986 (ports now 22, 3389)",
            ),
            (
                JitEvent::Plan2Set { enabled: false, configured: vec!["vm1".into()] },
                "turned Microsoft Defender for Servers Plan 2 off: JIT requires it, so no VM can be enabled and requests are refused; the 1 configured VM(s) keep their policies and deny rules, and open grants end at their end time [model choice: Microsoft documents that JIT requires Defender for Servers Plan 2, not what turning it off does to configured VMs]",
            ),
            (
                JitEvent::ConnectPage {
                    vm: "vm1".into(),
                    enabled: None,
                    request: Box::new(JitEvent::Refused(JitError::ConnectPageNotEnabled {
                        vm: "vm1".into(),
                        port: 3389,
                    })),
                },
                "from the Connect page of vm 'vm1': refused: JIT is not enabled on vm 'vm1': its Connect page prompts to enable it (with the VM page's parameters: port 3389, any source, 3 hours), and the prompt was not accepted",
            ),
            (
                JitEvent::Disabled { vm: "vm1".into(), cancelled: vec![cancelled("r", "dev")] },
                "disabled JIT on vm 'vm1'; pending request 'r' of dev cancelled (nsgsim extension: it waited for approval)",
            ),
            (
                JitEvent::Pending {
                    requester: "dev".into(),
                    access: ssh,
                    duration: Duration::from_secs(5400),
                    approver_roles: vec!["Owner".into()],
                    justification: None,
                },
                "dev requested access to vm1:22, vm2:22 for 1h30m: pending approval by Owner (nsgsim extension)",
            ),
            (
                JitEvent::Approved { approver: "sec".into(), request: "r".into(), grant },
                "sec approved request 'r' (nsgsim extension): dev has access to vm1:22, vm2:22 from * until 2025-01-06T10:00:00Z (connect to vm2:22 through firewall 'fw' at 20.0.0.9:50000); justification: \"patch Tuesday\"",
            ),
            (
                JitEvent::Revoked { by: "o".into(), request: "r".into(), ended: 2 },
                "o revoked request 'r' (nsgsim extension): 2 grant(s) ended",
            ),
            (
                JitEvent::Expired { requester: "dev".into(), vm: "vm1".into(), port: 22 },
                "JIT access of dev to vm 'vm1' port 22 expired",
            ),
            (JitEvent::Refused(JitError::NoPort), "refused: the request names no port"),
        ];
        for (event, text) in cases {
            assert_eq!(event.to_string(), text);
        }
    }

    #[test]
    fn warnings_name_the_option_or_the_resource() {
        assert_eq!(
            JitWarning::DenyPlacedElsewhere { nsg: "n".into(), port: 22, priority: 4096 }.to_string(),
            "NSG 'n': no free priority where the deny rule for port 22 belongs; placed at 4096"
        );
        assert_eq!(
            JitWarning::NoRuleWritten { vm: "vm1".into(), levels: NsgLevels::SubnetOnly }.to_string(),
            "JIT wrote no rule for vm 'vm1': with jit_nsg_levels SubnetOnly no NSG of the VM is at that level, so grants will open nothing"
        );
        assert!(JitWarning::SubnetLevelOnly.to_string().contains("option jit_nsg_levels: SubnetOnly"));
        assert!(JitWarning::DenyRulesKept.to_string().contains("option jit_keep_deny_rules_on_disable"));
        let two_nics = JitWarning::OtherNicsUnprotected {
            vm: "vm1".into(),
            primary: ("nic-a".into(), "10.0.1.4".parse().expect("ip")),
            others: vec![("nic-b".into(), "10.0.2.4".parse().expect("ip"))],
        };
        assert_eq!(
            two_nics.to_string(),
            "vm 'vm1' has 2 NICs: JIT's rules protect the primary NIC 'nic-a' (10.0.1.4) only, so on NIC 'nic-b' (10.0.2.4) the protected ports are open or closed as its own NSGs say [model choice: Microsoft's rules name \"the VM's internal IP address\", one destination]"
        );
    }
}
