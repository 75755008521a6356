//! Writing load balancers in the layout of `scenarios/42-load-balancer.ron`: one block per load
//! balancer, one frontend, pool, probe or rule per line.

use std::fmt::Write;

use super::{list, s};
use crate::scenario::schema::{LbProtocolSpec, LbSkuSpec, LoadBalancerSpec, ProbeProtocolSpec};

/// The `load_balancers` field; nothing when there are none.
pub(super) fn load_balancers(o: &mut String, lbs: &[LoadBalancerSpec]) {
    if lbs.is_empty() {
        return;
    }
    o.push_str("    load_balancers: [\n");
    for l in lbs {
        let sku = match l.sku {
            Some(LbSkuSpec::Basic) => ", sku: Basic",
            Some(LbSkuSpec::Standard) => ", sku: Standard",
            None => "",
        };
        let _ = writeln!(o, "        LoadBalancer(name: {}{sku},", s(&l.name));
        o.push_str("            frontends: [\n");
        for f in &l.frontends {
            let mut line = format!("Frontend(name: {}", s(&f.name));
            if let Some(p) = &f.public_ip {
                let _ = write!(line, ", public_ip: {}", s(p));
            }
            if let Some(sub) = &f.subnet {
                let _ = write!(line, ", subnet: {}", s(sub));
            }
            if let Some(ip) = &f.private_ip {
                let _ = write!(line, ", private_ip: {}", s(ip));
            }
            let _ = writeln!(o, "                {line}),");
        }
        o.push_str("            ],\n");
        if !l.pools.is_empty() {
            o.push_str("            pools: [\n");
            for p in &l.pools {
                let _ =
                    writeln!(o, "                Pool(name: {}, members: {}),", s(&p.name), list(&p.members));
            }
            o.push_str("            ],\n");
        }
        if !l.probes.is_empty() {
            o.push_str("            probes: [\n");
            for q in &l.probes {
                let protocol = match q.protocol {
                    Some(ProbeProtocolSpec::Http) => "Http",
                    Some(ProbeProtocolSpec::Https) => "Https",
                    Some(ProbeProtocolSpec::Tcp) | None => "Tcp",
                };
                let _ = writeln!(
                    o,
                    "                Probe(name: {}, protocol: {protocol}, port: {}),",
                    s(&q.name),
                    q.port
                );
            }
            o.push_str("            ],\n");
        }
        if !l.rules.is_empty() {
            o.push_str("            rules: [\n");
            for r in &l.rules {
                let mut line = format!(
                    "LbRule(name: {}, frontend: {}, protocol: {}, frontend_port: {}, backend_port: {}, pool: {}",
                    s(&r.name),
                    s(&r.frontend),
                    protocol(r.protocol),
                    r.frontend_port,
                    r.backend_port,
                    s(&r.pool)
                );
                if let Some(p) = &r.probe {
                    let _ = write!(line, ", probe: {}", s(p));
                }
                if r.floating_ip {
                    line.push_str(", floating_ip: true");
                }
                if r.disable_outbound_snat {
                    line.push_str(", disable_outbound_snat: true");
                }
                let _ = writeln!(o, "                {line}),");
            }
            o.push_str("            ],\n");
        }
        if !l.nat_rules.is_empty() {
            o.push_str("            nat_rules: [\n");
            for n in &l.nat_rules {
                let mut line = format!(
                    "NatRule(name: {}, frontend: {}, protocol: {}, frontend_port: {}",
                    s(&n.name),
                    s(&n.frontend),
                    protocol(n.protocol),
                    n.frontend_port
                );
                if let Some(end) = n.frontend_port_end {
                    let _ = write!(line, ", frontend_port_end: {end}");
                }
                let _ = write!(line, ", backend_port: {}", n.backend_port);
                if let Some(t) = &n.target {
                    let _ = write!(line, ", target: {}", s(t));
                }
                if let Some(p) = &n.pool {
                    let _ = write!(line, ", pool: {}", s(p));
                }
                if n.floating_ip {
                    line.push_str(", floating_ip: true");
                }
                let _ = writeln!(o, "                {line}),");
            }
            o.push_str("            ],\n");
        }
        if !l.outbound_rules.is_empty() {
            o.push_str("            outbound_rules: [\n");
            for r in &l.outbound_rules {
                let mut line = format!(
                    "OutboundRule(name: {}, frontends: {}, pool: {}, protocol: {}",
                    s(&r.name),
                    list(&r.frontends),
                    s(&r.pool),
                    protocol(r.protocol)
                );
                if let Some(p) = r.allocated_outbound_ports {
                    let _ = write!(line, ", allocated_outbound_ports: {p}");
                }
                if let Some(m) = r.idle_timeout_minutes {
                    let _ = write!(line, ", idle_timeout_minutes: {m}");
                }
                if r.enable_tcp_reset {
                    line.push_str(", enable_tcp_reset: true");
                }
                let _ = writeln!(o, "                {line}),");
            }
            o.push_str("            ],\n");
        }
        o.push_str("        ),\n");
    }
    o.push_str("    ],\n");
}

fn protocol(p: LbProtocolSpec) -> &'static str {
    match p {
        LbProtocolSpec::Tcp => "Tcp",
        LbProtocolSpec::Udp => "Udp",
        LbProtocolSpec::All => "All",
    }
}
