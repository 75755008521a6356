//! Route tables: routes given as resources of their own join their tables, each table becomes
//! a scenario `RouteTable`, and what the model cannot express is a gap: a route whose prefix is
//! a service tag, a next hop address only a deployment knows, `disableBgpRoutePropagation` where
//! gateway routes exist, and a next hop that is a network virtual appliance rather than an Azure
//! Firewall (nsgsim drops such traffic, where Azure hands it to the appliance).

use std::net::IpAddr;

use super::{ROUTE_TABLE, Res, parent_ref};
use crate::import::inventory::{Inventory, NextHop, RouteRec};
use crate::import::resource::Kind;
use crate::net::parse_prefix;
use crate::scenario::schema::{
    CaveatKindSpec, FirewallSpec, NextHopSpec, PeeringSpec, RouteSpec, RouteTableSpec, VnetSpec,
};

impl Inventory {
    /// Routes given as resources of their own join their tables; the child's definition
    /// stands over an inline one of the same name, as ARM deploys the child after its parent.
    pub(super) fn join_routes(&mut self) -> Res<()> {
        for child in std::mem::take(&mut self.child_routes) {
            let r = parent_ref(Kind::RouteTable, &child.parent);
            let lost = format!("route '{}' is not imported with it", child.record.name);
            let Some(name) =
                self.resolve_or_gap(&r, &child.src.at("name"), ROUTE_TABLE, &lost, Vec::new())?
            else {
                continue;
            };
            let Some(table) = self.route_tables.iter_mut().find(|t| t.name == name) else { continue };
            let route = child.record;
            match table.routes.iter().position(|x| x.name.eq_ignore_ascii_case(&route.name)) {
                Some(k) => table.routes[k] = route,
                None => table.routes.push(route),
            }
        }
        Ok(())
    }

    /// The scenario's route tables, given the VNets (whose subnets name their tables).
    pub(super) fn route_table_specs(
        &mut self,
        vnets: &[VnetSpec],
        peerings: &[PeeringSpec],
    ) -> Res<Vec<RouteTableSpec>> {
        let records = std::mem::take(&mut self.route_tables);
        let mut out = Vec::new();
        for t in &records {
            let served = served_by(vnets, &t.name);
            let mut routes = Vec::new();
            for r in &t.routes {
                if let Some(spec) = self.route_spec(&t.name, r, &served)? {
                    routes.push(spec);
                }
            }
            if t.disable_bgp {
                let with_gateway: Vec<String> = served
                    .iter()
                    .filter(|s| gets_gateway_routes(vnets, peerings, s.split('/').next().unwrap_or_default()))
                    .cloned()
                    .collect();
                if !with_gateway.is_empty() {
                    let reason = format!(
                        "route table '{}' sets disableBgpRoutePropagation: its subnets ({}) do not learn the virtual network gateway's routes to on-premises; nsgsim cannot express this and routes them to the gateway as if they did",
                        t.name,
                        with_gateway.join(", ")
                    );
                    let resource = format!("disableBgpRoutePropagation of route table '{}'", t.name);
                    self.gap(CaveatKindSpec::Other, resource, &t.src, reason, with_gateway)?;
                }
            }
            self.imported(t.res);
            for r in &t.routes {
                self.imported(r.res);
            }
            out.push(RouteTableSpec { name: t.name.clone(), routes });
        }
        self.route_tables = records;
        Ok(out)
    }

    /// One route as the scenario holds it; `None` (after recording the gap) when the model
    /// cannot express it. `served` are the subnets (`vnet/subnet`) the table is associated with.
    fn route_spec(&mut self, table: &str, r: &RouteRec, served: &[String]) -> Res<Option<RouteSpec>> {
        let resource = format!("Microsoft.Network/routeTables/{table}/routes/{}", r.name);
        let prefix = match parse_prefix(&r.prefix) {
            Ok(_) => r.prefix.clone(),
            Err(_) if crate::nsg::ServiceTag::parse(&r.prefix).is_some() => {
                let reason = format!(
                    "route '{}' of route table '{table}' has the service tag '{}' as its addressPrefix; nsgsim routes by CIDR prefixes only, so the route is not imported",
                    r.name, r.prefix
                );
                self.gap(CaveatKindSpec::Other, resource, &r.src, reason, served.to_vec())?;
                return Ok(None);
            }
            Err(e) => return Err(self.diag.invalid(&r.src.at("addressPrefix"), &r.prefix, e.reason)),
        };
        let next_hop = match &r.next_hop {
            NextHop::VirtualAppliance(Ok(ip)) => NextHopSpec::VirtualAppliance(ip.to_string()),
            NextHop::VirtualAppliance(Err(unknown)) => {
                let reason = format!(
                    "route '{}' of route table '{table}' sends {prefix} to a virtual appliance whose address is only known at deployment ('{}'); the route is not imported",
                    r.name,
                    crate::import::json::shorten(&unknown.expression)
                );
                self.gap(CaveatKindSpec::Placeholder, resource, &r.src, reason, served.to_vec())?;
                return Ok(None);
            }
            NextHop::Internet => NextHopSpec::Internet,
            NextHop::VnetLocal => NextHopSpec::VnetLocal,
            NextHop::VirtualNetworkGateway => NextHopSpec::VirtualNetworkGateway,
            NextHop::Drop => NextHopSpec::None,
        };
        Ok(Some(RouteSpec { name: r.name.clone(), prefix, next_hop }))
    }

    /// Routes to a virtual appliance that is not an Azure Firewall of the scenario: nsgsim
    /// models Azure Firewall as the only appliance and drops such traffic, so each used route is
    /// a gap concerning the subnets it serves.
    pub(super) fn appliance_routes(
        &mut self,
        tables: &[RouteTableSpec],
        firewalls: &[FirewallSpec],
        vnets: &[VnetSpec],
    ) -> Res<()> {
        let firewall_ips: Vec<IpAddr> = firewalls.iter().filter_map(|f| f.private_ip.parse().ok()).collect();
        for t in tables {
            let served = served_by(vnets, &t.name);
            if served.is_empty() {
                continue;
            }
            for r in &t.routes {
                let NextHopSpec::VirtualAppliance(ip) = &r.next_hop else { continue };
                if ip.parse::<IpAddr>().is_ok_and(|a| firewall_ips.contains(&a)) {
                    continue;
                }
                let Some(src) = self
                    .route_tables
                    .iter()
                    .find(|x| x.name == t.name)
                    .and_then(|x| x.routes.iter().find(|y| y.name == r.name))
                    .map(|y| y.src.clone())
                else {
                    continue;
                };
                let reason = format!(
                    "route '{}' of route table '{}' sends {} to a network virtual appliance at {ip}, which is not an Azure Firewall of the input; nsgsim models Azure Firewall as the only appliance, so it drops this traffic where Azure would hand it to the appliance",
                    r.name, t.name, r.prefix
                );
                let resource = format!("Microsoft.Network/routeTables/{}/routes/{}", t.name, r.name);
                self.gap(CaveatKindSpec::Other, resource, &src, reason, served.clone())?;
            }
        }
        Ok(())
    }
}

impl Inventory {
    /// A route table on a firewall's `AzureFirewallSubnet` that does not send `0.0.0.0/0` to the
    /// Internet is forced tunneling (Azure allows it with the firewall's management IP
    /// configuration, else refuses it: `AzureFirewallSubnetRouteTableMustHaveDefaultRouteToInternet`).
    /// nsgsim models a firewall with direct Internet connectivity only, so the table is left off
    /// the subnet, as a gap.
    pub(super) fn firewall_subnet_tables(
        &mut self,
        vnets: &mut [VnetSpec],
        tables: &[RouteTableSpec],
        firewalls: &[FirewallSpec],
    ) -> Res<()> {
        for f in firewalls {
            let Some(vnet) = vnets.iter_mut().find(|v| v.name == f.vnet) else { continue };
            let Some(subnet) =
                vnet.subnets.iter_mut().find(|s| s.name.eq_ignore_ascii_case("AzureFirewallSubnet"))
            else {
                continue;
            };
            let Some(table) = subnet.route_table.as_deref().and_then(|t| tables.iter().find(|x| x.name == t))
            else {
                continue;
            };
            let default = table.routes.iter().find(|r| r.prefix == "0.0.0.0/0");
            if default.is_some_and(|r| matches!(r.next_hop, NextHopSpec::Internet)) {
                continue;
            }
            let goes = match default.map(|r| &r.next_hop) {
                Some(NextHopSpec::VirtualAppliance(ip)) => {
                    format!("sends 0.0.0.0/0 to the appliance at {ip}")
                }
                Some(_) => "sends 0.0.0.0/0 elsewhere than the Internet".to_string(),
                None => "has no 0.0.0.0/0 route".to_string(),
            };
            let reason = format!(
                "route table '{}' on AzureFirewallSubnet of '{}' {goes}: forced tunneling, which Azure allows only with the firewall's management IP configuration; nsgsim models a firewall with direct Internet connectivity, so the table is left off the subnet and Azure Firewall '{}' sends Internet traffic out directly",
                table.name, f.vnet, f.name
            );
            let place = format!("{}/{}", f.vnet, subnet.name);
            subnet.route_table = None;
            let src = self
                .firewalls
                .iter()
                .find(|x| x.name == f.name)
                .map(|x| x.src.clone())
                .expect("every firewall of the scenario is built from a record");
            self.gap(
                CaveatKindSpec::Other,
                format!("forced tunneling of Azure Firewall '{}'", f.name),
                &src,
                reason,
                vec![place],
            )?;
        }
        Ok(())
    }
}

/// The subnets (`vnet/subnet`) associated with route table `table`.
fn served_by(vnets: &[VnetSpec], table: &str) -> Vec<String> {
    vnets
        .iter()
        .flat_map(|v| {
            v.subnets
                .iter()
                .filter(|s| s.route_table.as_deref() == Some(table))
                .map(move |s| format!("{}/{}", v.name, s.name))
        })
        .collect()
}

/// Whether VNet `vnet` has routes to a virtual network gateway in the scenario: on-premises
/// spaces behind its own gateway, or a peering that uses a remote one.
fn gets_gateway_routes(vnets: &[VnetSpec], peerings: &[PeeringSpec], vnet: &str) -> bool {
    vnets.iter().any(|v| v.name == vnet && !v.on_premises.is_empty())
        || peerings.iter().any(|p| p.gateway_flags().1 && p.vnets().1 == vnet)
}
