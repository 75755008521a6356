//! Random NSG rule lists for the brute-force tests of `lint` and `diff`: rules drawn from small
//! pools of addresses, ports and protocols, so that overlaps, shadowing and verdict changes are
//! frequent, written as scenario RON.

use std::fmt::Write;

use rand::RngExt;
use rand::rngs::StdRng;

/// What a generated rule may contain, and how its priority and direction are drawn.
pub(super) struct RulePools {
    /// Source and destination values; `"ASG"` stands for the application security group `asg1`.
    pub sources: &'static [&'static str],
    /// Source port values.
    pub source_ports: &'static [&'static str],
    /// Priorities are drawn from `100 + 10 * 0..slots` (bumped by one on a clash).
    pub priority_slots: u32,
    /// One rule in `outbound_one_in` is outbound.
    pub outbound_one_in: u32,
}

/// Destination port values.
pub(super) const PORTS: &[&str] = &["*", "22", "20-25", "80", "22,80", "1000-2000"];

/// Protocols.
pub(super) const PROTOCOLS: &[&str] = &["Tcp", "Udp", "Icmp", "Any"];

/// `n` random rules named `r0`, `r1`, … as comma-terminated `Rule(...)` items.
pub(super) fn random_rules(rng: &mut StdRng, n: usize, pools: &RulePools) -> String {
    let mut out = String::new();
    let mut used = Vec::new();
    for i in 0..n {
        let mut priority = 100 + rng.random_range(0..pools.priority_slots) * 10;
        while used.contains(&priority) {
            priority += 1;
        }
        used.push(priority);
        let direction = if rng.random_range(0..pools.outbound_one_in) == 0 { "Outbound" } else { "Inbound" };
        let access = if rng.random_range(0..2) == 0 { "Allow" } else { "Deny" };
        let proto = PROTOCOLS[rng.random_range(0..PROTOCOLS.len())];
        let side =
            |rng: &mut StdRng, field: &str| match pools.sources[rng.random_range(0..pools.sources.len())] {
                "ASG" => format!("{field}_asgs: [\"asg1\"]"),
                other => format!("{field}: \"{other}\""),
            };
        let (src, dst) = (side(rng, "source"), side(rng, "destination"));
        let port = PORTS[rng.random_range(0..PORTS.len())];
        let sport = pools.source_ports[rng.random_range(0..pools.source_ports.len())];
        let _ = write!(
            out,
            "Rule(name: \"r{i}\", priority: {priority}, direction: {direction}, access: {access}, protocol: {proto}, {src}, {dst}, source_ports: \"{sport}\", destination_ports: \"{port}\"),"
        );
    }
    out
}

/// A user rule of a finding's own NSG, as findings name it: `securityRules/NAME`.
pub(super) fn user_rule(name: &str) -> super::lint::FindingRule {
    super::lint::FindingRule::own(crate::nsg::RuleRef::Security { name: name.into() })
}
