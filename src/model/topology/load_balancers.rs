//! Load balancers in the topology: the checks Azure makes when one is created, and the lookups
//! a flow's walk needs (which load balancer a frontend address belongs to, which pools a NIC is
//! in).

use std::net::IpAddr;

use super::{LoadBalancerProblem, PublicIpSku, Resource, Topology, TopologyError};
use crate::ids::{NicId, PublicIpId, VnetId};
use crate::model::load_balancer::{
    BackendMember, FrontendAddress, LbSku, LoadBalancer, LoadBalancerId, NatTarget,
};

impl Topology {
    /// Adds a load balancer.
    ///
    /// # Errors
    /// What Azure refuses: a duplicate name; a public frontend whose public IP is associated with
    /// another resource or whose SKU is not the load balancer's ("The SKU of the public IP and
    /// the load balancer must match"); a private frontend outside its subnet or on an address a
    /// NIC has; a backend member missing or in another VNet than the pool's first member; an HA
    /// ports rule on a public or Basic load balancer (HA ports are a feature of internal Standard
    /// load balancers); an index (frontend, pool, probe) out of range; what
    /// [`LoadBalancer::outbound_rule_problem`] finds in an outbound rule.
    pub fn add_load_balancer(&mut self, lb: LoadBalancer) -> Result<LoadBalancerId, TopologyError> {
        if self.load_balancers.iter().any(|l| l.name.eq_ignore_ascii_case(&lb.name)) {
            return Err(TopologyError::DuplicateName { kind: "load balancer", name: lb.name });
        }
        let resource = format!("load balancer '{}'", lb.name);
        let requirement = |problem: LoadBalancerProblem| {
            TopologyError::requirement(Resource::LoadBalancer(lb.name.clone()), problem)
        };
        for f in &lb.frontends {
            match f.address {
                FrontendAddress::Public(p) => {
                    if let Some(holder) = self.public_ip_holder(p) {
                        return Err(TopologyError::PublicIpInUse {
                            public_ip: self.public_ips[p.index()].name.clone(),
                            holder,
                            resource: resource.clone(),
                        });
                    }
                    let pip = &self.public_ips[p.index()];
                    let matches = matches!(
                        (pip.sku, lb.sku),
                        (PublicIpSku::Basic, LbSku::Basic) | (PublicIpSku::Standard, LbSku::Standard)
                    );
                    if !matches {
                        return Err(requirement(LoadBalancerProblem::SkuMismatch {
                            frontend: f.name.clone(),
                            public_ip: pip.name.clone(),
                            ip_sku: pip.sku,
                            lb_sku: lb.sku,
                        }));
                    }
                }
                FrontendAddress::Private { subnet, address } => {
                    let s = &self.subnets[subnet.index()];
                    if !s.prefix.contains(&address) {
                        return Err(TopologyError::IpOutsideSubnet {
                            nic: format!("{resource} frontend '{}'", f.name),
                            ip: address,
                            subnet: s.name.clone(),
                            prefix: s.prefix,
                        });
                    }
                    if let Some(nic) = self.nic_in_vnet(s.vnet, address) {
                        return Err(TopologyError::DuplicateIp {
                            ip: address,
                            first: self.nics[nic.index()].name.clone(),
                            second: format!("{resource} frontend '{}'", f.name),
                            vnet: self.vnets[s.vnet.index()].name.clone(),
                        });
                    }
                }
            }
        }
        for pool in &lb.pools {
            let mut vnet: Option<VnetId> = None;
            for m in &pool.members {
                let Some(nic) = self.nics.get(m.nic.index()) else {
                    return Err(requirement(LoadBalancerProblem::MissingMember { pool: pool.name.clone() }));
                };
                if m.config > nic.secondary.len() {
                    return Err(requirement(LoadBalancerProblem::NoSuchIpConfig {
                        pool: pool.name.clone(),
                        nic: nic.name.clone(),
                        config: m.config,
                    }));
                }
                let v = self.subnets[nic.subnet.index()].vnet;
                match vnet {
                    Some(first) if first != v => {
                        return Err(requirement(LoadBalancerProblem::PoolAcrossVnets {
                            pool: pool.name.clone(),
                            nic: nic.name.clone(),
                            vnet: self.vnets[v.index()].name.clone(),
                            first_vnet: self.vnets[first.index()].name.clone(),
                        }));
                    }
                    _ => vnet = Some(v),
                }
            }
        }
        for r in &lb.rules {
            let rule = r.name.clone();
            if r.frontend >= lb.frontends.len() || r.pool >= lb.pools.len() {
                return Err(requirement(LoadBalancerProblem::RuleTargetMissing { rule }));
            }
            if r.probe.is_some_and(|p| p >= lb.probes.len()) {
                return Err(requirement(LoadBalancerProblem::RuleProbeMissing { rule }));
            }
            if r.ha_ports() && (lb.sku != LbSku::Standard || !lb.is_internal()) {
                return Err(requirement(LoadBalancerProblem::HaPorts { rule }));
            }
        }
        for n in &lb.nat_rules {
            let rule = n.name.clone();
            if n.frontend >= lb.frontends.len() {
                return Err(requirement(LoadBalancerProblem::NatRuleFrontendMissing { rule }));
            }
            if n.frontend_port_end < n.frontend_port_start {
                return Err(requirement(LoadBalancerProblem::NatRulePortRange {
                    rule,
                    start: n.frontend_port_start,
                    end: n.frontend_port_end,
                }));
            }
            match &n.target {
                NatTarget::Pool(p) if *p >= lb.pools.len() => {
                    return Err(requirement(LoadBalancerProblem::NatRulePoolMissing { rule }));
                }
                NatTarget::Member(m)
                    if self.nics.get(m.nic.index()).is_none_or(|nic| m.config > nic.secondary.len()) =>
                {
                    return Err(requirement(LoadBalancerProblem::NatRuleMemberMissing { rule }));
                }
                _ => {}
            }
        }
        if let Some(problem) = (0..lb.outbound_rules.len()).find_map(|i| lb.outbound_rule_problem(i)) {
            return Err(requirement(LoadBalancerProblem::OutboundRule(problem)));
        }
        self.load_balancers.push(lb);
        Ok(LoadBalancerId(self.load_balancers.len() as u32 - 1))
    }

    /// A load balancer.
    pub fn load_balancer(&self, id: LoadBalancerId) -> &LoadBalancer {
        &self.load_balancers[id.0 as usize]
    }

    /// Every load balancer id.
    pub fn load_balancer_ids(&self) -> impl Iterator<Item = LoadBalancerId> + '_ {
        (0..self.load_balancers.len() as u32).map(LoadBalancerId)
    }

    /// The load balancer with this name (compared without regard to case).
    pub fn load_balancer_by_name(&self, name: &str) -> Option<LoadBalancerId> {
        self.load_balancers
            .iter()
            .position(|l| l.name.eq_ignore_ascii_case(name))
            .map(|i| LoadBalancerId(i as u32))
    }

    /// The load balancer and frontend (index) whose public IP resource is `p`.
    pub fn load_balancer_by_public_ip(&self, p: PublicIpId) -> Option<(LoadBalancerId, usize)> {
        self.load_balancers.iter().enumerate().find_map(|(i, l)| {
            l.frontends
                .iter()
                .position(|f| f.address == FrontendAddress::Public(p))
                .map(|fi| (LoadBalancerId(i as u32), fi))
        })
    }

    /// The internal load balancer and frontend (index) listening on private `address` in `vnet`.
    pub fn load_balancer_in_vnet(&self, vnet: VnetId, address: IpAddr) -> Option<(LoadBalancerId, usize)> {
        self.load_balancers.iter().enumerate().find_map(|(i, l)| {
            l.frontends
                .iter()
                .position(|f| match f.address {
                    FrontendAddress::Private { subnet, address: a } => {
                        a == address && self.subnets[subnet.index()].vnet == vnet
                    }
                    FrontendAddress::Public(_) => false,
                })
                .map(|fi| (LoadBalancerId(i as u32), fi))
        })
    }

    /// The address a frontend listens on.
    pub fn frontend_address(&self, lb: LoadBalancerId, frontend: usize) -> IpAddr {
        match self.load_balancer(lb).frontends[frontend].address {
            FrontendAddress::Public(p) => self.public_ips[p.index()].address,
            FrontendAddress::Private { address, .. } => address,
        }
    }

    /// The private address of a backend member (its IP configuration's).
    pub fn member_address(&self, member: BackendMember) -> IpAddr {
        let n = &self.nics[member.nic.index()];
        match member.config {
            0 => n.private_ip,
            i => n.secondary.get(i - 1).map_or(n.private_ip, |c| c.private_ip),
        }
    }

    /// Whether `nic` (any of its IP configurations) is a member of pool `pool` of `lb`.
    pub fn nic_in_pool(&self, lb: LoadBalancerId, pool: usize, nic: NicId) -> bool {
        self.load_balancer(lb).pools.get(pool).is_some_and(|p| p.members.iter().any(|m| m.nic == nic))
    }

    /// The load balancer holding public IP `p`, written as errors name it.
    pub(super) fn load_balancer_holding(&self, p: PublicIpId) -> Option<String> {
        self.load_balancer_by_public_ip(p)
            .map(|(lb, _)| format!("load balancer '{}'", self.load_balancer(lb).name))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ip, small};
    use crate::model::load_balancer::{
        BackendPool, Frontend, LbProtocol, LbRule, OutboundRule, OutboundRuleProblem,
    };
    use crate::model::{LbSku, LoadBalancer, PublicIpSku, RequirementProblem, TopologyError};

    /// The load balancer family's problem of a refusal (`None`: another error).
    fn problem<T>(r: &Result<T, TopologyError>) -> Option<&LoadBalancerProblem> {
        match r.as_ref().err()?.requirement_problem()? {
            RequirementProblem::LoadBalancer(p) => Some(p),
            _ => None,
        }
    }

    use super::*;

    fn lb(sku: LbSku, frontend: FrontendAddress, members: Vec<BackendMember>) -> LoadBalancer {
        LoadBalancer {
            name: "lb".into(),
            sku,
            frontends: vec![Frontend { name: "fe".into(), address: frontend }],
            pools: vec![BackendPool { name: "pool".into(), members }],
            probes: Vec::new(),
            rules: vec![LbRule {
                name: "http".into(),
                frontend: 0,
                protocol: LbProtocol::Tcp,
                frontend_port: 80,
                backend_port: 80,
                pool: 0,
                probe: None,
                floating_ip: false,
                disable_outbound_snat: false,
            }],
            nat_rules: Vec::new(),
            outbound_rules: Vec::new(),
        }
    }

    fn outbound(frontends: Vec<usize>) -> OutboundRule {
        OutboundRule {
            name: "egress".into(),
            frontends,
            pool: 0,
            protocol: LbProtocol::All,
            allocated_ports: 0,
            idle_timeout_minutes: 4,
            tcp_reset: false,
        }
    }

    #[test]
    fn azure_refuses_outbound_rules_it_cannot_program() {
        let (mut t, _v, s) = small();
        let nic = t.add_nic("nic", s, ip("10.0.1.4"), None).expect("nic");
        let member = BackendMember { nic, config: 0 };
        let std_ip = t.add_public_ip("std", ip("20.0.0.2"), PublicIpSku::Standard).expect("pip");
        let public = lb(LbSku::Standard, FrontendAddress::Public(std_ip), vec![member]);
        let field = |l: &LoadBalancer| l.outbound_rule_problem(0).map(|p| p.field());
        // The load-balancing rule still SNATs through the frontend: the outbound rule would
        // redefine it.
        let mut clash = public.clone();
        clash.outbound_rules.push(outbound(vec![0]));
        assert_eq!(field(&clash), Some("frontends"));
        let err = t.add_load_balancer(clash.clone());
        assert!(
            matches!(
                problem(&err),
                Some(LoadBalancerProblem::OutboundRule(OutboundRuleProblem::FrontendSnatInUse { lb_rule, .. }))
                    if lb_rule == "http"
            ),
            "{err:?}"
        );
        assert!(
            matches!(&err, Err(TopologyError::Requirement { resource: Resource::LoadBalancer(n), .. }) if n == "lb")
        );
        let mut good = clash.clone();
        good.rules[0].disable_outbound_snat = true;
        assert_eq!(good.outbound_rule_problem(0), None);
        type Change = fn(&mut OutboundRule);
        let changes: [(Change, &str); 7] = [
            (|r| r.frontends.clear(), "frontends"),
            (|r| r.frontends = vec![3], "frontends"),
            (|r| r.pool = 2, "pool"),
            (|r| r.allocated_ports = 1020, "allocated_outbound_ports"),
            (|r| r.allocated_ports = 64_008, "allocated_outbound_ports"),
            (|r| r.idle_timeout_minutes = 3, "idle_timeout_minutes"),
            (|r| r.idle_timeout_minutes = 121, "idle_timeout_minutes"),
        ];
        for (change, at) in changes {
            let mut bad = good.clone();
            change(&mut bad.outbound_rules[0]);
            assert_eq!(field(&bad), Some(at), "{:?}", bad.outbound_rules[0]);
        }
        // 64,000 ports for the pool's one member fits one address exactly.
        let mut all = good.clone();
        all.outbound_rules[0].allocated_ports = 64_000;
        assert_eq!(all.outbound_rule_problem(0), None);
        // Basic: no outbound rules at all.
        let mut basic = good.clone();
        basic.sku = LbSku::Basic;
        assert_eq!(field(&basic), Some(""));
        // A private frontend translates to nothing public.
        let private = FrontendAddress::Private { subnet: s, address: ip("10.0.1.10") };
        let mut internal = lb(LbSku::Standard, private, vec![member]);
        internal.outbound_rules.push(outbound(vec![0]));
        assert_eq!(field(&internal), Some("frontends"));
        let id = t.add_load_balancer(good).expect("a valid outbound rule");
        assert_eq!(t.load_balancer(id).outbound_rules.len(), 1);
    }

    #[test]
    fn azure_refuses_mismatched_skus_a_used_public_ip_and_ha_ports_on_a_public_frontend() {
        let (mut t, _v, s) = small();
        let nic = t.add_nic("nic", s, ip("10.0.1.4"), None).expect("nic");
        let member = BackendMember { nic, config: 0 };
        let basic = t.add_public_ip("basic", ip("20.0.0.1"), PublicIpSku::Basic).expect("pip");
        let err = t.add_load_balancer(lb(LbSku::Standard, FrontendAddress::Public(basic), vec![member]));
        let mismatch = LoadBalancerProblem::SkuMismatch {
            frontend: "fe".into(),
            public_ip: "basic".into(),
            ip_sku: PublicIpSku::Basic,
            lb_sku: LbSku::Standard,
        };
        assert_eq!(problem(&err), Some(&mismatch), "{err:?}");
        let std_ip = t.add_public_ip("std", ip("20.0.0.2"), PublicIpSku::Standard).expect("pip");
        let mut ha = lb(LbSku::Standard, FrontendAddress::Public(std_ip), vec![member]);
        ha.rules[0].protocol = LbProtocol::All;
        ha.rules[0].frontend_port = 0;
        let err = t.add_load_balancer(ha);
        assert_eq!(problem(&err), Some(&LoadBalancerProblem::HaPorts { rule: "http".into() }), "{err:?}");
        let id = t
            .add_load_balancer(lb(LbSku::Standard, FrontendAddress::Public(std_ip), vec![member]))
            .expect("lb");
        assert_eq!(t.load_balancer_by_public_ip(std_ip), Some((id, 0)));
        assert_eq!(t.public_ip_holder(std_ip).as_deref(), Some("load balancer 'lb'"));
        assert!(matches!(t.associate_public_ip(nic, std_ip), Err(TopologyError::PublicIpInUse { .. })));
        assert!(t.nic_in_pool(id, 0, nic));
    }

    #[test]
    fn an_internal_frontend_lies_in_its_subnet_on_an_address_no_nic_has() {
        let (mut t, v, s) = small();
        let nic = t.add_nic("nic", s, ip("10.0.1.4"), None).expect("nic");
        let member = BackendMember { nic, config: 0 };
        let on_nic = FrontendAddress::Private { subnet: s, address: ip("10.0.1.4") };
        assert!(matches!(
            t.add_load_balancer(lb(LbSku::Standard, on_nic, vec![member])),
            Err(TopologyError::DuplicateIp { .. })
        ));
        let outside = FrontendAddress::Private { subnet: s, address: ip("10.9.0.4") };
        assert!(matches!(
            t.add_load_balancer(lb(LbSku::Standard, outside, vec![member])),
            Err(TopologyError::IpOutsideSubnet { .. })
        ));
        let good = FrontendAddress::Private { subnet: s, address: ip("10.0.1.10") };
        let id = t.add_load_balancer(lb(LbSku::Standard, good, vec![member])).expect("lb");
        assert_eq!(t.load_balancer_in_vnet(v, ip("10.0.1.10")), Some((id, 0)));
        assert!(t.load_balancer(id).is_internal());
    }
}
