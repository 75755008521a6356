//! Load balancers: the inventory's records, with pools, NAT rules and NAT pools joined from both
//! sides (the NICs' IP configurations and the pools' own member lists), become the scenario's
//! `load_balancers`.
//!
//! A member is named as the scenario names it: a NIC's name for its primary IP configuration,
//! `nic/ipconfig` for a secondary one, and only when that NIC (and configuration) is in the
//! scenario's VMs. Whatever can change traffic and cannot be written is a gap (a warning and a
//! caveat, or an error under `--strict`), never dropped silently: a Gateway or cross-region load
//! balancer, a frontend whose public IP or subnet is not in the input, a member given by an
//! address no imported NIC has, a scale set's instances, an inbound NAT rule or NAT pool with no
//! member in the input, an outbound rule without a pool or without any of its frontends. What
//! Azure refuses in an outbound rule (on a Basic load balancer, ports not a multiple of 8, a
//! frontend a load-balancing rule already SNATs through) is an error at its field
//! (docs/fidelity.md, "Outbound rules").

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;

use super::vms::first_free;
use super::{Res, parent_ref};
use crate::import::arm::{ResourceRef, key};
use crate::import::inventory::{FrontendRec, Inventory, LbRec, NatRuleRec, Outcome, PoolAddressRec};
use crate::import::resource::Kind;
use crate::import::source::Src;
use crate::import::summary::{Relevance, SkipReason};
use crate::model::SNAT_PORTS_PER_ADDRESS;
use crate::scenario::schema::{
    CaveatKindSpec, FrontendSpec, LbRuleSpec, LbSkuSpec, LoadBalancerSpec, NatRuleSpec, OutboundRuleSpec,
    PoolSpec, ProbeSpec, VmSpec, VnetSpec,
};

const PIP: &str = "microsoft.network/publicipaddresses";
const SUBNET: &str = "microsoft.network/virtualnetworks/subnets";
const VNET: &str = "microsoft.network/virtualnetworks";
const LB: &str = "microsoft.network/loadbalancers";
const POOL: &str = "microsoft.network/loadbalancers/backendaddresspools";
const NAT_RULE: &str = "microsoft.network/loadbalancers/inboundnatrules";
const NAT_POOL: &str = "microsoft.network/loadbalancers/inboundnatpools";
const IP_CONFIG: &str = "microsoft.network/networkinterfaces/ipconfigurations";

/// The members the NICs name, by (load balancer, part type, part name), all lower case: each
/// member as the scenario names it, with where the NIC names it.
type Links = BTreeMap<(String, &'static str, String), Vec<(String, Src)>>;

impl Inventory {
    /// The load balancers, given the scenario's VMs (whose NICs are the members) and VNets.
    pub(super) fn load_balancer_specs(
        &mut self,
        vms: &[VmSpec],
        vnets: &[VnetSpec],
    ) -> Res<Vec<LoadBalancerSpec>> {
        let mut children = self.join_lb_children()?;
        let links = self.lb_links(vms)?;
        let records = std::mem::take(&mut self.load_balancers);
        let mut out = Vec::new();
        let mut taken: Vec<IpAddr> = all_nic_addresses(vms);
        for l in &records {
            let members = self.lb_member_vms(l, &links);
            let children_of = children.remove(&l.name.to_ascii_lowercase()).unwrap_or_default();
            if let Some((summary, why)) = &l.unmodelled {
                let resource = format!("Microsoft.Network/loadBalancers/{}", l.name);
                let reason = format!("{why}; not imported");
                self.gap(CaveatKindSpec::UnmodelledResource, resource, &l.src, reason, members)?;
                let skipped = Outcome::Skipped(SkipReason::NotModelled(Relevance::Traffic(summary)));
                for res in std::iter::once(l.res).chain(children_of) {
                    if let Some(o) = self.outcomes.get_mut(res) {
                        *o = skipped;
                    }
                }
                continue;
            }
            if let Some(spec) = self.load_balancer_spec(l, &links, vms, vnets, &mut taken)? {
                self.imported(l.res);
                for res in children_of {
                    self.imported(res);
                }
                out.push(spec);
            }
        }
        self.load_balancers = records;
        Ok(out)
    }

    /// Backend pools and inbound NAT rules given as resources of their own join their load
    /// balancers (the child's definition stands, as ARM deploys it after its parent); the
    /// indexes of the children joined, by load balancer (lower case).
    fn join_lb_children(&mut self) -> Res<BTreeMap<String, Vec<usize>>> {
        let mut joined: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for child in std::mem::take(&mut self.lb_child_pools) {
            let Some(li) = self.lb_parent(&child.parent, &child.src, &child.record.name)? else { continue };
            let pools = &mut self.load_balancers[li].pools;
            match pools.iter().position(|p| p.name.eq_ignore_ascii_case(&child.record.name)) {
                Some(k) => pools[k] = child.record,
                None => pools.push(child.record),
            }
            joined.entry(self.load_balancers[li].name.to_ascii_lowercase()).or_default().push(child.res);
        }
        for child in std::mem::take(&mut self.lb_child_nat_rules) {
            let Some(li) = self.lb_parent(&child.parent, &child.src, &child.record.name)? else { continue };
            let rules = &mut self.load_balancers[li].nat_rules;
            match rules.iter().position(|r| !r.is_pool && r.name.eq_ignore_ascii_case(&child.record.name)) {
                Some(k) => rules[k] = child.record,
                None => rules.push(child.record),
            }
            joined.entry(self.load_balancers[li].name.to_ascii_lowercase()).or_default().push(child.res);
        }
        Ok(joined)
    }

    /// The index of the load balancer a child resource names; `None` (a gap) when it is not in
    /// the input.
    fn lb_parent(&mut self, parent: &[String], src: &Src, child: &str) -> Res<Option<usize>> {
        let r = parent_ref(Kind::LoadBalancer, parent);
        let lost = format!("'{child}' is not imported with it");
        let Some(name) = self.resolve_or_gap(&r, &src.at("name"), LB, &lost, Vec::new())? else {
            return Ok(None);
        };
        Ok(self.load_balancers.iter().position(|l| l.name == name))
    }

    /// What the NICs' IP configurations say they are members of. A NIC left out of the
    /// scenario (reported where it is) names nothing; a load balancer not in the input is a gap
    /// about the NIC's VM.
    fn lb_links(&mut self, vms: &[VmSpec]) -> Res<Links> {
        let mut links = Links::new();
        let mut found = Vec::new();
        for n in &self.nics {
            for link in &n.lb_links {
                let member = if link.config.eq_ignore_ascii_case(&n.primary_config) {
                    n.name.clone()
                } else {
                    format!("{}/{}", n.name, link.config)
                };
                found.push((member, link.target.clone(), n.name.clone()));
            }
        }
        for (member, (r, src), nic) in found {
            if member_in(vms, &member).is_none() {
                continue;
            }
            let kind = match r.kind.to_ascii_lowercase().as_str() {
                POOL => POOL,
                NAT_RULE => NAT_RULE,
                NAT_POOL => NAT_POOL,
                other => {
                    return Err(self.diag.unresolved(
                        &src,
                        &r,
                        format!("expected a reference to a load balancer's backend pool, inbound NAT rule or inbound NAT pool, found {other}"),
                    ));
                }
            };
            let lb_ref = parent_ref(Kind::LoadBalancer, &r.names[..1]);
            let lost =
                format!("network interface '{nic}' is imported without its membership of '{}'", r.name());
            if self.resolve_or_gap(&lb_ref, &src, LB, &lost, vec![nic])?.is_none() {
                continue;
            }
            let entry = links.entry((r.names[0].to_ascii_lowercase(), kind, r.name().to_ascii_lowercase()));
            entry.or_default().push((member, src));
        }
        Ok(links)
    }

    /// The NICs (scenario names, which the caveats turn into their VMs) in `l`'s pools and NAT
    /// rules, for the caveats about it.
    fn lb_member_vms(&self, l: &LbRec, links: &Links) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for ((lb, _, _), members) in links {
            if lb.eq_ignore_ascii_case(&l.name) {
                for (m, _) in members {
                    let nic = m.split('/').next().unwrap_or_default().to_string();
                    if !out.contains(&nic) {
                        out.push(nic);
                    }
                }
            }
        }
        out
    }

    /// One load balancer's spec; `None` when nothing of it can be written.
    fn load_balancer_spec(
        &mut self,
        l: &LbRec,
        links: &Links,
        vms: &[VmSpec],
        vnets: &[VnetSpec],
        taken: &mut Vec<IpAddr>,
    ) -> Res<Option<LoadBalancerSpec>> {
        let lb = l.name.to_ascii_lowercase();
        let everyone = self.lb_member_vms(l, links);
        let mut frontends = Vec::new();
        for f in &l.frontends {
            if let Some(spec) = self.lb_frontend_spec(l, f, vnets, taken, &everyone)? {
                frontends.push(spec);
            }
        }
        let has_frontend =
            |name: &str| frontends.iter().any(|f: &FrontendSpec| f.name.eq_ignore_ascii_case(name));
        let mut pools = Vec::new();
        for p in &l.pools {
            let mut members: Vec<String> = Vec::new();
            for a in &p.addresses {
                if let Some(m) = self.pool_address_member(l, &p.name, a, vms)?
                    && !members.contains(&m)
                {
                    members.push(m);
                }
            }
            for (m, _) in links.get(&(lb.clone(), POOL, p.name.to_ascii_lowercase())).into_iter().flatten() {
                if !members.contains(m) {
                    members.push(m.clone());
                }
            }
            pools.push(PoolSpec { name: p.name.clone(), members });
        }
        let probes = l
            .probes
            .iter()
            .map(|q| ProbeSpec { name: q.name.clone(), protocol: Some(q.protocol), port: q.port })
            .collect();
        let mut rules = Vec::new();
        for r in l.rules.iter().filter(|r| has_frontend(&r.frontend)) {
            let Some(pool) = &r.pool else {
                self.diag.warn(&r.src, format!("load-balancing rule '{}' of load balancer '{}' has no backend pool, so it forwards nothing; not imported", r.name, l.name));
                continue;
            };
            rules.push(LbRuleSpec {
                name: r.name.clone(),
                frontend: r.frontend.clone(),
                protocol: r.protocol,
                frontend_port: r.frontend_port,
                backend_port: r.backend_port,
                pool: pool.clone(),
                probe: r.probe.clone(),
                floating_ip: r.floating_ip,
                disable_outbound_snat: r.disable_outbound_snat,
            });
        }
        let mut nat_rules = Vec::new();
        for n in l.nat_rules.iter().filter(|n| has_frontend(&n.frontend)) {
            if let Some(spec) = self.nat_rule_spec(l, n, links, &mut pools)? {
                nat_rules.push(spec);
            }
        }
        let outbound_rules = self.outbound_rule_specs(l, &frontends, &pools, &rules, &everyone)?;
        Ok(Some(LoadBalancerSpec {
            name: l.name.clone(),
            sku: Some(l.sku),
            frontends,
            pools,
            probes,
            rules,
            nat_rules,
            outbound_rules,
        }))
    }

    /// The outbound rules of `l` the scenario can carry: what Azure refuses is an error at its
    /// field; a rule without a pool, or whose frontends are all left out, is a gap about the
    /// members' VMs (their source to the Internet is then not what Azure gives them).
    fn outbound_rule_specs(
        &mut self,
        l: &LbRec,
        frontends: &[FrontendSpec],
        pools: &[PoolSpec],
        rules: &[LbRuleSpec],
        members: &[String],
    ) -> Res<Vec<OutboundRuleSpec>> {
        let mut out = Vec::new();
        for o in &l.outbound_rules {
            if matches!(l.sku, LbSkuSpec::Basic) {
                return Err(self.diag.invalid(
                    &o.src,
                    &o.name,
                    format!("outbound rule '{}' of load balancer '{}': a Basic load balancer (no sku is Basic) has no outbound rules (Azure: \"Outbound Rules: Not available\" for Basic); valid: sku Standard", o.name, l.name),
                ));
            }
            if let Some((n, at)) = &o.allocated_ports
                && (!(0..=i64::from(SNAT_PORTS_PER_ADDRESS)).contains(n) || n % 8 != 0)
            {
                return Err(self.diag.invalid(at, &n.to_string(), "Azure rejects SNAT ports that are not a multiple of 8 or more than one address's 64,000; valid: 0 (the default allocation) or a multiple of 8 up to 64000"));
            }
            if let Some((n, at)) = &o.idle_timeout_minutes
                && !(4..=120).contains(n)
            {
                return Err(self.diag.invalid(
                    at,
                    &n.to_string(),
                    "outside Azure's outbound idle timeout range; valid: 4 to 120 minutes",
                ));
            }
            let resource = format!("Microsoft.Network/loadBalancers/{}/outboundRules/{}", l.name, o.name);
            let Some(pool) = &o.pool else {
                let reason = format!(
                    "outbound rule '{}' of load balancer '{}' has no backend pool, so it translates nothing; not imported",
                    o.name, l.name
                );
                self.gap(CaveatKindSpec::UnresolvedReference, resource, &o.src, reason, members.to_vec())?;
                continue;
            };
            let mut names = Vec::new();
            for (f, at) in &o.frontends {
                if let Some(rule) =
                    rules.iter().find(|r| r.frontend.eq_ignore_ascii_case(f) && !r.disable_outbound_snat)
                {
                    return Err(self.diag.invalid(at, f, format!("outbound rule '{}': frontend '{f}' already gives outbound SNAT through load-balancing rule '{}', and Azure refuses an outbound rule that redefines it (\"Disable the outbound NAT of the load-balancing rule first\"); valid: disableOutboundSnat true on rule '{}', or another frontend", o.name, rule.name, rule.name)));
                }
                if frontends.iter().any(|x| x.name.eq_ignore_ascii_case(f)) {
                    names.push(f.clone());
                }
            }
            if names.is_empty() {
                let reason = format!(
                    "outbound rule '{}' of load balancer '{}' has none of its frontends in the scenario, so the source its pool's members take to the Internet is not known; not imported",
                    o.name, l.name
                );
                self.gap(CaveatKindSpec::UnresolvedReference, resource, &o.src, reason, members.to_vec())?;
                continue;
            }
            // Microsoft's known issue: a pool by IP address gets default outbound access instead.
            if let Some(p) = l.pools.iter().find(|p| p.name.eq_ignore_ascii_case(pool))
                && p.addresses.iter().any(|a| matches!(a, PoolAddressRec::Address { .. }))
            {
                let reason = format!(
                    "pool '{}' of load balancer '{}' is configured by IP address, and Microsoft: \"When a backend pool is configured by IP address, it will behave as a Basic Load Balancer with default outbound enabled\"; nsgsim translates its members by outbound rule '{}' as for a pool of NICs, so their source to the Internet may differ",
                    p.name, l.name, o.name
                );
                self.gap(CaveatKindSpec::Other, resource.clone(), &o.src, reason, members.to_vec())?;
            }
            let size =
                pools.iter().find(|p| p.name.eq_ignore_ascii_case(pool)).map_or(0, |p| p.members.len());
            if let Some((n, at)) = &o.allocated_ports
                && n.unsigned_abs() * size as u64 > u64::from(SNAT_PORTS_PER_ADDRESS) * names.len() as u64
            {
                return Err(self.diag.invalid(at, &n.to_string(), format!("{n} ports for each of the {size} members of pool '{pool}' is more than the {} ports its {} frontend address(es) give, which Azure rejects; valid: fewer ports per member, or more frontends", u64::from(SNAT_PORTS_PER_ADDRESS) * names.len() as u64, names.len())));
            }
            out.push(OutboundRuleSpec {
                name: o.name.clone(),
                frontends: names,
                pool: pool.clone(),
                protocol: o.protocol,
                allocated_outbound_ports: o.allocated_ports.as_ref().map(|(n, _)| *n).filter(|n| *n != 0),
                idle_timeout_minutes: o.idle_timeout_minutes.as_ref().map(|(n, _)| *n),
                enable_tcp_reset: o.tcp_reset,
            });
        }
        Ok(out)
    }

    /// A frontend's spec; `None` (a gap) when its public IP or subnet is not in the input, which
    /// takes its rules with it.
    fn lb_frontend_spec(
        &mut self,
        l: &LbRec,
        f: &FrontendRec,
        vnets: &[VnetSpec],
        taken: &mut Vec<IpAddr>,
        members: &[String],
    ) -> Res<Option<FrontendSpec>> {
        let lost = format!(
            "frontend '{}' of load balancer '{}' is not imported, nor its load-balancing and inbound NAT rules",
            f.name, l.name
        );
        if let Some(at) = &f.gateway {
            let reason = format!(
                "frontend '{}' of load balancer '{}' is chained to a Gateway load balancer: Azure sends its traffic through the gateway's network virtual appliances first, which nsgsim does not model (the frontend is imported as if it were not chained)",
                f.name, l.name
            );
            let resource =
                format!("Microsoft.Network/loadBalancers/{}/frontendIPConfigurations/{}", l.name, f.name);
            self.gap(CaveatKindSpec::UnmodelledResource, resource, at, reason, members.to_vec())?;
        }
        if let Some((r, src)) = &f.public_ip {
            let Some(pip) = self.resolve_or_gap(r, src, PIP, &lost, members.to_vec())? else {
                return Ok(None);
            };
            return Ok(Some(FrontendSpec {
                name: f.name.clone(),
                public_ip: Some(pip),
                subnet: None,
                private_ip: None,
            }));
        }
        if let (None, Some((r, src))) = (&f.subnet, &f.prefix) {
            let reason = format!(
                "frontend '{}' of load balancer '{}' takes its addresses from public IP prefix '{}', which nsgsim does not model for a load balancer frontend; not imported, nor its rules",
                f.name,
                l.name,
                r.name()
            );
            let resource =
                format!("Microsoft.Network/loadBalancers/{}/frontendIPConfigurations/{}", l.name, f.name);
            self.gap(CaveatKindSpec::UnmodelledResource, resource, src, reason, members.to_vec())?;
            return Ok(None);
        }
        let Some((r, src)) = &f.subnet else {
            let reason = format!(
                "frontend '{}' of load balancer '{}' has neither a public IP nor a subnet; not imported, nor its rules",
                f.name, l.name
            );
            let resource =
                format!("Microsoft.Network/loadBalancers/{}/frontendIPConfigurations/{}", l.name, f.name);
            self.gap(CaveatKindSpec::UnresolvedReference, resource, &f.src, reason, members.to_vec())?;
            return Ok(None);
        };
        let Some(subnet) = self.resolve_or_gap(r, src, SUBNET, &lost, members.to_vec())? else {
            return Ok(None);
        };
        let vnet = self.defined.get(&key(VNET, &r.names[..1])).cloned().unwrap_or_default();
        let subnet = format!("{vnet}/{subnet}");
        let address = match &f.private_ip {
            Some(a) => a.trim().to_string(),
            None => {
                let prefix = vnets
                    .iter()
                    .filter(|v| v.name == vnet)
                    .flat_map(|v| v.subnets.iter())
                    .find(|s| format!("{vnet}/{}", s.name) == subnet)
                    .and_then(|s| s.prefix.parse::<IpNet>().ok());
                let Some(a) = prefix.and_then(|p| first_free(&p, taken)) else {
                    let reason = format!(
                        "frontend '{}' of load balancer '{}' has no privateIPAddress and subnet '{subnet}' has no free address; not imported, nor its rules",
                        f.name, l.name
                    );
                    self.gap(
                        CaveatKindSpec::Placeholder,
                        format!("frontend '{}' of load balancer '{}'", f.name, l.name),
                        &f.src,
                        reason,
                        members.to_vec(),
                    )?;
                    return Ok(None);
                };
                self.diag.warn(&f.src, format!("frontend '{}' of load balancer '{}' has no privateIPAddress (Dynamic allocation); nsgsim assigns {a}, the subnet's first address no NIC takes, as Azure's dynamic allocation would", f.name, l.name));
                a.to_string()
            }
        };
        if let Ok(a) = address.parse() {
            taken.push(a);
        }
        Ok(Some(FrontendSpec {
            name: f.name.clone(),
            public_ip: None,
            subnet: Some(subnet),
            private_ip: Some(address),
        }))
    }

    /// The scenario member a pool's own member list names; `None` (a gap) when it is not a NIC
    /// IP configuration of the scenario.
    fn pool_address_member(
        &mut self,
        l: &LbRec,
        pool: &str,
        a: &PoolAddressRec,
        vms: &[VmSpec],
    ) -> Res<Option<String>> {
        let resource = format!("Microsoft.Network/loadBalancers/{}/backendAddressPools/{pool}", l.name);
        match a {
            PoolAddressRec::IpConfig(r, src) => {
                if !r.kind.eq_ignore_ascii_case(IP_CONFIG) || r.names.len() != 2 {
                    let reason = format!(
                        "backend pool '{pool}' of load balancer '{}' has a member nsgsim does not model ({} '{}', e.g. a scale set's instance); the pool is imported without it",
                        l.name,
                        r.kind,
                        r.names.join("/")
                    );
                    self.gap(CaveatKindSpec::UnmodelledResource, resource, src, reason, Vec::new())?;
                    return Ok(None);
                }
                let nic_ref = ResourceRef {
                    kind: Kind::Nic.azure_type().into(),
                    names: r.names[..1].to_vec(),
                    subscription: None,
                    resource_group: None,
                };
                let lost =
                    format!("backend pool '{pool}' of load balancer '{}' is imported without it", l.name);
                let Some(nic) =
                    self.resolve_or_gap(&nic_ref, src, Kind::Nic.azure_type(), &lost, Vec::new())?
                else {
                    return Ok(None);
                };
                let primary = self.nics.iter().find(|n| n.name == nic).map(|n| n.primary_config.clone());
                let member = if primary.is_some_and(|p| p.eq_ignore_ascii_case(&r.names[1])) {
                    nic
                } else {
                    format!("{nic}/{}", r.names[1])
                };
                // A NIC (or configuration) left out of the scenario was reported where it is.
                Ok(member_in(vms, &member).map(|_| member))
            }
            PoolAddressRec::Address { ip, vnet, src } => {
                let vnet_name =
                    vnet.as_ref().and_then(|v| self.defined.get(&key(VNET, &v.names[..1])).cloned());
                let found = ip
                    .trim()
                    .parse::<IpAddr>()
                    .ok()
                    .and_then(|ip| nic_with_address(vms, ip, vnet_name.as_deref()));
                if found.is_none() {
                    let reason = format!(
                        "backend pool '{pool}' of load balancer '{}' names the address {ip}{}, which no imported NIC has; the pool is imported without it (an IP-based member nsgsim cannot place)",
                        l.name,
                        vnet.as_ref()
                            .map(|v| format!(" in virtual network '{}'", v.name()))
                            .unwrap_or_default()
                    );
                    self.gap(CaveatKindSpec::UnresolvedReference, resource, src, reason, Vec::new())?;
                }
                Ok(found)
            }
            PoolAddressRec::Other(what, src) => {
                let reason = format!(
                    "backend pool '{pool}' of load balancer '{}' has {what} as a member, which nsgsim does not model; the pool is imported without it",
                    l.name
                );
                self.gap(CaveatKindSpec::UnmodelledResource, resource, src, reason, Vec::new())?;
                Ok(None)
            }
        }
    }

    /// An inbound NAT rule's or NAT pool's spec; `None` (a gap) when no member of it is in the
    /// scenario. A NAT pool's members become a pool of their own, named `natpool:<name>`.
    fn nat_rule_spec(
        &mut self,
        l: &LbRec,
        n: &NatRuleRec,
        links: &Links,
        pools: &mut Vec<PoolSpec>,
    ) -> Res<Option<NatRuleSpec>> {
        let lb = l.name.to_ascii_lowercase();
        let what = if n.is_pool { "inbound NAT pool" } else { "inbound NAT rule" };
        let resource = format!(
            "Microsoft.Network/loadBalancers/{}/{}/{}",
            l.name,
            if n.is_pool { "inboundNatPools" } else { "inboundNatRules" },
            n.name
        );
        let ports = match n.port_end {
            Some(end) => format!("frontend ports {}-{end}", n.port_start),
            None => format!("frontend port {}", n.port_start),
        };
        let mut spec = NatRuleSpec {
            name: n.name.clone(),
            frontend: n.frontend.clone(),
            protocol: n.protocol,
            frontend_port: n.port_start,
            frontend_port_end: n.port_end,
            backend_port: n.backend_port,
            target: None,
            pool: None,
            floating_ip: n.floating_ip,
        };
        if n.is_pool {
            let members: Vec<String> = links
                .get(&(lb, NAT_POOL, n.name.to_ascii_lowercase()))
                .into_iter()
                .flatten()
                .map(|(m, _)| m.clone())
                .collect();
            if members.is_empty() {
                let reason = format!(
                    "{what} '{}' of load balancer '{}' forwards {ports} to port {} of a scale set's instances, which nsgsim does not model; not imported",
                    n.name, l.name, n.backend_port
                );
                self.gap(CaveatKindSpec::UnmodelledResource, resource, &n.src, reason, Vec::new())?;
                return Ok(None);
            }
            let pool = format!("natpool:{}", n.name);
            pools.push(PoolSpec { name: pool.clone(), members });
            spec.pool = Some(pool);
            return Ok(Some(spec));
        }
        if let Some(pool) = &n.pool {
            spec.pool = Some(pool.clone());
            spec.frontend_port_end = Some(n.port_end.unwrap_or(n.port_start));
            return Ok(Some(spec));
        }
        let mut targets: Vec<(String, Src)> =
            links.get(&(lb, NAT_RULE, n.name.to_ascii_lowercase())).cloned().unwrap_or_default();
        if let Some((r, src)) = &n.target
            && r.kind.eq_ignore_ascii_case(IP_CONFIG)
            && r.names.len() == 2
            && let Some(named) = self.defined.get(&key(Kind::Nic.azure_type(), &r.names[..1]))
            && let Some(nic) = self.nics.iter().find(|x| x.name == *named)
        {
            let member = if nic.primary_config.eq_ignore_ascii_case(&r.names[1]) {
                nic.name.clone()
            } else {
                format!("{}/{}", nic.name, r.names[1])
            };
            if !targets.iter().any(|(m, _)| *m == member) {
                targets.push((member, src.clone()));
            }
        }
        let Some((first, _)) = targets.first().cloned() else {
            let reason = format!(
                "{what} '{}' of load balancer '{}' forwards {ports} to port {}, but no IP configuration in the input names it (a network interface outside the input, or a scale set's instance, may); not imported",
                n.name, l.name, n.backend_port
            );
            self.gap(CaveatKindSpec::UnresolvedReference, resource, &n.src, reason, Vec::new())?;
            return Ok(None);
        };
        if let Some((other, src)) = targets.get(1) {
            self.diag.warn(src, format!("{what} '{}' of load balancer '{}' is named by '{first}' and '{other}'; Azure forwards a single-port NAT rule to one IP configuration: '{first}' is kept", n.name, l.name));
        }
        spec.target = Some(first);
        Ok(Some(spec))
    }
}

/// The NIC `member` (`nic` or `nic/ipconfig`) names, when the scenario has it.
fn member_in<'v>(vms: &'v [VmSpec], member: &str) -> Option<&'v str> {
    let (nic, config) = match member.split_once('/') {
        Some((n, c)) => (n, Some(c)),
        None => (member, None),
    };
    let n = vms.iter().flat_map(|v| v.nics.iter()).find(|n| n.name == nic)?;
    match config {
        None => Some(&n.name),
        Some(c) => n.ip_configs.iter().find(|x| x.name.eq_ignore_ascii_case(c)).map(|x| x.name.as_str()),
    }
}

/// Every private address the scenario's NICs have.
fn all_nic_addresses(vms: &[VmSpec]) -> Vec<IpAddr> {
    vms.iter()
        .flat_map(|v| v.nics.iter())
        .flat_map(|n| std::iter::once(&n.private_ip).chain(n.ip_configs.iter().map(|c| &c.private_ip)))
        .filter_map(|a| a.parse().ok())
        .collect()
}

/// The member (`nic` or `nic/ipconfig`) whose private address is `ip`, in VNet `vnet` when
/// given.
fn nic_with_address(vms: &[VmSpec], ip: IpAddr, vnet: Option<&str>) -> Option<String> {
    for n in vms.iter().flat_map(|v| v.nics.iter()) {
        if vnet.is_some_and(|v| n.subnet.split('/').next() != Some(v)) {
            continue;
        }
        if n.private_ip.parse::<IpAddr>().ok() == Some(ip) {
            return Some(n.name.clone());
        }
        if let Some(c) = n.ip_configs.iter().find(|c| c.private_ip.parse::<IpAddr>().ok() == Some(ip)) {
            return Some(format!("{}/{}", n.name, c.name));
        }
    }
    None
}
