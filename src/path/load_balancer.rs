//! A flow through an Azure Load Balancer's frontend: the inbound NAT rule or load-balancing rule
//! that takes it, the backend member it goes to, and that member's NSGs.
//!
//! Azure's behaviour, quoted in docs/fidelity.md:
//! - the load balancer is a pass-through: the destination becomes the member's private address
//!   and backend port, the client's source is kept, so the member's NSGs see the client;
//! - a Standard load balancer is "closed to inbound connections unless opened by Network Security
//!   Groups": with no NSG on the member's subnet or NIC, nothing enters; a Basic one "is open to
//!   the internet by default";
//! - a load-balancing rule sends new connections only to members whose health probe answers;
//!   the probe comes from 168.63.129.16 (`AzureLoadBalancer`) and the member's NSGs can stop it;
//!   inbound NAT rules use no probe.
//!
//! Which member a load-balancing rule picks is Azure's 5-tuple hash, which no scenario can
//! predict. nsgsim evaluates every healthy member: the flow is allowed when one of them would
//! take it (a flow the hash sends there gets in, so an exposure is never hidden), and the
//! load-balancer hop lists every member's answer; the hops after it are those of the member
//! shown (the first that takes it, else the first). A request that names the member
//! ([`Destination::Backend`](super::Destination::Backend)) is answered for that member alone.
//! Both are model choices (docs/fidelity.md).

use crate::model::{BackendMember, LbSku, LoadBalancerId, PLATFORM_HOST_ADDRESS};
use crate::net::{Flow, IpProtocol};
use crate::nsg::{Access, Direction, RuleRef};

use super::detail::{LbDetail, LbFrontend, Member, MemberAnswer, Probe};
use super::evaluate::Walk;
use super::{Hop, HopKind};

/// One member's answer to a load-balancing rule, with the hops after it.
struct Answer {
    member: BackendMember,
    /// Down: its health probe was stopped (by the NSG and rule given, when a hop said).
    down: Option<Option<(String, Option<RuleRef>)>>,
    allowed: bool,
    hops: Vec<Hop>,
}

impl Walk<'_> {
    /// Runs `step` and takes back the hops it pushed, with its answer.
    fn aside(&mut self, step: impl FnOnce(&mut Self) -> bool) -> (bool, Vec<Hop>) {
        let mark = self.hops.len();
        let allowed = step(self);
        (allowed, self.hops.split_off(mark))
    }

    /// A packet at frontend `frontend` of load balancer `lb`.
    pub(in crate::path) fn through_load_balancer(
        &mut self,
        flow: Flow,
        lb: LoadBalancerId,
        frontend: usize,
    ) -> bool {
        let t = self.topology;
        let l = t.load_balancer(lb);
        let fe = &l.frontends[frontend];
        let head =
            LbFrontend { lb: l.name.clone(), sku: l.sku, frontend: fe.name.clone(), address: flow.dst };
        // Inbound NAT rules: one port (or one port of a range) to one member.
        for rule in l.nat_rules.iter().filter(|r| r.frontend == frontend && r.protocol.matches(flow.protocol))
        {
            if !(rule.frontend_port_start..=rule.frontend_port_end).contains(&flow.dst_port) {
                continue;
            }
            let Some((_, member)) = l.nat_members(rule).into_iter().find(|(port, _)| *port == flow.dst_port)
            else {
                let detail = LbDetail::NatNoMember {
                    head,
                    rule: rule.name.clone(),
                    ports: (rule.frontend_port_start, rule.frontend_port_end),
                    port: flow.dst_port,
                };
                return self.lb_hop(&l.name, Some(&rule.name), Access::Deny, detail);
            };
            let nic = t.nic(member.nic).name.clone();
            if let Some(asked) = self.backend.filter(|n| *n != member.nic) {
                let detail = LbDetail::NatOtherMember {
                    head,
                    rule: rule.name.clone(),
                    port: flow.dst_port,
                    nic,
                    asked: t.nic(asked).name.clone(),
                };
                return self.lb_hop(&l.name, Some(&rule.name), Access::Deny, detail);
            }
            let detail = LbDetail::NatForwards {
                head,
                rule: rule.name.clone(),
                protocol: rule.protocol,
                port: flow.dst_port,
                nic,
                address: t.member_address(member),
                backend_port: rule.backend_port,
                client: flow.src,
            };
            self.lb_hop(&l.name, Some(&rule.name), Access::Allow, detail);
            return self.forward_to_member(flow, lb, member, rule.backend_port, rule.floating_ip);
        }
        // Load-balancing rules: a port to a pool.
        let Some((rule, backend_port)) = l
            .rules
            .iter()
            .filter(|r| r.frontend == frontend)
            .find_map(|r| r.backend_port_for(flow.protocol, flow.dst_port).map(|p| (r, p)))
        else {
            let detail = LbDetail::NoRule { head, protocol: flow.protocol, port: flow.dst_port };
            return self.lb_hop(&l.name, None, Access::Deny, detail);
        };
        let pool = &l.pools[rule.pool];
        let asked = self.backend;
        let members: Vec<BackendMember> =
            pool.members.iter().copied().filter(|m| asked.is_none_or(|n| n == m.nic)).collect();
        if members.is_empty() {
            let (name, pool) = (rule.name.clone(), pool.name.clone());
            let detail = match asked {
                Some(n) => LbDetail::NotInPool { head, rule: name, pool, nic: t.nic(n).name.clone() },
                None => LbDetail::EmptyPool { head, rule: name, pool },
            };
            return self.lb_hop(&l.name, Some(&rule.name), Access::Deny, detail);
        }
        let probe = rule.probe.map(|p| &l.probes[p]);
        let mut answers = Vec::new();
        for member in members {
            let address = t.member_address(member);
            let down = probe.and_then(|p| {
                let probe_flow = Flow::new(IpProtocol::TCP, PLATFORM_HOST_ADDRESS, 0, address, p.port);
                let (up, hops) = self.aside(|w| w.chain(&probe_flow, member.nic, Direction::Inbound));
                (!up).then(|| {
                    hops.iter()
                        .find(|h| h.access == Access::Deny)
                        .map(|h| (h.resource.clone(), h.rule.clone()))
                })
            });
            let (allowed, hops) = match down {
                Some(_) => (false, Vec::new()),
                None => self.aside(|w| w.forward_to_member(flow, lb, member, backend_port, rule.floating_ip)),
            };
            answers.push(Answer { member, down, allowed, hops });
        }
        let members: Vec<Member> = answers
            .iter()
            .map(|a| Member {
                nic: t.nic(a.member.nic).name.clone(),
                answer: match (&a.down, a.allowed) {
                    (Some(by), _) => MemberAnswer::Down {
                        by: by.as_ref().map(|(resource, _)| resource.clone()),
                        rule: by.as_ref().and_then(|(_, rule)| rule.clone()),
                    },
                    (None, true) => MemberAnswer::Takes,
                    (None, false) => MemberAnswer::Drops,
                },
            })
            .collect();
        let pick =
            answers.iter().position(|a| a.allowed).or_else(|| answers.iter().position(|a| a.down.is_none()));
        let probe = probe.map(|p| Probe { name: p.name.clone(), port: p.port });
        let Some(pick) = pick else {
            let detail = LbDetail::NoHealthyMember {
                head,
                rule: rule.name.clone(),
                probe,
                pool: pool.name.clone(),
                members,
            };
            return self.lb_hop(&l.name, Some(&rule.name), Access::Deny, detail);
        };
        let chosen = answers.swap_remove(pick);
        let detail = LbDetail::Balances {
            head,
            rule: rule.name.clone(),
            protocol: flow.protocol,
            port: flow.dst_port,
            pool: pool.name.clone(),
            backend_port,
            probe,
            client: flow.src,
            members,
            shown: t.nic(chosen.member.nic).name.clone(),
        };
        self.lb_hop(&l.name, Some(&rule.name), Access::Allow, detail);
        self.hops.extend(chosen.hops);
        chosen.allowed
    }

    /// Forwards a flow the load balancer took to `member` on `backend_port`: the Standard SKU's
    /// closed default, the asymmetric-reply check of a public frontend, then the member's
    /// inbound NSG chain.
    fn forward_to_member(
        &mut self,
        flow: Flow,
        lb: LoadBalancerId,
        member: BackendMember,
        backend_port: u16,
        floating_ip: bool,
    ) -> bool {
        let t = self.topology;
        let l = t.load_balancer(lb);
        let n = t.nic(member.nic);
        let address = t.member_address(member);
        if l.sku == LbSku::Standard && n.nsg.is_none() && t.subnet(n.subnet).nsg.is_none() {
            let detail = LbDetail::StandardClosed { nic: n.name.clone() };
            return self.lb_hop(&l.name, None, Access::Deny, detail);
        }
        if !l.is_internal()
            && let Some(denied) = self.asymmetric_reply(&flow, member.nic)
        {
            return denied;
        }
        // Floating IP: the backend receives the frontend's address as the destination.
        let dst = if floating_ip { flow.dst } else { address };
        let inbound = Flow { dst, dst_port: backend_port, ..flow };
        self.chain(&inbound, member.nic, Direction::Inbound)
    }

    fn lb_hop(&mut self, lb: &str, rule: Option<&str>, access: Access, detail: LbDetail) -> bool {
        self.hops.push(Hop {
            rule: rule.map(|r| RuleRef::LoadBalancer { name: r.to_string() }),
            ..super::evaluate::hop(HopKind::LoadBalancer, lb, access, detail)
        });
        access == Access::Allow
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{
        BackendMember, BackendPool, Frontend, FrontendAddress, LbProtocol, LbRule, LbSku, LoadBalancer,
        NatRule, NatTarget, NicId, Probe, ProbeProtocol, PublicIpSku, SubnetId, Topology,
    };
    use crate::nsg::{Access, AddressSpec, Direction::Inbound, RuleProtocol::Tcp};
    use crate::path::testing::{ip, net, nsg, prefix, rule, run, tag, tcp, vm};
    use crate::path::{Destination, HopDetail, HopKind, LbDetail, Member, MemberAnswer, Source};

    /// A VNet with subnet `web`, two VMs in it and a public load balancer of `sku` in front of
    /// both: rule `http` (80, probe on 80) and NAT rule `rdp-a` (50001 to vm-a's 3389).
    fn estate(sku: LbSku) -> (Topology, SubnetId, [NicId; 2]) {
        let mut t = Topology::new();
        let v = t.add_vnet("vnet", vec![net("10.0.0.0/16")]).expect("vnet");
        let s = t.add_subnet(v, "web", net("10.0.1.0/24")).expect("subnet");
        let a = vm(&mut t, "vm-a", s, "10.0.1.4", None);
        let b = vm(&mut t, "vm-b", s, "10.0.1.5", None);
        let pip_sku = if sku == LbSku::Basic { PublicIpSku::Basic } else { PublicIpSku::Standard };
        let pip = t.add_public_ip("lb-pip", ip("20.0.0.10"), pip_sku).expect("pip");
        let member = |nic| BackendMember { nic, config: 0 };
        t.add_load_balancer(LoadBalancer {
            name: "lb-web".into(),
            sku,
            frontends: vec![Frontend { name: "fe".into(), address: FrontendAddress::Public(pip) }],
            pools: vec![BackendPool { name: "web".into(), members: vec![member(a), member(b)] }],
            probes: vec![Probe { name: "http".into(), protocol: ProbeProtocol::Tcp, port: 80 }],
            rules: vec![LbRule {
                name: "http".into(),
                frontend: 0,
                protocol: LbProtocol::Tcp,
                frontend_port: 80,
                backend_port: 80,
                pool: 0,
                probe: Some(0),
                floating_ip: false,
                disable_outbound_snat: false,
            }],
            nat_rules: vec![NatRule {
                name: "rdp-a".into(),
                frontend: 0,
                protocol: LbProtocol::Tcp,
                frontend_port_start: 50001,
                frontend_port_end: 50001,
                backend_port: 3389,
                target: NatTarget::Member(member(a)),
                floating_ip: false,
            }],
            outbound_rules: Vec::new(),
        })
        .expect("lb");
        (t, s, [a, b])
    }

    fn client() -> Source {
        Source::Address(ip("203.0.113.7"))
    }

    fn frontend() -> Destination {
        Destination::Address(ip("20.0.0.10"))
    }

    #[test]
    fn a_standard_load_balancer_is_closed_until_an_nsg_allows_and_the_nsg_sees_the_client() {
        let (mut t, s, _) = estate(LbSku::Standard);
        let trace = run(&t, tcp(client(), frontend(), 80));
        assert_eq!(trace.verdict, Access::Deny);
        let last = trace.hops.last().expect("a hop");
        assert_eq!(last.kind, HopKind::LoadBalancer);
        assert_eq!(last.detail, HopDetail::LoadBalancer(LbDetail::StandardClosed { nic: "vm-a-nic".into() }));
        // An NSG that allows 80 only from the client's address: it sees the client, not the LB.
        let allow =
            rule("web", 100, Inbound, Access::Allow, Tcp, (prefix("203.0.113.7/32"), AddressSpec::Any), "80");
        let id = nsg(&mut t, "web-nsg", vec![allow]);
        t.set_subnet_nsg(s, Some(id)).expect("nsg");
        let trace = run(&t, tcp(client(), frontend(), 80));
        assert_eq!(trace.verdict, Access::Allow, "{trace:?}");
        assert_eq!(trace.deciding_hop().and_then(|h| h.rule_name()).as_deref(), Some("securityRules/web"));
        let other = run(&t, tcp(Source::Address(ip("198.51.100.1")), frontend(), 80));
        assert_eq!(other.verdict, Access::Deny);
        // A port no rule takes is dropped by the load balancer itself.
        let none = run(&t, tcp(client(), frontend(), 443));
        assert_eq!(none.hops.last().map(|h| h.kind), Some(HopKind::LoadBalancer));
        assert_eq!(none.verdict, Access::Deny);
    }

    #[test]
    fn a_basic_load_balancer_is_open_without_an_nsg() {
        let (t, _, _) = estate(LbSku::Basic);
        let trace = run(&t, tcp(client(), frontend(), 80));
        assert_eq!(trace.verdict, Access::Allow);
        assert!(trace.hops.iter().any(|h| h.kind == HopKind::NoNsg));
    }

    #[test]
    fn a_nat_rule_publishes_one_vms_rdp_and_only_to_that_vm() {
        let (mut t, s, [a, b]) = estate(LbSku::Standard);
        let allow =
            rule("rdp", 100, Inbound, Access::Allow, Tcp, (AddressSpec::Any, AddressSpec::Any), "3389");
        let id = nsg(&mut t, "web-nsg", vec![allow]);
        t.set_subnet_nsg(s, Some(id)).expect("nsg");
        let trace = run(&t, tcp(client(), frontend(), 50001));
        assert_eq!(trace.verdict, Access::Allow);
        let lb = trace.hops.iter().find(|h| h.kind == HopKind::LoadBalancer).expect("lb hop");
        assert!(
            matches!(&lb.detail, HopDetail::LoadBalancer(LbDetail::NatForwards { rule, backend_port: 3389, .. }) if rule == "rdp-a"),
            "{:?}",
            lb.detail
        );
        let to_a = run(&t, tcp(client(), Destination::Backend { address: ip("20.0.0.10"), nic: a }, 50001));
        assert_eq!(to_a.verdict, Access::Allow);
        let to_b = run(&t, tcp(client(), Destination::Backend { address: ip("20.0.0.10"), nic: b }, 50001));
        assert_eq!(to_b.verdict, Access::Deny);
    }

    #[test]
    fn a_member_whose_probe_is_denied_is_down_and_gets_no_flows() {
        let (mut t, _, [a, b]) = estate(LbSku::Standard);
        let web = rule("web", 100, Inbound, Access::Allow, Tcp, (AddressSpec::Any, AddressSpec::Any), "80");
        let no_probe = rule(
            "no-probe",
            90,
            Inbound,
            Access::Deny,
            Tcp,
            (tag("AzureLoadBalancer"), AddressSpec::Any),
            "*",
        );
        let open = nsg(&mut t, "open", vec![web.clone()]);
        let blind = nsg(&mut t, "blind", vec![no_probe, web]);
        t.set_nic_nsg(a, Some(blind));
        t.set_nic_nsg(b, Some(open));
        let trace = run(&t, tcp(client(), frontend(), 80));
        assert_eq!(trace.verdict, Access::Allow);
        let lb = trace.hops.iter().find(|h| h.kind == HopKind::LoadBalancer).expect("lb hop");
        match &lb.detail {
            HopDetail::LoadBalancer(LbDetail::Balances { members, shown, .. }) => {
                assert_eq!(shown, "vm-b-nic");
                assert_eq!(members[0].nic, "vm-a-nic");
                assert!(
                    matches!(&members[0].answer, MemberAnswer::Down { by: Some(nsg), rule: Some(r) } if nsg == "blind" && r.to_string() == "securityRules/no-probe"),
                    "{:?}",
                    members[0]
                );
                assert_eq!(members[1], Member { nic: "vm-b-nic".into(), answer: MemberAnswer::Takes });
            }
            other => panic!("{other:?}"),
        }
        t.set_nic_nsg(b, Some(blind));
        let trace = run(&t, tcp(client(), frontend(), 80));
        assert_eq!(trace.verdict, Access::Deny);
        assert!(trace.hops.last().is_some_and(|h| matches!(
            &h.detail,
            HopDetail::LoadBalancer(LbDetail::NoHealthyMember { pool, .. }) if pool == "web"
        )));
    }
}
