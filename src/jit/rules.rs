//! The NSG rules JIT writes: their names, their shape, and where their priorities go.
//!
//! Names follow what exported templates and Microsoft's support articles show: deny rules
//! `SecurityCenter-JITRule_-<int>_<32 hex>`, allow rules `SecurityCenter-JITRule-<int>-<32 hex>`.
//! nsgsim derives the number and hex from a counter, so runs are reproducible.
//!
//! Priority placement (model choice, docs/fidelity.md): Microsoft documents only that existing
//! rules for the port keep precedence over the new deny; observed deny priorities are 1000 and
//! 4096, allow priorities 100–110. nsgsim puts the deny at the highest free priority (≤ 4096)
//! below every existing rule that covers the port for the VM, and the allow at the first free
//! priority in 100–110 (else the first free after 110), always ahead of the JIT deny rule and of
//! any existing deny rule that would defeat the grant: an allow placed after one of those would
//! open nothing, so the grant is refused instead. The "strict" option follows the Learn module
//! for the deny: it goes above existing rules that allow the port.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::matcher::MatchRule;
use crate::net::{AddrSet, IpProtocol, ProtocolSet};
use crate::nsg::{
    Access, AddressSpec, Direction, Nsg, PortSpec, Priority, ResolveContext, RuleKind, RuleProtocol,
    SecurityRule, resolve_rule,
};

use super::{JitProtocol, PortPolicy};

/// The prefix of every rule JIT writes.
pub const JIT_RULE_PREFIX: &str = "SecurityCenter-JITRule";

/// Whether a rule was written by JIT.
pub fn is_jit_rule(name: &str) -> bool {
    name.starts_with(JIT_RULE_PREFIX)
}

/// The name of every deny rule JIT writes starts with this (`SecurityCenter-JITRule_-<n>_<hex>`).
const DENY_PREFIX: &str = "SecurityCenter-JITRule_-";

/// Whether `rule` has the shape of the rule JIT writes for `port` of the VM at `vm_ip`: JIT's
/// name (its deny or its allow form), inbound, the access given, destination the VM's address
/// alone, the port alone, the port's protocol; a deny rule from any source. This is how JIT
/// knows its own rules in an NSG it did not write in this run (an imported NSG).
fn is_own_rule(rule: &SecurityRule, port: &PortPolicy, vm_ip: IpAddr, access: Access) -> bool {
    let named = match access {
        Access::Deny => rule.name.starts_with(DENY_PREFIX),
        Access::Allow => is_jit_rule(&rule.name) && !rule.name.starts_with(DENY_PREFIX),
    };
    named
        && rule.direction == Direction::Inbound
        && rule.access == access
        && rule.protocol == rule_protocol(port.protocol)
        && rule.destination == AddressSpec::Prefixes(vec![IpNet::from(vm_ip)])
        && rule.destination_ports == PortSpec::single(port.number)
        && (access == Access::Allow || rule.source == AddressSpec::Any)
}

/// The deny rule for `port` of the VM at `vm_ip` already in `nsg`, written by Defender before
/// (an exported NSG holds it): Defender "ensures 'deny all inbound traffic' rules exist for your
/// selected ports", so enabling keeps it rather than writing a second one.
pub fn existing_deny_rule<'a>(nsg: &'a Nsg, port: &PortPolicy, vm_ip: IpAddr) -> Option<&'a SecurityRule> {
    nsg.rules.iter().find(|r| is_own_rule(r, port, vm_ip, Access::Deny))
}

/// The allow rules of `nsg` that grant `port` of the VM at `vm_ip` to `source`: what an access
/// granted before JIT's state was read left in the NSG.
pub fn existing_allow_rules<'a>(
    nsg: &'a Nsg,
    port: &PortPolicy,
    vm_ip: IpAddr,
    source: &AddressSpec,
) -> Vec<&'a SecurityRule> {
    nsg.rules.iter().filter(|r| is_own_rule(r, port, vm_ip, Access::Allow) && r.source == *source).collect()
}

/// A deterministic (number, 32-hex) pair from a counter (splitmix64).
fn rule_id(seed: u64) -> (i32, String) {
    let mut x = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut next = || {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let number = (next() >> 33) as i32;
    let hex = format!("{:016X}{:016X}", next(), next());
    (number, hex)
}

fn rule_protocol(p: JitProtocol) -> RuleProtocol {
    match p {
        JitProtocol::Tcp => RuleProtocol::Tcp,
        JitProtocol::Udp => RuleProtocol::Udp,
        JitProtocol::Any => RuleProtocol::Any,
    }
}

/// The deny rule for one port of one VM.
pub fn deny_rule(vm: &str, vm_ip: IpAddr, port: &PortPolicy, priority: u16, seed: u64) -> SecurityRule {
    let (number, hex) = rule_id(seed);
    SecurityRule {
        name: format!("{JIT_RULE_PREFIX}_-{number}_{hex}"),
        priority: Priority(priority),
        direction: Direction::Inbound,
        access: Access::Deny,
        protocol: rule_protocol(port.protocol),
        source: AddressSpec::Any,
        source_ports: PortSpec::any(),
        destination: AddressSpec::Prefixes(vec![IpNet::from(vm_ip)]),
        destination_ports: PortSpec::single(port.number),
        description: format!("ASC JIT Network Access rule for policy 'default' of VM '{vm}'."),
        kind: RuleKind::Security,
    }
}

/// Whether `rule` is the deny rule JIT writes for `port` of the VM at `vm_ip` (whatever its
/// name and priority), so that an edit can keep it.
pub fn is_deny_rule_for(rule: &SecurityRule, vm_ip: IpAddr, port: &PortPolicy) -> bool {
    rule.access == Access::Deny
        && rule.direction == Direction::Inbound
        && is_jit_rule(&rule.name)
        && rule.protocol == rule_protocol(port.protocol)
        && rule.destination == AddressSpec::Prefixes(vec![IpNet::from(vm_ip)])
        && rule.destination_ports == PortSpec::single(port.number)
}

/// The allow rule of a grant.
pub fn allow_rule(
    vm: &str,
    vm_ip: IpAddr,
    port: &PortPolicy,
    source: &AddressSpec,
    priority: u16,
    seed: u64,
) -> SecurityRule {
    let (number, hex) = rule_id(seed);
    SecurityRule {
        name: format!("{JIT_RULE_PREFIX}-{number}-{hex}"),
        priority: Priority(priority),
        direction: Direction::Inbound,
        access: Access::Allow,
        protocol: rule_protocol(port.protocol),
        source: source.clone(),
        source_ports: PortSpec::any(),
        destination: AddressSpec::Prefixes(vec![IpNet::from(vm_ip)]),
        destination_ports: PortSpec::single(port.number),
        description: format!(
            "ASC JIT Network Access rule created by an initiation request for policy 'default' of VM '{vm}'."
        ),
        kind: RuleKind::Security,
    }
}

fn jit_protocols(p: JitProtocol) -> ProtocolSet {
    match p {
        JitProtocol::Tcp => ProtocolSet::single(IpProtocol::TCP),
        JitProtocol::Udp => ProtocolSet::single(IpProtocol::UDP),
        JitProtocol::Any => ProtocolSet::of(&[IpProtocol::TCP, IpProtocol::UDP]),
    }
}

/// Whether `resolved` lets some traffic to `vm_ip` on the port through its match set.
fn covers(resolved: &MatchRule, port: &PortPolicy, vm_ip: IpAddr) -> bool {
    let protocols = jit_protocols(port.protocol);
    resolved.boxes.iter().any(|b| {
        !b.protocols.intersect(&protocols).is_empty()
            && b.dst_ports.contains(port.number)
            && b.dst.contains(vm_ip)
    })
}

/// The existing (non-JIT) inbound user rules of `nsg` that cover the port for the VM, in
/// priority order.
pub fn covering_rules<'a>(
    nsg: &'a Nsg,
    port: &PortPolicy,
    vm_ip: IpAddr,
    ctx: &ResolveContext,
) -> Vec<&'a SecurityRule> {
    let mut rules: Vec<&SecurityRule> = nsg
        .rules
        .iter()
        .filter(|r| r.direction == Direction::Inbound && !is_jit_rule(&r.name))
        .filter(|r| covers(&resolve_rule(r, ctx), port, vm_ip))
        .collect();
    rules.sort_by_key(|r| r.priority);
    rules
}

/// Where the deny rule for `port` goes in `nsg`, and whether that honours the placement intent.
///
/// Default: the highest free priority ≤ 4096 below every covering rule. Strict: the highest free
/// priority above the first covering allow rule. Falls back to the highest free priority
/// anywhere (returned with `false`) when the intended slot does not exist.
pub fn deny_priority(
    nsg: &Nsg,
    port: &PortPolicy,
    vm_ip: IpAddr,
    ctx: &ResolveContext,
    strict: bool,
) -> Option<(u16, bool)> {
    let covering = covering_rules(nsg, port, vm_ip, ctx);
    let (lo, hi) = if strict {
        let first_allow = covering.iter().find(|r| r.access == Access::Allow).map(|r| r.priority.0);
        (Priority::MIN_USER, first_allow.map_or(Priority::MAX_USER, |p| p.saturating_sub(1)))
    } else {
        let last = covering.last().map(|r| r.priority.0);
        (last.map_or(Priority::MIN_USER, |p| p + 1), Priority::MAX_USER)
    };
    // The candidates are tried from the bottom up, and an NSG shared by many VMs holds hundreds
    // of JIT deny rules there: look priorities up in a table, not by scanning the rules each time.
    let mut used = vec![false; usize::from(Priority::MAX_USER) + 1];
    for r in nsg.rules.iter().filter(|r| r.direction == Direction::Inbound) {
        if let Some(slot) = used.get_mut(usize::from(r.priority.0)) {
            *slot = true;
        }
    }
    let free = |p: &u16| !used[usize::from(*p)];
    match (lo..=hi).rev().find(free) {
        Some(p) => Some((p, true)),
        None => (Priority::MIN_USER..=Priority::MAX_USER).rev().find(free).map(|p| (p, false)),
    }
}

/// The rule an allow rule has to precede to take effect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blocker {
    /// Its priority.
    pub priority: u16,
    /// Its name.
    pub name: String,
    /// Whether it is the VM's own JIT deny rule for the port (else an existing deny rule).
    pub is_jit_deny: bool,
}

/// The deny rule an allow rule for `port` from `source` must precede in `nsg`: the VM's JIT deny
/// rule for the port (`jit_deny`: its priority and name), or an earlier existing deny rule that
/// covers the port for the VM from some of `source`, whichever comes first. An allow placed
/// after it would leave (some of) the granted traffic denied.
pub fn allow_blocker(
    nsg: &Nsg,
    port: &PortPolicy,
    vm_ip: IpAddr,
    source: &AddrSet,
    ctx: &ResolveContext,
    jit_deny: Option<(u16, &str)>,
) -> Option<Blocker> {
    let protocols = jit_protocols(port.protocol);
    let existing = nsg
        .rules
        .iter()
        .filter(|r| r.direction == Direction::Inbound && r.access == Access::Deny && !is_jit_rule(&r.name))
        .filter(|r| {
            resolve_rule(r, ctx).boxes.iter().any(|b| {
                !b.protocols.intersect(&protocols).is_empty()
                    && b.dst_ports.contains(port.number)
                    && b.dst.contains(vm_ip)
                    && !b.src.intersect(source).is_empty()
            })
        })
        .min_by_key(|r| r.priority)
        .map(|r| Blocker { priority: r.priority.0, name: r.name.clone(), is_jit_deny: false });
    let jit =
        jit_deny.map(|(priority, name)| Blocker { priority, name: name.to_string(), is_jit_deny: true });
    match (existing, jit) {
        (Some(e), Some(j)) => Some(if e.priority < j.priority { e } else { j }),
        (e, j) => e.or(j),
    }
}

/// Where an allow rule goes: the first priority in 100–110 that `free` accepts, else the first
/// one after 110, always ahead of (numerically below) `blocker`. `None` when every priority
/// ahead of the blocker is taken: the grant cannot take effect in this NSG.
pub fn allow_priority(blocker: Option<&Blocker>, free: impl Fn(u16) -> bool) -> Option<u16> {
    let limit = blocker.map_or(Priority::MAX_USER + 1, |b| b.priority);
    (Priority::MIN_USER..limit).find(|&p| free(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jit::AllowedSources;
    use crate::time::Duration;

    /// Whether an inbound rule of `nsg` has `priority` (the plain scan `deny_priority` indexes).
    fn taken(nsg: &Nsg, priority: u16) -> bool {
        nsg.rules.iter().any(|r| r.direction == Direction::Inbound && r.priority.0 == priority)
    }

    fn port(number: u16) -> PortPolicy {
        PortPolicy {
            number,
            protocol: JitProtocol::Any,
            allowed_sources: AllowedSources::Any,
            max_duration: Duration::from_secs(3600),
        }
    }

    fn user_rule(name: &str, priority: u16, access: Access, dst_port: u16) -> SecurityRule {
        SecurityRule {
            name: name.into(),
            priority: Priority(priority),
            direction: Direction::Inbound,
            access,
            protocol: RuleProtocol::Tcp,
            source: AddressSpec::Any,
            source_ports: PortSpec::any(),
            destination: AddressSpec::Any,
            destination_ports: PortSpec::single(dst_port),
            description: String::new(),
            kind: RuleKind::Security,
        }
    }

    #[test]
    fn names_have_azure_shape_and_are_reproducible() {
        let ip: IpAddr = "10.0.0.4".parse().expect("ip");
        let deny = deny_rule("vm1", ip, &port(22), 4096, 1);
        let allow = allow_rule("vm1", ip, &port(22), &AddressSpec::Any, 100, 2);
        assert!(deny.name.starts_with("SecurityCenter-JITRule_-"), "{}", deny.name);
        assert!(allow.name.starts_with("SecurityCenter-JITRule-"), "{}", allow.name);
        assert_eq!(deny.name.rsplit('_').next().map(str::len), Some(32));
        assert_eq!(deny.name, deny_rule("vm1", ip, &port(22), 4096, 1).name);
        assert_ne!(deny.name, deny_rule("vm1", ip, &port(22), 4096, 3).name);
        assert_eq!(deny.description, "ASC JIT Network Access rule for policy 'default' of VM 'vm1'.");
    }

    #[test]
    fn deny_goes_below_existing_rules_for_the_port() {
        let ip: IpAddr = "10.0.0.4".parse().expect("ip");
        let ctx = ResolveContext::default();
        let empty = Nsg { name: "n".into(), rules: vec![] };
        assert_eq!(deny_priority(&empty, &port(22), ip, &ctx, false), Some((4096, true)));
        let with_allow = Nsg {
            name: "n".into(),
            rules: vec![user_rule("ssh", 300, Access::Allow, 22), user_rule("x", 4096, Access::Allow, 80)],
        };
        assert_eq!(deny_priority(&with_allow, &port(22), ip, &ctx, false), Some((4095, true)));
        // Strict: above the existing allow.
        assert_eq!(deny_priority(&with_allow, &port(22), ip, &ctx, true), Some((299, true)));
        let at_bottom = Nsg { name: "n".into(), rules: vec![user_rule("ssh", 4096, Access::Allow, 22)] };
        assert_eq!(deny_priority(&at_bottom, &port(22), ip, &ctx, false), Some((4095, false)));
    }

    #[test]
    fn allow_takes_first_free_from_100() {
        let nsg = Nsg {
            name: "n".into(),
            rules: vec![user_rule("a", 100, Access::Allow, 80), user_rule("b", 101, Access::Allow, 81)],
        };
        let free = |p: u16| !taken(&nsg, p);
        assert_eq!(allow_priority(None, free), Some(102));
        let deny = Blocker { priority: 4096, name: "jit".into(), is_jit_deny: true };
        assert_eq!(allow_priority(Some(&deny), free), Some(102));
    }

    #[test]
    fn allow_must_precede_its_blocker() {
        // The strict-placement case of the audit: the deny at 105, 100-104 taken.
        let nsg = Nsg {
            name: "n".into(),
            rules: (100..=104).map(|p| user_rule(&format!("r{p}"), p, Access::Allow, 80)).collect(),
        };
        let free = |p: u16| !taken(&nsg, p);
        let deny = Blocker { priority: 105, name: "jit".into(), is_jit_deny: true };
        assert_eq!(allow_priority(Some(&deny), free), None, "106 or 107 would come after the deny");
        let later = Blocker { priority: 107, name: "jit".into(), is_jit_deny: true };
        assert_eq!(allow_priority(Some(&later), free), Some(105));
        let at_floor = Blocker { priority: 100, name: "x".into(), is_jit_deny: false };
        assert_eq!(allow_priority(Some(&at_floor), |_| true), None);
    }

    #[test]
    fn an_existing_deny_for_the_source_blocks_like_the_jit_deny() {
        let ip: IpAddr = "10.0.0.4".parse().expect("ip");
        let ctx = ResolveContext::default();
        let mut deny_office = user_rule("deny-office", 102, Access::Deny, 22);
        deny_office.source = AddressSpec::Prefixes(vec!["198.51.100.0/24".parse().expect("net")]);
        let nsg = Nsg {
            name: "n".into(),
            rules: vec![
                deny_office,
                user_rule("deny-web", 101, Access::Deny, 80),
                user_rule("x", 100, Access::Allow, 22),
            ],
        };
        let office = AddrSet::from_net("198.51.100.7/32".parse().expect("net"));
        let home = AddrSet::from_net("203.0.113.5/32".parse().expect("net"));
        let jit = Some((4000, "jit-deny"));
        let blocker = allow_blocker(&nsg, &port(22), ip, &office, &ctx, jit).expect("blocked");
        assert_eq!(
            (blocker.priority, blocker.name.as_str(), blocker.is_jit_deny),
            (102, "deny-office", false)
        );
        // A deny for other sources or other ports does not defeat the grant: the JIT deny does.
        let blocker = allow_blocker(&nsg, &port(22), ip, &home, &ctx, jit).expect("blocked");
        assert_eq!((blocker.priority, blocker.is_jit_deny), (4000, true));
        assert_eq!(allow_blocker(&nsg, &port(22), ip, &home, &ctx, None), None);
        // A source of `*` overlaps every deny for the port.
        let blocker = allow_blocker(&nsg, &port(22), ip, &AddrSet::any(), &ctx, jit).expect("blocked");
        assert_eq!(blocker.name, "deny-office");
        let free = |p: u16| !taken(&nsg, p);
        assert_eq!(allow_priority(Some(&blocker), free), None, "100-101 taken, 102 is the deny");
    }
}
