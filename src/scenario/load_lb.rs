//! Converting a scenario's load balancers (`schema_lb.rs`) into the model, with every error at
//! its field: names resolved (frontends, pools, probes of the same load balancer; public IPs,
//! subnets and NICs of the scenario), ports in range, and what Azure refuses
//! (`Topology::add_load_balancer`; an outbound rule's refusals at the rule's field).

use std::net::IpAddr;

use super::FieldPath;
use super::load::{Fault, Loader, dependent, fault, in_range, not_an_ip};
use super::schema_lb::{LbProtocolSpec, LbSkuSpec, LoadBalancerSpec, NatRuleSpec, ProbeProtocolSpec};
use crate::model::{
    BackendMember, BackendPool, Frontend, FrontendAddress, LbProtocol, LbRule, LbSku, LoadBalancer, NatRule,
    NatTarget, OutboundRule, Probe, ProbeProtocol, SNAT_PORTS_PER_ADDRESS, Topology, TopologyError,
};

impl Loader<'_> {
    /// Every load balancer of the file, each its own item.
    pub(super) fn load_balancers(&self, specs: &[LoadBalancerSpec], t: &mut Topology) {
        for (li, l) in specs.iter().enumerate() {
            self.item(&[&l.name], || self.load_balancer(l, t, &FieldPath::root("load_balancers").index(li)));
        }
    }

    fn load_balancer(&self, l: &LoadBalancerSpec, t: &mut Topology, field: &FieldPath) -> Result<(), Fault> {
        let sku = match l.sku {
            Some(LbSkuSpec::Basic) => LbSku::Basic,
            Some(LbSkuSpec::Standard) | None => LbSku::Standard,
        };
        let mut frontends = Vec::new();
        for (fi, f) in l.frontends.iter().enumerate() {
            let ff = field.field("frontends").index(fi);
            let address = match (&f.public_ip, &f.subnet, &f.private_ip) {
                (Some(name), None, None) => match self.public_ip_ref(t, Some(name), &ff)? {
                    Some(p) => FrontendAddress::Public(p),
                    None => return Err(dependent(&ff)),
                },
                (None, Some(subnet), Some(address)) => {
                    let subnet = self.subnet(t, subnet, &ff.field("subnet"))?;
                    let address: IpAddr = address
                        .parse()
                        .map_err(|_| fault(ff.field("private_ip"), address, not_an_ip(address)))?;
                    FrontendAddress::Private { subnet, address }
                }
                _ => {
                    return Err(fault(
                        &ff,
                        &f.name,
                        format!(
                            "frontend '{}' needs public_ip (a public load balancer), or subnet and private_ip (an internal one), not both",
                            f.name
                        ),
                    ));
                }
            };
            unique(
                &l.frontends[..fi].iter().map(|x| x.name.as_str()).collect::<Vec<_>>(),
                &f.name,
                &ff.field("name"),
                "frontend",
            )?;
            frontends.push(Frontend { name: f.name.clone(), address });
        }
        let mut pools = Vec::new();
        for (pi, p) in l.pools.iter().enumerate() {
            let pf = field.field("pools").index(pi);
            unique(
                &l.pools[..pi].iter().map(|x| x.name.as_str()).collect::<Vec<_>>(),
                &p.name,
                &pf.field("name"),
                "pool",
            )?;
            let members = p
                .members
                .iter()
                .enumerate()
                .map(|(mi, m)| self.member(t, m, &pf.field("members").index(mi)))
                .collect::<Result<Vec<_>, _>>()?;
            pools.push(BackendPool { name: p.name.clone(), members });
        }
        let mut probes = Vec::new();
        for (qi, q) in l.probes.iter().enumerate() {
            let qf = field.field("probes").index(qi);
            unique(
                &l.probes[..qi].iter().map(|x| x.name.as_str()).collect::<Vec<_>>(),
                &q.name,
                &qf.field("name"),
                "probe",
            )?;
            let protocol = match q.protocol {
                Some(ProbeProtocolSpec::Tcp) | None => ProbeProtocol::Tcp,
                Some(ProbeProtocolSpec::Http) => ProbeProtocol::Http,
                Some(ProbeProtocolSpec::Https) if sku == LbSku::Basic => {
                    return Err(fault(
                        qf.field("protocol"),
                        "Https",
                        "a Basic load balancer's probes are Tcp or Http (HTTPS probes are Standard only); valid: Tcp, Http",
                    ));
                }
                Some(ProbeProtocolSpec::Https) => ProbeProtocol::Https,
            };
            probes.push(Probe { name: q.name.clone(), protocol, port: port(q.port, 1, &qf.field("port"))? });
        }
        let index = |names: Vec<&str>, name: &str, what: &str, f: FieldPath| -> Result<usize, Fault> {
            names.iter().position(|n| n.eq_ignore_ascii_case(name)).ok_or_else(|| {
                fault(
                    &f,
                    name,
                    format!(
                        "unknown {what} '{name}' of load balancer '{}'; valid: {}",
                        l.name,
                        or_none(&names)
                    ),
                )
            })
        };
        let frontend_names = || l.frontends.iter().map(|f| f.name.as_str()).collect::<Vec<_>>();
        let pool_names = || l.pools.iter().map(|p| p.name.as_str()).collect::<Vec<_>>();
        let mut rules = Vec::new();
        for (ri, r) in l.rules.iter().enumerate() {
            let rf = field.field("rules").index(ri);
            let protocol = protocol_of(r.protocol);
            // HA ports: protocol All with ports 0; otherwise a port 1-65535.
            let lowest = if protocol == LbProtocol::All { 0 } else { 1 };
            let frontend_port = port(r.frontend_port, lowest, &rf.field("frontend_port"))?;
            let backend_port = port(r.backend_port, lowest, &rf.field("backend_port"))?;
            if protocol == LbProtocol::All && (frontend_port != 0 || backend_port != 0) {
                return Err(fault(
                    rf.field("frontend_port"),
                    r.frontend_port.to_string(),
                    "protocol All is an HA ports rule: frontend_port and backend_port are 0; valid: 0 and 0, or protocol Tcp or Udp with ports",
                ));
            }
            rules.push(LbRule {
                name: r.name.clone(),
                frontend: index(frontend_names(), &r.frontend, "frontend", rf.field("frontend"))?,
                protocol,
                frontend_port,
                backend_port,
                pool: index(pool_names(), &r.pool, "pool", rf.field("pool"))?,
                probe: match &r.probe {
                    Some(p) => Some(index(
                        l.probes.iter().map(|q| q.name.as_str()).collect(),
                        p,
                        "probe",
                        rf.field("probe"),
                    )?),
                    None => None,
                },
                floating_ip: r.floating_ip,
                disable_outbound_snat: r.disable_outbound_snat,
            });
        }
        let mut nat_rules = Vec::new();
        for (ni, n) in l.nat_rules.iter().enumerate() {
            let nf = field.field("nat_rules").index(ni);
            let frontend = index(frontend_names(), &n.frontend, "frontend", nf.field("frontend"))?;
            nat_rules
                .push(self.nat_rule(t, n, frontend, &nf, &|name, f| index(pool_names(), name, "pool", f))?);
        }
        let mut outbound_rules = Vec::new();
        for (oi, o) in l.outbound_rules.iter().enumerate() {
            let of = field.field("outbound_rules").index(oi);
            unique(
                &l.outbound_rules[..oi].iter().map(|x| x.name.as_str()).collect::<Vec<_>>(),
                &o.name,
                &of.field("name"),
                "outbound rule",
            )?;
            let frontends = o
                .frontends
                .iter()
                .enumerate()
                .map(|(i, f)| index(frontend_names(), f, "frontend", of.field("frontends").index(i)))
                .collect::<Result<Vec<_>, _>>()?;
            let allocated = o.allocated_outbound_ports.unwrap_or(0);
            let idle = o.idle_timeout_minutes.unwrap_or(4);
            outbound_rules.push(OutboundRule {
                name: o.name.clone(),
                frontends,
                pool: index(pool_names(), &o.pool, "pool", of.field("pool"))?,
                protocol: protocol_of(o.protocol),
                allocated_ports: in_range(allocated, 0, SNAT_PORTS_PER_ADDRESS).ok_or_else(|| {
                    fault(
                        of.field("allocated_outbound_ports"),
                        allocated.to_string(),
                        format!("{allocated} SNAT ports per member is outside 0..=64000 (64,000 is what one public address gives); valid: 0 (Azure's default allocation) or a multiple of 8 up to 64000"),
                    )
                })?,
                idle_timeout_minutes: in_range(idle, 4, 120).ok_or_else(|| {
                    fault(
                        of.field("idle_timeout_minutes"),
                        idle.to_string(),
                        format!("an idle timeout of {idle} minutes is outside Azure's range; valid: 4 to 120"),
                    )
                })?,
                tcp_reset: o.enable_tcp_reset,
            });
        }
        let lb = LoadBalancer {
            name: l.name.clone(),
            sku,
            frontends,
            pools,
            probes,
            rules,
            nat_rules,
            outbound_rules,
        };
        // What Azure refuses in an outbound rule, at the rule's field.
        if let Some((oi, p)) =
            (0..lb.outbound_rules.len()).find_map(|i| lb.outbound_rule_problem(i).map(|p| (i, p)))
        {
            let of = field.field("outbound_rules").index(oi);
            let (at, value) = match p.field() {
                "" => (of.field("name"), l.outbound_rules[oi].name.clone()),
                "allocated_outbound_ports" => {
                    (of.field(p.field()), lb.outbound_rules[oi].allocated_ports.to_string())
                }
                "idle_timeout_minutes" => {
                    (of.field(p.field()), lb.outbound_rules[oi].idle_timeout_minutes.to_string())
                }
                "pool" => (of.field("pool"), l.outbound_rules[oi].pool.clone()),
                _ => (of.field(p.field()), l.outbound_rules[oi].frontends.join(", ")),
            };
            return Err(fault(at, value, p.to_string()));
        }
        t.add_load_balancer(lb).map_err(|e| match e {
            TopologyError::DuplicateName { .. } => fault(field.field("name"), &l.name, e.to_string()),
            _ => fault(field, &l.name, e.to_string()),
        })?;
        Ok(())
    }

    fn nat_rule(
        &self,
        t: &Topology,
        n: &NatRuleSpec,
        frontend: usize,
        nf: &FieldPath,
        pool_index: &dyn Fn(&str, FieldPath) -> Result<usize, Fault>,
    ) -> Result<NatRule, Fault> {
        let start = port(n.frontend_port, 1, &nf.field("frontend_port"))?;
        let end = match n.frontend_port_end {
            Some(e) => port(e, start, &nf.field("frontend_port_end"))?,
            None => start,
        };
        let target = match (&n.target, &n.pool) {
            (Some(m), None) if start == end => NatTarget::Member(self.member(t, m, &nf.field("target"))?),
            (None, Some(p)) => NatTarget::Pool(pool_index(p, nf.field("pool"))?),
            _ => {
                return Err(fault(
                    nf,
                    &n.name,
                    format!(
                        "NAT rule '{}' sends one frontend_port to a target (a NIC or nic/ipconfig), or a range frontend_port..frontend_port_end to a pool; valid: target without frontend_port_end, or pool",
                        n.name
                    ),
                ));
            }
        };
        Ok(NatRule {
            name: n.name.clone(),
            frontend,
            protocol: protocol_of(n.protocol),
            frontend_port_start: start,
            frontend_port_end: end,
            backend_port: port(n.backend_port, 1, &nf.field("backend_port"))?,
            target,
            floating_ip: n.floating_ip,
        })
    }

    /// A pool member or NAT target: `nic` (its primary IP configuration) or `nic/ipconfig`.
    fn member(&self, t: &Topology, text: &str, field: &FieldPath) -> Result<BackendMember, Fault> {
        let (nic_name, config) = match text.split_once('/') {
            Some((n, c)) => (n, Some(c)),
            None => (text, None),
        };
        if self.is_skipped(nic_name) {
            return Err(dependent(field));
        }
        let nic = t.nic_by_name(nic_name).ok_or_else(|| {
            let names: Vec<String> = t.nic_ids().map(|n| t.nic(n).name.clone()).collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            fault(
                field,
                text,
                format!(
                    "unknown nic '{nic_name}'; valid: a NIC's name or nic/ipconfig, one of {}",
                    or_none(&names)
                ),
            )
        })?;
        let config = match config {
            None => 0,
            Some(c) => {
                let n = t.nic(nic);
                match n.secondary.iter().position(|s| s.name.eq_ignore_ascii_case(c)) {
                    Some(i) => i + 1,
                    None => {
                        let names: Vec<&str> = n.secondary.iter().map(|s| s.name.as_str()).collect();
                        return Err(fault(
                            field,
                            text,
                            format!(
                                "nic '{}' has no secondary IP configuration '{c}'; valid: the NIC's name alone (its primary configuration) or nic/ipconfig with one of {}",
                                n.name,
                                or_none(&names)
                            ),
                        ));
                    }
                }
            }
        };
        Ok(BackendMember { nic, config })
    }
}

fn protocol_of(p: LbProtocolSpec) -> LbProtocol {
    match p {
        LbProtocolSpec::Tcp => LbProtocol::Tcp,
        LbProtocolSpec::Udp => LbProtocol::Udp,
        LbProtocolSpec::All => LbProtocol::All,
    }
}

/// A port from `lowest` to 65535.
fn port(number: i64, lowest: u16, field: &FieldPath) -> Result<u16, Fault> {
    in_range(number, lowest, u16::MAX)
        .ok_or_else(|| fault(field, number.to_string(), format!("port {number} is outside {lowest}..=65535")))
}

/// Refuses `name` when an earlier sibling has it.
fn unique(earlier: &[&str], name: &str, field: &FieldPath, what: &str) -> Result<(), Fault> {
    if earlier.iter().any(|e| e.eq_ignore_ascii_case(name)) {
        return Err(fault(
            field,
            name,
            format!("{what} name '{name}' is used twice in the load balancer; names must be unique"),
        ));
    }
    Ok(())
}

fn or_none(names: &[&str]) -> String {
    if names.is_empty() { "(none declared)".into() } else { names.join(", ") }
}
