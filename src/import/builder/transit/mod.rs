//! Peerings and gateway transit in the import: the two sides Azure stores of each peering become
//! one scenario peering, and the VNets' VPN gateways give the on-premises spaces behind them.
//!
//! Azure keeps a peering as two resources, one on each VNet, each with its own flags
//! (`allowGatewayTransit` on the hub's side, `useRemoteGateways` on the spoke's,
//! `allowVirtualNetworkAccess` on each). The scenario has one `Peering` with both gateway flags
//! and both sides' access (`allow_virtual_network_access`, in the order of its `vnets`), and
//! refuses combinations Azure refuses; so the merge lives here, apart from reading the resources,
//! and drops with a warning whatever would not load.

use std::collections::{BTreeMap, HashMap};

use ipnet::IpNet;

use super::peered_spaces::refuse_or_keep;
use super::{GATEWAY, LOCAL_GATEWAY, Res, SUBNET, VNET, kind_label};
use crate::import::arm::key;
use crate::import::inventory::{Inventory, PeeringRec};
use crate::import::source::Src;
use crate::net::parse_prefix;
use crate::scenario::schema::{CaveatKindSpec, PeeringOptionsSpec, PeeringSpec};

/// The one subnet a virtual network gateway can be deployed into (Microsoft: "The gateway subnet
/// must be named 'GatewaySubnet' to work properly"). ARM names compare without case.
const GATEWAY_SUBNET: &str = "GatewaySubnet";

impl Inventory {
    /// The VNets with a gateway in the input, by VNet name, and the on-premises spaces behind
    /// each: the address spaces of the local network gateways its IPsec connections name, and
    /// its point-to-site client pool. Routes Azure learns at run time (ExpressRoute, BGP) are
    /// not in the JSON; what cannot be placed is reported.
    pub(super) fn sites(&mut self) -> Res<BTreeMap<String, Site>> {
        let mut sites: BTreeMap<String, Site> = BTreeMap::new();
        let mut notes: Vec<(Src, String)> = Vec::new();
        // What is left out that changes routing (on-premises spaces unknown): a caveat each.
        let mut gaps: Vec<Gap> = Vec::new();
        // Gateway key → the name of its VNet.
        let mut located: HashMap<String, String> = HashMap::new();
        // The resources that give the scenario something: gateways placed, and the
        // connections and local network gateways whose spaces are routed.
        let mut modelled: Vec<usize> = Vec::new();
        for g in &self.gateways {
            let Some((r, rsrc)) = &g.subnet else {
                notes.push((
                    g.src.clone(),
                    format!(
                        "virtual network gateway '{}' names no subnet in its ipConfigurations, so its virtual network is unknown; not modelled",
                        g.name
                    ),
                ));
                continue;
            };
            if !r.kind.eq_ignore_ascii_case(SUBNET) || r.names.len() != 2 {
                return Err(self.diag.unresolved(
                    rsrc,
                    r,
                    format!("expected a reference to a {SUBNET}, found {}", r.kind),
                ));
            }
            let Some(vnet) = self.defined.get(&key(VNET, &r.names[..1])).cloned() else {
                notes.push((
                    rsrc.clone(),
                    format!(
                        "virtual network gateway '{}' is in virtual network '{}', which is not in the input; not modelled",
                        g.name, r.names[0]
                    ),
                ));
                continue;
            };
            if !r.names[1].eq_ignore_ascii_case(GATEWAY_SUBNET) {
                notes.push((
                    rsrc.clone(),
                    format!(
                        "virtual network gateway '{}' is in subnet '{}' of virtual network '{}': Azure deploys a virtual network gateway only into the subnet named {GATEWAY_SUBNET}; not modelled",
                        g.name, r.names[1], r.names[0]
                    ),
                ));
                continue;
            }
            located.insert(key(GATEWAY, std::slice::from_ref(&g.name)), vnet.clone());
            modelled.push(g.res);
            let site = sites.entry(vnet).or_insert_with(|| Site {
                gateway: g.name.clone(),
                src: g.src.clone(),
                spaces: Vec::new(),
            });
            for prefix in &g.client_pool {
                if !site.spaces.contains(prefix) {
                    site.spaces.push(prefix.clone());
                }
            }
        }
        let mut used = Vec::new();
        for c in &self.connections {
            let (name, kind) = (&c.name, c.kind.as_str());
            let skip = match kind.to_ascii_lowercase().as_str() {
                "ipsec" => None,
                "expressroute" => Some(format!(
                    "connection '{name}' is an ExpressRoute connection: the on-premises routes come from the circuit's BGP sessions, which are not in Azure's JSON; not modelled (write the on-premises spaces as on_premises of the gateway's virtual network)"
                )),
                "vnet2vnet" => {
                    Some(format!("connection '{name}' is a VNet-to-VNet connection; not modelled"))
                }
                _ => Some(format!(
                    "connection '{name}' has connectionType '{kind}'; nsgsim models IPsec (site-to-site) connections only; not modelled"
                )),
            };
            if let Some(message) = skip {
                gaps.push(Gap::connection(CaveatKindSpec::UnmodelledResource, &c.src, name, message));
                continue;
            }
            let (Some((g, gsrc)), Some((l, lsrc))) = (&c.gateway, &c.local) else {
                notes.push((
                    c.src.clone(),
                    format!("connection '{name}' names no virtualNetworkGateway1 or no localNetworkGateway2; not modelled"),
                ));
                continue;
            };
            for (r, at, expected) in [(g, gsrc, GATEWAY), (l, lsrc, LOCAL_GATEWAY)] {
                if !r.kind.eq_ignore_ascii_case(expected) {
                    return Err(self.diag.unresolved(
                        at,
                        r,
                        format!("expected a reference to a {expected}, found {}", r.kind),
                    ));
                }
            }
            let missing = [(g, gsrc, GATEWAY), (l, lsrc, LOCAL_GATEWAY)]
                .into_iter()
                .find(|(r, _, _)| !self.defined.contains_key(&r.key()));
            if let Some((r, at, kind)) = missing {
                let reason = format!(
                    "connection '{name}': {} '{}' is not in the input, so the on-premises spaces of the connection are unknown; not modelled",
                    kind_label(kind),
                    r.name()
                );
                gaps.push(Gap::connection(CaveatKindSpec::UnresolvedReference, at, name, reason));
                continue;
            }
            let Some(vnet) = located.get(&g.key()).cloned() else {
                // Why the gateway is not modelled was reported above; say what it costs here,
                // rather than later call the local network gateway unnamed.
                used.push(l.name().to_string());
                notes.push((
                    c.src.clone(),
                    format!(
                        "connection '{name}' goes through virtual network gateway '{}', which is not modelled, so the address space of local network gateway '{}' is not routed anywhere",
                        g.name(),
                        l.name()
                    ),
                ));
                continue;
            };
            let Some(local) = self
                .local_gateways
                .iter()
                .find(|x| key(LOCAL_GATEWAY, std::slice::from_ref(&x.name)) == l.key())
            else {
                continue;
            };
            used.push(local.name.clone());
            modelled.extend([c.res, local.res]);
            if c.bgp {
                notes.push((
                    c.src.clone(),
                    format!(
                        "connection '{name}' uses BGP: the routes on-premises advertises are not in Azure's JSON; only the address space of local network gateway '{}' ({}) is imported",
                        local.name,
                        if local.prefixes.is_empty() { "none".into() } else { local.prefixes.join(", ") }
                    ),
                ));
            } else if local.prefixes.is_empty() {
                notes.push((
                    local.src.clone(),
                    format!(
                        "local network gateway '{}' has no localNetworkAddressSpace: nothing on-premises is routed through connection '{name}'",
                        local.name
                    ),
                ));
            }
            let own: Vec<IpNet> = self
                .vnets
                .iter()
                .find(|v| v.name == vnet)
                .map(|v| v.spaces.iter().filter_map(|s| parse_prefix(s).ok()).collect())
                .unwrap_or_default();
            let Some(site) = sites.get_mut(&vnet) else { continue };
            for prefix in &local.prefixes {
                let Ok(net) = parse_prefix(prefix) else { continue };
                if let Some(space) =
                    own.iter().find(|s| s.contains(&net.network()) || net.contains(&s.network()))
                {
                    notes.push((
                        local.src.clone(),
                        format!(
                            "the address space {prefix} of local network gateway '{}' overlaps virtual network '{vnet}' ({space}), which its connection '{name}' serves; not modelled as on-premises (a virtual network routes its own spaces to itself)",
                            local.name
                        ),
                    ));
                } else if !site.spaces.contains(prefix) {
                    site.spaces.push(prefix.clone());
                }
            }
        }
        for local in &self.local_gateways {
            if !used.contains(&local.name) {
                notes.push((
                    local.src.clone(),
                    format!(
                        "local network gateway '{}' is named by no IPsec connection in the input; its address space is not routed anywhere",
                        local.name
                    ),
                ));
            }
        }
        for (src, message) in notes {
            self.diag.warn(&src, message);
        }
        for g in gaps {
            self.gap(g.kind, g.resource, &g.src, g.reason, g.affects)?;
        }
        for res in modelled {
            self.imported(res);
        }
        Ok(sites)
    }

    /// The scenario's peerings. Azure stores a peering as two resources, one on each VNet; each
    /// pair of sides becomes one scenario peering, with the VNet that allows gateway transit
    /// first and `use_remote_gateways` only where Azure would route through the remote gateway
    /// and the scenario can say it (the remote VNet's on-premises spaces are known), and each
    /// side's `allowVirtualNetworkAccess` (Azure's default, true, for a side not in the input).
    /// Whatever is dropped is reported with the reason, so the output always loads.
    pub(super) fn peerings(&mut self, sites: &BTreeMap<String, Site>) -> Res<Vec<PeeringSpec>> {
        struct Side<'a> {
            local: &'a str,
            remote: String,
            rec: &'a PeeringRec,
        }
        let mut notes: Vec<(Src, String)> = Vec::new();
        let mut gaps: Vec<Gap> = Vec::new();
        let mut sides: Vec<Side> = Vec::new();
        let mut modelled: Vec<usize> = Vec::new();
        for v in &self.vnets {
            for p in &v.peers {
                let (r, rsrc) = &p.remote;
                if !self.defined.contains_key(&r.key()) {
                    // Peered, its space would be in the VirtualNetwork tag of `v` and routed to:
                    // the answers must say it is missing.
                    gaps.push(Gap {
                        kind: CaveatKindSpec::UnresolvedReference,
                        src: rsrc.clone(),
                        resource: format!("Microsoft.Network/virtualNetworks/{}", r.names.join("/")),
                        reason: format!(
                            "peering '{}' of virtual network '{}' to virtual network '{}', which is not in the input; not modelled: its address space is neither routed nor in the VirtualNetwork service tag here",
                            p.name,
                            v.name,
                            r.name()
                        ),
                        affects: vec![v.name.clone()],
                    });
                    continue;
                }
                let remote = self.resolve(r, rsrc, VNET)?;
                if remote == v.name {
                    notes.push((
                        rsrc.clone(),
                        format!(
                            "peering '{}' of virtual network '{remote}' names the virtual network itself; Azure refuses it; not imported",
                            p.name
                        ),
                    ));
                    continue;
                }
                if let Some(first) = sides.iter().find(|s| s.local == v.name && s.remote == remote) {
                    notes.push((
                        p.src.clone(),
                        format!(
                            "virtual network '{}' already has a peering to '{remote}' ('{}' at {}); Azure allows one; '{}' is ignored",
                            v.name,
                            first.rec.name,
                            self.diag.place(&first.rec.src),
                            p.name
                        ),
                    ));
                    continue;
                }
                sides.push(Side { local: &v.name, remote, rec: p });
            }
        }
        let at = |s: &Side| self.diag.place(&s.rec.src);
        // The first peering of each VNet that sets useRemoteGateways: Azure refuses the flag
        // on a second one.
        let mut first_use: HashMap<&str, usize> = HashMap::new();
        for (i, s) in sides.iter().enumerate() {
            if s.rec.use_remote_gateways {
                first_use.entry(s.local).or_insert(i);
            }
        }
        let mut paired = vec![false; sides.len()];
        let mut out = Vec::new();
        let mut kept = Vec::new();
        let mut refused = Vec::new();
        for i in 0..sides.len() {
            if paired[i] {
                continue;
            }
            let j = (i + 1..sides.len())
                .find(|&j| sides[j].local == sides[i].remote && sides[j].remote == sides[i].local);
            if let Some(j) = j {
                paired[j] = true;
            }
            let (ab, ba) = (&sides[i], j.map(|j| &sides[j]));
            let (a, b) = (ab.local, ab.remote.as_str());
            if let Some(side) = std::iter::once(ab).chain(ba).find(|s| s.rec.only_ipv6) {
                notes.push((
                    side.rec.src.clone(),
                    format!(
                        "peering '{}' of virtual network '{}' to '{}' sets enableOnlyIPv6Peering (subnet peering over IPv6 only): not modelled; not imported, rather than imported as an IPv4 peering Azure does not make",
                        side.rec.name, side.local, side.remote
                    ),
                ));
                continue;
            }
            // Subnet peering (peerCompleteVnets false on a side): each VNet's peered subnets.
            let subnets = match self.subnet_peering(a, b, ab.rec, ba.map(|s| s.rec), &mut notes) {
                Ok(subnets) => subnets,
                Err((src, why)) => {
                    notes.push((src, why));
                    continue;
                }
            };
            if subnets.is_none()
                && let Some((x, y)) = self.overlapping_spaces(a, b)
            {
                notes.push((
                    ab.rec.src.clone(),
                    format!(
                        "virtual networks '{a}' and '{b}' have overlapping address spaces ({x} and {y}): Azure refuses a peering between them; not imported"
                    ),
                ));
                continue;
            }
            let present = std::iter::once(ab).chain(ba);
            if let Some(side) = present
                .clone()
                .find(|s| s.rec.state.as_deref().is_some_and(|st| !st.eq_ignore_ascii_case("connected")))
            {
                notes.push((
                    side.rec.src.clone(),
                    format!(
                        "peering '{}' of virtual network '{}' to '{}' is {}: Azure passes traffic over a peering only when both virtual networks peer with each other (peeringState Connected); not imported",
                        side.rec.name,
                        side.local,
                        side.remote,
                        side.rec.state.as_deref().unwrap_or_default()
                    ),
                ));
                continue;
            }
            let carried = |v: &str, s: Option<&Vec<String>>| self.carried(v, s.map(Vec::as_slice));
            let (sa, sb) = (subnets.as_ref().map(|s| &s.0), subnets.as_ref().map(|s| &s.1));
            if let Some(why) = refuse_or_keep(&mut kept, (a, carried(a, sa)), (b, carried(b, sb))) {
                refused.push((
                    ab.rec.src.clone(),
                    format!("peering '{}' of '{a}' to '{b}'", ab.rec.name),
                    why,
                    vec![a.to_string(), b.to_string()],
                ));
                continue;
            }
            if ba.is_none() && ab.rec.state.is_none() {
                notes.push((
                    ab.rec.src.clone(),
                    format!(
                        "virtual network '{b}' is in the input but has no peering back to '{a}'; Azure connects a peering only when both virtual networks have one (until then it is Initiated and carries no traffic); imported as connected, as if '{b}''s side existed outside the input with Azure's defaults (allowVirtualNetworkAccess true)"
                    ),
                ));
            }
            // allowVirtualNetworkAccess of each side (Azure's default, true, for a side not in
            // the input): the scenario's `allow_virtual_network_access` models it.
            let access_of = |vnet: &str| {
                present.clone().find(|s| s.local == vnet).is_none_or(|s| s.rec.allow_virtual_network_access)
            };
            // Gateway transit, in each direction the JSON asks for: the spoke's side sets
            // useRemoteGateways, the hub's side allowGatewayTransit.
            let mut transit: Option<(&str, &str)> = None;
            for (spoke, hub) in [(Some(ab), ba), (ba, Some(ab))] {
                let Some(spoke) = spoke.filter(|s| s.rec.use_remote_gateways) else { continue };
                let (s, h) = (spoke.local, spoke.remote.as_str());
                let first = first_use.get(s).map(|&k| &sides[k]);
                let problem = if let Some(first) = first.filter(|f| !std::ptr::eq(*f, spoke)) {
                    Some(format!(
                        "'{s}' already sets useRemoteGateways on its peering '{}' to '{}' ({}); Azure allows it on one peering of a virtual network and refuses it on the others",
                        first.rec.name,
                        first.remote,
                        at(first)
                    ))
                } else if let Some(g) = sites.get(s) {
                    Some(format!(
                        "'{s}' has a virtual network gateway of its own ('{}', {}); Azure refuses useRemoteGateways on a virtual network with a gateway",
                        g.gateway,
                        self.diag.place(&g.src)
                    ))
                } else {
                    match hub {
                        None => Some(format!(
                            "the peering of '{h}' back to '{s}' is not in the input, so whether it sets allowGatewayTransit is unknown, and Azure uses a remote gateway only when it does"
                        )),
                        Some(hub) if !hub.rec.allow_gateway_transit => Some(format!(
                            "the peering '{}' of '{h}' back to '{s}' ({}) does not set allowGatewayTransit, and Azure uses a remote gateway only when it does",
                            hub.rec.name,
                            at(hub)
                        )),
                        Some(_) => match sites.get(h) {
                            None => Some(format!(
                                "'{h}' has no virtual network gateway in the input (Azure refuses useRemoteGateways when the remote virtual network has none: RemoteVnetHasNoGateways); if it has one, import it too, with its connections and local network gateways"
                            )),
                            Some(g) if g.spaces.is_empty() => Some(format!(
                                "the gateway of '{h}' ('{}') has no on-premises address space in the input: nsgsim takes them from the local network gateways of its IPsec connections and from its point-to-site address pool (ExpressRoute and BGP-learned routes are not in Azure's JSON); write them as on_premises of '{h}' and set use_remote_gateways: true on the peering",
                                g.gateway
                            )),
                            Some(_) => None,
                        },
                    }
                };
                match problem {
                    None => transit = Some((h, s)),
                    Some(why) => notes.push((
                        spoke.rec.src.clone(),
                        format!(
                            "useRemoteGateways of peering '{}' (virtual network '{s}' to '{h}') is not imported: {why}; the peering is imported without gateway transit",
                            spoke.rec.name
                        ),
                    )),
                }
            }
            let allow_b = ba.is_some_and(|s| s.rec.allow_gateway_transit);
            let (first, second, flags) = match transit {
                Some((hub, spoke)) => (hub, spoke, (true, true)),
                None if ab.rec.allow_gateway_transit => (a, b, (true, false)),
                None if allow_b => (b, a, (true, false)),
                None if a <= b => (a, b, (false, false)),
                None => (b, a, (false, false)),
            };
            let mut spec = peering_spec(first, second, flags, (access_of(first), access_of(second)));
            if let Some((sa, sb)) = subnets {
                let (x, y) = if first == a { (sa, sb) } else { (sb, sa) };
                spec = with_subnets(spec, (x, y));
            }
            out.push(spec);
            modelled.extend(std::iter::once(ab).chain(ba).map(|s| s.rec.res));
        }
        for (src, message) in notes {
            self.diag.warn(&src, message);
        }
        for g in gaps {
            self.gap(g.kind, g.resource, &g.src, g.reason, g.affects)?;
        }
        for (src, resource, why, affects) in refused {
            self.gap(CaveatKindSpec::Other, resource, &src, why, affects)?;
        }
        for res in modelled {
            self.imported(res);
        }
        Ok(out)
    }
}

impl Inventory {
    /// The subnets of a subnet peering of `a` and `b` (`ab` is `a`'s side, `ba` `b`'s if in the
    /// input): `Ok(None)` for whole VNets, `Ok(Some((a's subnets, b's subnets)))`, or `Err` with
    /// where and why the peering is not imported.
    ///
    /// Azure keeps the lists on each side (`localSubnetNames`, `remoteSubnetNames`); when the
    /// two sides disagree (an update not yet synced: Microsoft's how-to updates and then runs
    /// `az network vnet peering sync` on both sides), a VNet's peered subnets are those both sides
    /// name, and a warning says so (model choice, docs/fidelity.md: never wider than either side).
    /// A side that peers whole VNets facing one that peers subnets is read as the subnet peering
    /// (Microsoft: "You can't change a given peering link type"), with a warning.
    #[expect(
        clippy::type_complexity,
        reason = "each side's subnet lists and the warning; phase 2 of issue 23 gives them a type"
    )]
    fn subnet_peering(
        &self,
        a: &str,
        b: &str,
        ab: &PeeringRec,
        ba: Option<&PeeringRec>,
        notes: &mut Vec<(Src, String)>,
    ) -> Result<Option<(Vec<String>, Vec<String>)>, (Src, String)> {
        let from_ab = ab.subnets.clone();
        let from_ba = ba.and_then(|r| r.subnets.clone()).map(|(local, remote)| (remote, local));
        let (lists, warn_at) = match (from_ab, from_ba) {
            (None, None) => return Ok(None),
            (Some(x), None) | (None, Some(x)) => {
                let one_sided = ba.is_some();
                (x, one_sided.then(|| "one side sets peerCompleteVnets false and the other does not (Azure: \"You can't change a given peering link type\"); imported as the subnet peering the other side names".to_string()))
            }
            (Some(x), Some(y)) if x == y => (x, None),
            (Some(x), Some(y)) => {
                let keep = |p: &[String], q: &[String]| -> Vec<String> {
                    p.iter().filter(|n| q.contains(n)).cloned().collect()
                };
                let merged = (keep(&x.0, &y.0), keep(&x.1, &y.1));
                (
                    merged,
                    Some(format!(
                        "the two sides name different subnets ('{a}''s side: local [{}], remote [{}]; '{b}''s side: local [{}], remote [{}]): a subnet peering not yet synced; imported with the subnets both sides name (model choice, never wider than either side)",
                        x.0.join(", "),
                        x.1.join(", "),
                        y.1.join(", "),
                        y.0.join(", ")
                    )),
                )
            }
        };
        if let Some(why) = warn_at {
            notes
                .push((ab.src.clone(), format!("subnet peering of virtual networks '{a}' and '{b}': {why}")));
        }
        let subnets_of = |vnet: &str| -> Vec<(String, Option<ipnet::IpNet>)> {
            self.vnets
                .iter()
                .filter(|v| v.name == vnet)
                .flat_map(|v| &v.subnets)
                .map(|s| (s.name.clone(), crate::net::parse_prefix(&s.prefix).ok()))
                .collect()
        };
        let spaces_of = |vnet: &str| -> Vec<ipnet::IpNet> {
            self.vnets
                .iter()
                .filter(|v| v.name == vnet)
                .flat_map(|v| &v.spaces)
                .filter_map(|s| crate::net::parse_prefix(s).ok())
                .collect()
        };
        let overlap =
            |x: &ipnet::IpNet, y: &ipnet::IpNet| x.contains(&y.network()) || y.contains(&x.network());
        for (vnet, other, names) in [(a, b, &lists.0), (b, a, &lists.1)] {
            if names.is_empty() {
                return Err((
                    ab.src.clone(),
                    format!(
                        "subnet peering of virtual networks '{a}' and '{b}' (peerCompleteVnets false) names no subnet of '{vnet}' that both sides agree on; not imported"
                    ),
                ));
            }
            let known = subnets_of(vnet);
            for n in names {
                let Some((_, prefix)) = known.iter().find(|(k, _)| k == n) else {
                    return Err((
                        ab.src.clone(),
                        format!(
                            "subnet peering of virtual networks '{a}' and '{b}' names subnet '{n}' of '{vnet}', which is not in the input; not imported (import the subnet too)"
                        ),
                    ));
                };
                let Some(prefix) = prefix else { continue };
                for space in spaces_of(vnet).iter().filter(|s| overlap(s, prefix)) {
                    if let Some(theirs) = spaces_of(other).iter().find(|y| overlap(space, y)) {
                        return Err((
                            ab.src.clone(),
                            format!(
                                "subnet peering of virtual networks '{a}' and '{b}': subnet '{n}' of '{vnet}' belongs to address space {space}, which overlaps {theirs} of '{other}'; Azure refuses it (\"The participating subnets must be unique and must belong to unique address spaces\"); not imported"
                            ),
                        ));
                    }
                }
            }
        }
        Ok(Some(lists))
    }

    /// A space of VNet `a` and one of VNet `b` that overlap, if any: Azure refuses to peer such
    /// VNets, and the scenario loader refuses the peering too.
    fn overlapping_spaces(&self, a: &str, b: &str) -> Option<(String, String)> {
        let spaces = |name: &str| -> Vec<(String, IpNet)> {
            self.vnets
                .iter()
                .filter(|v| v.name == name)
                .flat_map(|v| &v.spaces)
                .filter_map(|s| crate::net::parse_prefix(s).ok().map(|net| (s.clone(), net)))
                .collect()
        };
        let (xs, ys) = (spaces(a), spaces(b));
        xs.iter().find_map(|(x, xn)| {
            ys.iter()
                .find(|(_, yn)| xn.contains(&yn.network()) || yn.contains(&xn.network()))
                .map(|(y, _)| (x.clone(), y.clone()))
        })
    }
}

/// A VNet's gateway as the import sees it: which gateway, and the on-premises spaces behind it.
pub(super) struct Site {
    /// The virtual network gateway's name.
    gateway: String,
    /// Where the gateway is defined.
    src: Src,
    /// The on-premises address spaces behind it, as the scenario's `on_premises`.
    pub(super) spaces: Vec<String>,
}

/// The scenario peering of `first` and `second`: `(allow_gateway_transit, use_remote_gateways)`
/// as `gateway` (on `first`'s and `second`'s sides), and `allowVirtualNetworkAccess` of each side
/// as `access`. A plain pair when everything is Azure's default.
fn peering_spec(first: &str, second: &str, gateway: (bool, bool), access: (bool, bool)) -> PeeringSpec {
    if gateway == (false, false) && access == (true, true) {
        return PeeringSpec::Pair(first.to_string(), second.to_string());
    }
    PeeringSpec::Options(PeeringOptionsSpec::Peering {
        vnets: (first.to_string(), second.to_string()),
        allow_gateway_transit: gateway.0,
        use_remote_gateways: gateway.1,
        allow_virtual_network_access: access,
        subnets: None,
    })
}

/// `spec` as a subnet peering of (its first VNet's subnets, its second's).
fn with_subnets(spec: PeeringSpec, subnets: (Vec<String>, Vec<String>)) -> PeeringSpec {
    let (vnets, gateway, access) = match spec {
        PeeringSpec::Pair(a, b) => ((a, b), (false, false), (true, true)),
        PeeringSpec::Options(PeeringOptionsSpec::Peering {
            vnets,
            allow_gateway_transit,
            use_remote_gateways,
            allow_virtual_network_access,
            ..
        }) => (vnets, (allow_gateway_transit, use_remote_gateways), allow_virtual_network_access),
    };
    PeeringSpec::Options(PeeringOptionsSpec::Peering {
        vnets,
        allow_gateway_transit: gateway.0,
        use_remote_gateways: gateway.1,
        allow_virtual_network_access: access,
        subnets: Some(subnets),
    })
}

/// One side of a peering as the warnings show it.
pub(super) fn peering_line(p: &PeeringRec) -> String {
    format!(
        "remote '{}', allowGatewayTransit {}, useRemoteGateways {}, allowVirtualNetworkAccess {}",
        p.remote.0.name(),
        p.allow_gateway_transit,
        p.use_remote_gateways,
        p.allow_virtual_network_access
    )
}

/// Gateway transit: a hub with a VPN gateway to one on-premises site, and a spoke.
/// Something left out that changes traffic, recorded as a caveat (a warning; under `--strict` an
/// error) once the loop that found it no longer borrows the inventory.
struct Gap {
    kind: CaveatKindSpec,
    src: Src,
    /// The resource, as `Microsoft.Network/…/name`.
    resource: String,
    reason: String,
    /// The scenario names it concerns (empty: everything).
    affects: Vec<String>,
}

impl Gap {
    /// A gateway connection `name` left out for `reason`: the on-premises spaces behind it are
    /// unknown, which concerns every answer.
    fn connection(kind: CaveatKindSpec, src: &Src, name: &str, reason: String) -> Gap {
        Gap {
            kind,
            src: src.clone(),
            resource: format!("Microsoft.Network/connections/{name}"),
            reason,
            affects: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests;
