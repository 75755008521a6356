//! One NSG, one direction, one context: its rules in evaluation order and a matcher over them.

use crate::matcher::{Engine, MatchRule, Matcher};
use crate::net::AddrSet;
use crate::net::Flow;

use super::{Direction, Nsg, ResolveContext, SecurityRule, resolve_rule};

/// The rule that decided a flow in one NSG.
#[derive(Clone, Copy, Debug)]
pub struct RuleHit<'a> {
    /// Position of the rule in evaluation order.
    pub index: usize,
    /// The rule.
    pub rule: &'a SecurityRule,
}

/// An NSG compiled for one direction and one resolution context.
#[derive(Clone, Debug)]
pub struct CompiledNsg {
    direction: Direction,
    rules: Vec<SecurityRule>,
    matcher: Matcher,
    resolved: Vec<MatchRule>,
}

impl CompiledNsg {
    /// Compiles the rules of `nsg` for `direction`, resolving tags and ASGs through `ctx`.
    pub fn compile(nsg: &Nsg, direction: Direction, ctx: &ResolveContext) -> CompiledNsg {
        let rules = nsg.evaluation_order(direction);
        let resolved: Vec<MatchRule> = rules.iter().map(|r| resolve_rule(r, ctx)).collect();
        // The compiled engine refuses only rule sets beyond its size budget; the linear scan then
        // answers the same questions, more slowly.
        let matcher = Matcher::build(Engine::Compiled, resolved.clone())
            .or_else(|_| Matcher::build(Engine::Linear, resolved.clone()))
            .expect("the linear engine never fails to build");
        CompiledNsg { direction, rules, matcher, resolved }
    }

    /// The direction this NSG was compiled for.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// The rules in evaluation order (user rules by priority, then the defaults).
    pub fn rules(&self) -> &[SecurityRule] {
        &self.rules
    }

    /// The first rule that matches `flow`. The default `DenyAll*Bound` rule matches everything,
    /// so there always is one.
    pub fn evaluate(&self, flow: &Flow) -> RuleHit<'_> {
        let index = self.matcher.first_match(flow).unwrap_or(self.rules.len() - 1);
        RuleHit { index, rule: &self.rules[index] }
    }

    /// The rules resolved to concrete sets, in evaluation order.
    pub fn resolved(&self) -> &[MatchRule] {
        &self.resolved
    }

    /// Adds to `v4`/`v6` the points where some rule's source (`source == true`) or destination
    /// address condition changes: every range start and every range end + 1.
    pub fn address_cuts(&self, source: bool, v4: &mut Vec<u32>, v6: &mut Vec<u128>) {
        for rule in &self.resolved {
            for b in &rule.boxes {
                let field = if source { &b.src } else { &b.dst };
                for &(lo, hi) in field.v4_ranges() {
                    v4.push(lo);
                    v4.extend(hi.checked_add(1));
                }
                for &(lo, hi) in field.v6_ranges() {
                    v6.push(lo);
                    v6.extend(hi.checked_add(1));
                }
            }
        }
    }

    /// Adds to `cuts` the destination ports where some rule's port condition changes.
    pub fn port_cuts(&self, cuts: &mut Vec<u32>) {
        for rule in &self.resolved {
            for b in &rule.boxes {
                for &(lo, hi) in b.dst_ports.as_pairs() {
                    cuts.push(lo as u32);
                    cuts.push(hi as u32 + 1);
                }
            }
        }
    }

    /// Splits `set` into pieces on which every rule's source (`source == true`) or destination
    /// address condition is constant: one representative address per piece then stands for the
    /// whole piece in any question about this NSG.
    pub fn address_pieces(&self, set: &AddrSet, source: bool) -> Vec<AddrSet> {
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        self.address_cuts(source, &mut v4, &mut v6);
        crate::net::split_at(set, &mut v4, &mut v6)
    }

    /// Every rule that matches `flow`, in evaluation order (the first one decides).
    pub fn all_matches(&self, flow: &Flow) -> Vec<RuleHit<'_>> {
        self.matcher
            .all_matches(flow)
            .into_iter()
            .map(|index| RuleHit { index, rule: &self.rules[index] })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;
    use crate::model::{Os, Topology};
    use crate::net::{IpProtocol, PortRange};
    use crate::nsg::{Access, AddressSpec, PortSpec, Priority, RuleKind, RuleProtocol, ServiceTag};

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("valid literal")
    }

    fn tcp(src: &str, dst: &str, port: u16) -> Flow {
        Flow::new(IpProtocol::TCP, ip(src), 50000, ip(dst), port)
    }

    fn rule(name: &str, priority: u16, direction: Direction, access: Access) -> SecurityRule {
        SecurityRule {
            name: name.into(),
            priority: Priority(priority),
            direction,
            access,
            protocol: RuleProtocol::Tcp,
            source: AddressSpec::Any,
            source_ports: PortSpec::any(),
            destination: AddressSpec::Any,
            destination_ports: PortSpec::any(),
            description: String::new(),
            kind: RuleKind::Security,
        }
    }

    /// VNet 10.0.0.0/16 with `web` (10.0.1.4, in ASG `web-servers`) and `db` (10.0.2.4), and the
    /// resolution context of that VNet.
    fn context() -> (Topology, ResolveContext, crate::ids::AsgId) {
        let mut t = Topology::new();
        let v = t.add_vnet("v", vec!["10.0.0.0/16".parse().expect("net")]).expect("vnet");
        let a = t.add_subnet(v, "a", "10.0.1.0/24".parse().expect("net")).expect("subnet");
        let b = t.add_subnet(v, "b", "10.0.2.0/24".parse().expect("net")).expect("subnet");
        let asg = t.add_asg("web-servers").expect("asg");
        let web = t.add_vm("web", Os::Linux, false, ("s", "rg")).expect("vm");
        let db = t.add_vm("db", Os::Linux, false, ("s", "rg")).expect("vm");
        let web_nic = t.add_nic("web-nic", a, ip("10.0.1.4"), Some(web)).expect("nic");
        t.add_nic("db-nic", b, ip("10.0.2.4"), Some(db)).expect("nic");
        t.join_asg(web_nic, asg).expect("join");
        let ctx = t.resolve_context(v);
        (t, ctx, asg)
    }

    fn decided(nsg: &Nsg, direction: Direction, ctx: &ResolveContext, flow: &Flow) -> String {
        CompiledNsg::compile(nsg, direction, ctx).evaluate(flow).rule.azure_name()
    }

    #[test]
    fn each_default_rule_decides_the_flows_it_is_for() {
        let (_, ctx, _) = context();
        let empty = Nsg { name: "n".into(), rules: vec![] };
        let inbound = |f: &Flow| decided(&empty, Direction::Inbound, &ctx, f);
        let outbound = |f: &Flow| decided(&empty, Direction::Outbound, &ctx, f);
        assert_eq!(inbound(&tcp("10.0.2.4", "10.0.1.4", 22)), "defaultSecurityRules/AllowVnetInBound");
        // The platform address is in VirtualNetwork, so AllowVnetInBound takes probes to a VNet
        // address; the load-balancer rule decides only for a destination outside the VNet.
        assert_eq!(inbound(&tcp("168.63.129.16", "10.0.1.4", 80)), "defaultSecurityRules/AllowVnetInBound");
        assert_eq!(
            inbound(&tcp("168.63.129.16", "20.0.0.1", 80)),
            "defaultSecurityRules/AllowAzureLoadBalancerInBound"
        );
        assert_eq!(inbound(&tcp("203.0.113.5", "10.0.1.4", 443)), "defaultSecurityRules/DenyAllInBound");
        assert_eq!(outbound(&tcp("10.0.1.4", "10.0.2.4", 1433)), "defaultSecurityRules/AllowVnetOutBound");
        assert_eq!(outbound(&tcp("10.0.1.4", "8.8.8.8", 443)), "defaultSecurityRules/AllowInternetOutBound");
        // A private address outside every VNet is neither VirtualNetwork nor Internet.
        assert_eq!(outbound(&tcp("10.0.1.4", "192.168.5.10", 443)), "defaultSecurityRules/DenyAllOutBound");
        let compiled = CompiledNsg::compile(&empty, Direction::Inbound, &ctx);
        let hit = compiled.evaluate(&tcp("203.0.113.5", "10.0.1.4", 1));
        assert_eq!((hit.index, hit.rule.access), (2, Access::Deny));
    }

    #[test]
    fn the_first_match_by_priority_decides_whatever_the_file_order() {
        let (_, ctx, _) = context();
        let nsg = Nsg {
            name: "n".into(),
            rules: vec![
                rule("allow-all", 200, Direction::Inbound, Access::Allow),
                rule("deny-all", 100, Direction::Inbound, Access::Deny),
                rule("allow-out", 100, Direction::Outbound, Access::Allow),
            ],
        };
        let compiled = CompiledNsg::compile(&nsg, Direction::Inbound, &ctx);
        assert_eq!(compiled.direction(), Direction::Inbound);
        let flow = tcp("10.0.2.4", "10.0.1.4", 22);
        let hit = compiled.evaluate(&flow);
        assert_eq!((hit.index, hit.rule.name.as_str(), hit.rule.access), (0, "deny-all", Access::Deny));
        // Every matching rule, in evaluation order; the outbound rule is not in the inbound NSG.
        let all: Vec<&str> = compiled.all_matches(&flow).iter().map(|h| h.rule.name.as_str()).collect();
        assert_eq!(all, ["deny-all", "allow-all", "AllowVnetInBound", "DenyAllInBound"]);
        assert_eq!(compiled.rules().len(), 5);
    }

    #[test]
    fn augmented_rules_match_any_of_their_prefixes_and_ports() {
        let (_, ctx, _) = context();
        let mut admins = rule("admins", 100, Direction::Inbound, Access::Allow);
        admins.source = AddressSpec::Prefixes(vec![
            "203.0.113.0/24".parse().expect("net"),
            "198.51.100.7/32".parse().expect("net"),
        ]);
        admins.destination_ports = PortSpec(vec![PortRange::single(22), "3389-3390".parse().expect("range")]);
        let nsg = Nsg { name: "n".into(), rules: vec![admins] };
        let by = |src: &str, port: u16| decided(&nsg, Direction::Inbound, &ctx, &tcp(src, "10.0.1.4", port));
        assert_eq!(by("203.0.113.77", 22), "securityRules/admins");
        assert_eq!(by("198.51.100.7", 3390), "securityRules/admins");
        assert_eq!(by("198.51.100.8", 22), "defaultSecurityRules/DenyAllInBound");
        assert_eq!(by("203.0.113.77", 3391), "defaultSecurityRules/DenyAllInBound");
        // A rule with ports does not match a portless protocol.
        let ping = Flow::new(IpProtocol::ICMP, ip("203.0.113.77"), 0, ip("10.0.1.4"), 0);
        assert_eq!(decided(&nsg, Direction::Inbound, &ctx, &ping), "defaultSecurityRules/DenyAllInBound");
    }

    #[test]
    fn service_tags_resolve_in_the_nsgs_vnet() {
        let (_, ctx, _) = context();
        let mut deny_vnet = rule("deny-vnet", 100, Direction::Inbound, Access::Deny);
        deny_vnet.source = AddressSpec::Tag(ServiceTag::VirtualNetwork);
        let mut allow_internet = rule("allow-internet", 110, Direction::Inbound, Access::Allow);
        allow_internet.source = AddressSpec::Tag(ServiceTag::Internet);
        let mut to_storage = rule("deny-storage", 100, Direction::Outbound, Access::Deny);
        to_storage.destination = AddressSpec::Tag(ServiceTag::Other("Storage".into()));
        let nsg = Nsg { name: "n".into(), rules: vec![deny_vnet, allow_internet, to_storage] };
        let inbound = |src: &str| decided(&nsg, Direction::Inbound, &ctx, &tcp(src, "10.0.1.4", 80));
        assert_eq!(inbound("10.0.2.4"), "securityRules/deny-vnet");
        assert_eq!(
            inbound("168.63.129.16"),
            "securityRules/deny-vnet",
            "the platform address is VirtualNetwork"
        );
        assert_eq!(inbound("203.0.113.5"), "securityRules/allow-internet");
        // 192.168.0.0/16 is private, so not Internet.
        assert_eq!(inbound("192.168.1.1"), "defaultSecurityRules/DenyAllInBound");
        let storage = ctx.tags.get("Storage").expect("a sample tag").to_prefixes()[0];
        let out = tcp("10.0.1.4", &storage.addr().to_string(), 443);
        assert_eq!(decided(&nsg, Direction::Outbound, &ctx, &out), "securityRules/deny-storage");
    }

    #[test]
    fn asgs_stand_for_their_members_private_addresses() {
        let (_, ctx, asg) = context();
        let mut to_web = rule("to-web", 100, Direction::Inbound, Access::Allow);
        to_web.destination = AddressSpec::Asgs(vec![asg]);
        to_web.destination_ports = PortSpec::single(443);
        let nsg = Nsg { name: "n".into(), rules: vec![to_web] };
        let to = |dst: &str| decided(&nsg, Direction::Inbound, &ctx, &tcp("203.0.113.5", dst, 443));
        assert_eq!(to("10.0.1.4"), "securityRules/to-web");
        assert_eq!(to("10.0.2.4"), "defaultSecurityRules/DenyAllInBound", "db-nic is not a member");
    }
}
