//! The hop-by-hop evaluation itself.

use std::net::IpAddr;

use crate::model::{NicId, PublicIpId, PublicIpSku, Topology, VnetId};
use crate::net::{Flow, IpProtocol};
use crate::nsg::{Access, CompiledNsg, Direction};

use super::{Hop, HopKind, Level, PolicyCache, Trace};

/// Where a flow starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A NIC (a VM): its outbound NSGs apply.
    Nic(NicId),
    /// An address that is not a modelled NIC: an Internet client, an on-premises host, or an
    /// unmodelled host inside a VNet's address space.
    Address(IpAddr),
}

/// Where a flow is addressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destination {
    /// A NIC, reached by its private address when the source can route to it privately, else
    /// through its public IP.
    Nic(NicId),
    /// A public IP resource (and the NIC behind it).
    PublicIp(PublicIpId),
    /// A raw address: a NIC's private address, a public IP's address, or something outside.
    Address(IpAddr),
}

/// One flow to evaluate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowRequest {
    /// Where it starts.
    pub source: Source,
    /// Where it is addressed.
    pub destination: Destination,
    /// IP protocol.
    pub protocol: IpProtocol,
    /// Source port (ignored for portless protocols).
    pub src_port: u16,
    /// Destination port (ignored for portless protocols).
    pub dst_port: u16,
}

/// How the destination is reached.
enum Reach {
    /// Privately, inside one VNet or across a peering.
    Private(NicId),
    /// Through a public IP in front of a NIC.
    Public(NicId, PublicIpId),
    /// Outside every modelled NIC.
    Outside(IpAddr),
    /// Not at all, with the reason.
    Unreachable(String),
}

/// Evaluates `req` through `topology`, using the compiled NSGs in `cache`.
pub fn evaluate(topology: &Topology, cache: &PolicyCache, req: &FlowRequest) -> Trace {
    let mut hops = Vec::new();
    let (src_ip, src_vnet) = match req.source {
        Source::Nic(n) => (topology.nic(n).private_ip, Some(topology.vnet_of_nic(n))),
        Source::Address(a) => (a, topology.vnet_of_ip(a).or_else(|| topology.vnet_of_on_premises_ip(a))),
    };
    let reach = reach(topology, src_vnet, req.destination);
    let addressed_ip = match reach {
        Reach::Private(n) => topology.nic(n).private_ip,
        Reach::Public(_, p) => topology.public_ip(p).address,
        Reach::Outside(a) => a,
        Reach::Unreachable(_) => match req.destination {
            Destination::Nic(n) => topology.nic(n).private_ip,
            Destination::PublicIp(p) => topology.public_ip(p).address,
            Destination::Address(a) => a,
        },
    };

    // Leaving the source NIC: NIC NSG, then subnet NSG, before any source translation.
    if let Source::Nic(nic) = req.source {
        let flow = Flow::new(req.protocol, src_ip, req.src_port, addressed_ip, req.dst_port);
        let levels = [(Level::Nic, nic), (Level::Subnet, nic)];
        if !chain(topology, cache, &flow, nic, Direction::Outbound, &levels, &mut hops) {
            return Trace { verdict: Access::Deny, hops };
        }
    }

    let (dst_nic, seen_src) = match reach {
        Reach::Unreachable(reason) => {
            hops.push(route_hop(Access::Deny, "routing", reason));
            return Trace { verdict: Access::Deny, hops };
        }
        Reach::Outside(addr) => {
            let detail =
                format!("{addr} is outside every modelled NIC; the flow leaves the modelled network");
            hops.push(route_hop(Access::Allow, "routing", detail));
            return Trace { verdict: Access::Allow, hops };
        }
        Reach::Private(n) => {
            let dst_vnet = topology.vnet_of_nic(n);
            let on_prem = matches!(req.source, Source::Address(a) if topology.vnet_of_ip(a).is_none());
            let detail = match src_vnet {
                Some(v) if on_prem => format!(
                    "on-premises network connected to vnet '{}' through its gateway",
                    topology.vnet(v).name
                ),
                Some(v) if v == dst_vnet => format!("inside vnet '{}'", topology.vnet(v).name),
                Some(v) => format!(
                    "vnet '{}' to peered vnet '{}'",
                    topology.vnet(v).name,
                    topology.vnet(dst_vnet).name
                ),
                None => "private".to_string(),
            };
            hops.push(route_hop(Access::Allow, "routing", detail));
            (n, src_ip)
        }
        Reach::Public(n, p) => {
            let pip = topology.public_ip(p);
            let private = topology.nic(n).private_ip;
            // Outbound from a NIC with its own public IP leaves with that address; otherwise the
            // source address is kept (model choice: default outbound SNAT addresses are not modelled).
            let seen_src = match req.source {
                Source::Nic(s) => {
                    topology.nic(s).public_ip.map(|sp| topology.public_ip(sp).address).unwrap_or(src_ip)
                }
                Source::Address(_) => src_ip,
            };
            hops.push(Hop {
                kind: HopKind::PublicIp,
                resource: pip.name.clone(),
                level: None,
                direction: None,
                rule: None,
                priority: None,
                access: Access::Allow,
                detail: format!(
                    "{} ({:?} SKU) translates to {private}; inbound NSGs see the private address",
                    pip.address, pip.sku
                ),
            });
            if pip.sku == PublicIpSku::Standard {
                let nic = topology.nic(n);
                if nic.nsg.is_none() && topology.subnet(nic.subnet).nsg.is_none() {
                    hops.push(Hop {
                        kind: HopKind::PublicIp,
                        resource: pip.name.clone(),
                        level: None,
                        direction: Some(Direction::Inbound),
                        rule: None,
                        priority: None,
                        access: Access::Deny,
                        detail: "a Standard public IP is closed to inbound traffic unless an NSG allows it, and neither the subnet nor the NIC has an NSG".into(),
                    });
                    return Trace { verdict: Access::Deny, hops };
                }
            }
            (n, seen_src)
        }
    };

    // Arriving at the destination NIC: subnet NSG, then NIC NSG, after translation.
    let private = topology.nic(dst_nic).private_ip;
    let flow = Flow::new(req.protocol, seen_src, req.src_port, private, req.dst_port);
    let levels = [(Level::Subnet, dst_nic), (Level::Nic, dst_nic)];
    let verdict = if chain(topology, cache, &flow, dst_nic, Direction::Inbound, &levels, &mut hops) {
        Access::Allow
    } else {
        Access::Deny
    };
    Trace { verdict, hops }
}

fn route_hop(access: Access, resource: &str, detail: String) -> Hop {
    Hop {
        kind: HopKind::Route,
        resource: resource.into(),
        level: None,
        direction: None,
        rule: None,
        priority: None,
        access,
        detail,
    }
}

fn private_route(topology: &Topology, src_vnet: Option<VnetId>, dst_vnet: VnetId) -> bool {
    src_vnet.is_some_and(|v| v == dst_vnet || topology.vnet(v).peerings.contains(&dst_vnet))
}

fn reach(topology: &Topology, src_vnet: Option<VnetId>, destination: Destination) -> Reach {
    let via_public = |nic: NicId, why: String| match topology.nic(nic).public_ip {
        Some(p) => Reach::Public(nic, p),
        None => Reach::Unreachable(format!("{why}, and nic '{}' has no public IP", topology.nic(nic).name)),
    };
    let to_nic = |nic: NicId| {
        let dst_vnet = topology.vnet_of_nic(nic);
        if private_route(topology, src_vnet, dst_vnet) {
            return Reach::Private(nic);
        }
        let why = match src_vnet {
            Some(v) => format!(
                "vnet '{}' is not peered with vnet '{}' (peering is not transitive)",
                topology.vnet(v).name,
                topology.vnet(dst_vnet).name
            ),
            None => format!("the source is outside vnet '{}'", topology.vnet(dst_vnet).name),
        };
        via_public(nic, why)
    };
    match destination {
        Destination::Nic(n) => to_nic(n),
        Destination::PublicIp(p) => match topology.public_ip(p).nic {
            Some(n) => Reach::Public(n, p),
            None => Reach::Unreachable(format!(
                "public IP '{}' is not associated with anything",
                topology.public_ip(p).name
            )),
        },
        Destination::Address(a) => {
            if let Some(n) = topology.nic_by_private_ip(a) {
                let dst_vnet = topology.vnet_of_nic(n);
                if private_route(topology, src_vnet, dst_vnet) {
                    Reach::Private(n)
                } else {
                    Reach::Unreachable(format!(
                        "{a} is a private address in vnet '{}', which the source cannot route to",
                        topology.vnet(dst_vnet).name
                    ))
                }
            } else if let Some(p) = topology.public_ip_by_address(a) {
                match topology.public_ip(p).nic {
                    Some(n) => Reach::Public(n, p),
                    None => Reach::Unreachable(format!(
                        "public IP '{}' is not associated with anything",
                        topology.public_ip(p).name
                    )),
                }
            } else {
                Reach::Outside(a)
            }
        }
    }
}

/// Evaluates the NSGs at `levels` for `flow`; pushes a hop per level; false at the first deny.
fn chain(
    topology: &Topology,
    cache: &PolicyCache,
    flow: &Flow,
    nic: NicId,
    direction: Direction,
    levels: &[(Level, NicId)],
    hops: &mut Vec<Hop>,
) -> bool {
    let vnet = topology.vnet_of_nic(nic);
    for &(level, nic) in levels {
        let n = topology.nic(nic);
        let (nsg, where_) = match level {
            Level::Nic => (n.nsg, format!("nic '{}'", n.name)),
            Level::Subnet => {
                let s = topology.subnet(n.subnet);
                (s.nsg, format!("subnet '{}/{}'", topology.vnet(s.vnet).name, s.name))
            }
        };
        let Some(nsg) = nsg else {
            hops.push(Hop {
                kind: HopKind::NoNsg,
                resource: where_.clone(),
                level: Some(level),
                direction: Some(direction),
                rule: None,
                priority: None,
                access: Access::Allow,
                detail: format!(
                    "{where_} has no NSG: {} traffic passes this level",
                    direction.to_string().to_lowercase()
                ),
            });
            continue;
        };
        let name = topology.nsg(nsg).name.clone();
        // The cache normally holds every association; compiling on a miss keeps the answer
        // right even if a caller forgot to refresh it.
        let fresh;
        let compiled = match cache.get(nsg, vnet, direction) {
            Some(c) => c,
            None => {
                fresh = CompiledNsg::compile(topology.nsg(nsg), direction, &topology.resolve_context(vnet));
                &fresh
            }
        };
        let hit = compiled.evaluate(flow);
        let access = hit.rule.access;
        hops.push(Hop {
            kind: HopKind::Nsg,
            resource: name.clone(),
            level: Some(level),
            direction: Some(direction),
            rule: Some(hit.rule.azure_name()),
            priority: Some(hit.rule.priority.0),
            access,
            detail: format!(
                "NSG '{name}' on {where_} ({direction}): {} {} (priority {})",
                hit.rule.azure_name(),
                match access {
                    Access::Allow => "allows",
                    Access::Deny => "denies",
                },
                hit.rule.priority
            ),
        });
        if access == Access::Deny {
            return false;
        }
    }
    true
}
