//! Virtual networks, their subnets and their peerings (inline, or resources of their own).

use super::stand_in::VNET_TYPE;
use super::{Inventory, Res, member, properties};
use crate::import::arm::ResourceRef;
use crate::import::json::Object;
use crate::import::resource::Kind;
use crate::import::source::Src;
use crate::net::parse_prefix;

/// A virtual network.
#[derive(Debug)]
pub struct VnetRec {
    /// Its name.
    pub name: String,
    /// Its address spaces.
    pub spaces: Vec<String>,
    /// Its subnets, inline ones first.
    pub subnets: Vec<SubnetRec>,
    /// Its side of each of its peerings.
    pub peers: Vec<PeeringRec>,
    /// Where its properties are.
    pub src: Src,
    /// The resource's index.
    pub res: usize,
}

/// A subnet.
#[derive(Debug)]
pub struct SubnetRec {
    /// Its name.
    pub name: String,
    /// Its (first) address prefix.
    pub prefix: String,
    /// Its NSG, with where the reference is.
    pub nsg: Option<(ResourceRef, Src)>,
    /// Its route table, with where the reference is.
    pub route_table: Option<(ResourceRef, Src)>,
    /// Azure's `defaultOutboundAccess` (false: a private subnet), when the JSON says.
    pub default_outbound_access: Option<bool>,
    /// Its NAT gateway, with where the reference is.
    pub nat_gateway: Option<(ResourceRef, Src)>,
    /// Where its properties are.
    pub src: Src,
}

/// One side of a peering, as Azure stores it: the peering resource of one VNet to another.
/// The scenario's peering is both sides merged (see the builder's `peerings`).
#[derive(Debug)]
pub struct PeeringRec {
    /// The peering's own name (`hub-to-spoke`).
    pub name: String,
    /// The remote VNet, with where the reference is.
    pub remote: (ResourceRef, Src),
    /// `allowGatewayTransit`: the remote VNet may use this VNet's gateway.
    pub allow_gateway_transit: bool,
    /// `useRemoteGateways`: this VNet uses the remote VNet's gateway.
    pub use_remote_gateways: bool,
    /// `allowVirtualNetworkAccess` (default true).
    pub allow_virtual_network_access: bool,
    /// `peeringState` as exported (`Connected`, `Initiated`, `Disconnected`); absent in templates.
    pub state: Option<String>,
    /// Subnet peering: `Some((localSubnetNames, remoteSubnetNames))` when `peerCompleteVnets` is
    /// false; `None` for a peering of whole VNets (Azure's default).
    pub subnets: Option<(Vec<String>, Vec<String>)>,
    /// `enableOnlyIPv6Peering` (default false).
    pub only_ipv6: bool,
    /// Where its properties are.
    pub src: Src,
    /// The resource's index (the VNet's for an inline peering).
    pub res: usize,
}

const VNET: &str = "microsoft.network/virtualnetworks";
const SUBNET: &str = "microsoft.network/virtualnetworks/subnets";
const PEERING: &str = "microsoft.network/virtualnetworks/virtualnetworkpeerings";

impl Inventory {
    pub(super) fn vnet(
        &mut self,
        res: usize,
        names: &[String],
        p: &Object,
        src: &Src,
        rsrc: &Src,
    ) -> Res<()> {
        self.check_props(
            VNET,
            p,
            &[
                "addressSpace",
                "subnets",
                "virtualNetworkPeerings",
                "dhcpOptions",
                "enableDdosProtection",
                "enableVmProtection",
                "privateEndpointVNetPolicies",
            ],
            src,
        );
        if !self.define(Kind::Vnet, names, rsrc, res) {
            return Ok(());
        }
        let (space_node, space_at) = member(p, "addressSpace", src);
        let spaces = match space_node.and_then(|n| n.as_object()) {
            Some(a) => self.prefixes(a, "addressPrefixes", &space_at)?,
            None => Vec::new(),
        };
        if spaces.is_empty() {
            let at = match space_node.and_then(|n| n.as_object()) {
                Some(a) => member(a, "addressPrefixes", &space_at).1,
                None => space_at.at("addressPrefixes"),
            };
            return Err(self.diag.invalid(
                &at,
                "",
                format!("virtual network '{}' has no address space", names[0]),
            ));
        }
        let mut subnets = Vec::new();
        if let Some((list, lsrc)) = self.list(p, "subnets", src, "subnets")? {
            for (i, s) in list.iter().enumerate() {
                let ssrc = lsrc.item(i, s);
                let Some((sprops, spsrc)) = properties(s, &ssrc) else {
                    return Err(self.diag.invalid(&ssrc, &s.shown(), "expected a subnet object"));
                };
                let sobj = s.as_object().expect("properties() found an object");
                let name = self.string(sobj, "name", &ssrc)?.ok_or_else(|| {
                    self.diag.invalid(&member(sobj, "name", &ssrc).1, "", "a subnet needs a name")
                })?;
                if !self.define(Kind::Subnet, &[names[0].clone(), name.clone()], &ssrc, usize::MAX) {
                    continue;
                }
                subnets.push(self.subnet(name, sprops, &spsrc)?);
            }
        }
        let mut peers = Vec::new();
        if let Some((list, lsrc)) = self.list(p, "virtualNetworkPeerings", src, "peerings")? {
            for (i, peering) in list.iter().enumerate() {
                let psrc = lsrc.item(i, peering);
                let Some((pp, ppsrc)) = properties(peering, &psrc) else { continue };
                let pobj = peering.as_object().expect("properties() found an object");
                let name = self.string(pobj, "name", &psrc)?.unwrap_or_else(|| format!("peering{i}"));
                if let Some(mut peering) = self.peering(name, pp, &ppsrc)? {
                    peering.res = res;
                    peers.push(peering);
                }
            }
        }
        self.vnets.push(VnetRec { name: names[0].clone(), spaces, subnets, peers, src: src.clone(), res });
        Ok(())
    }

    /// One side of a peering (inline in its VNet or a child resource), `p` its properties at
    /// `src`; `None` when it names no remote VNet.
    pub(super) fn peering(&mut self, name: String, p: &Object, src: &Src) -> Res<Option<PeeringRec>> {
        self.check_props(
            PEERING,
            p,
            &[
                "remoteVirtualNetwork",
                "allowVirtualNetworkAccess",
                "allowForwardedTraffic",
                "allowGatewayTransit",
                "useRemoteGateways",
                "peeringState",
                "peeringSyncLevel",
                "remoteAddressSpace",
                "remoteVirtualNetworkAddressSpace",
                "doNotVerifyRemoteGateways",
                "remoteBgpCommunities",
                "remoteGateways",
                "peerCompleteVnets",
                "localSubnetNames",
                "remoteSubnetNames",
                "enableOnlyIPv6Peering",
                "localAddressSpace",
                "localVirtualNetworkAddressSpace",
            ],
            src,
        );
        let what = format!("peering '{name}'");
        let Some(remote) = self.reference_outside(p, "remoteVirtualNetwork", src, VNET_TYPE, &what)? else {
            return Ok(None);
        };
        let allow_gateway_transit = self.flag(p, "allowGatewayTransit", src, &what)?.unwrap_or(false);
        let use_remote_gateways = self.flag(p, "useRemoteGateways", src, &what)?.unwrap_or(false);
        let allow_virtual_network_access =
            self.flag(p, "allowVirtualNetworkAccess", src, &what)?.unwrap_or(true);
        // `allowForwardedTraffic` is not read: nsgsim passes forwarded traffic over every
        // peering, and the import brings no appliance that could forward any (docs/fidelity.md).
        let state = self.string(p, "peeringState", src)?;
        // Subnet peering: the subnets are Azure's `localSubnetNames` and `remoteSubnetNames`
        // (`localAddressSpace`/`remoteAddressSpace` are their prefixes, derived by Azure, so not
        // read); the builder merges and checks the two sides.
        let complete = self.flag(p, "peerCompleteVnets", src, &what)?.unwrap_or(true);
        let names = |me: &Self, field: &str| -> Res<Vec<String>> {
            Ok(me.strings(p, field, src)?.into_iter().map(|(s, _)| s).collect())
        };
        let subnets = if complete {
            None
        } else {
            Some((names(self, "localSubnetNames")?, names(self, "remoteSubnetNames")?))
        };
        let only_ipv6 = self.flag(p, "enableOnlyIPv6Peering", src, &what)?.unwrap_or(false);
        Ok(Some(PeeringRec {
            name,
            remote,
            allow_gateway_transit,
            use_remote_gateways,
            allow_virtual_network_access,
            state,
            subnets,
            only_ipv6,
            src: src.clone(),
            res: usize::MAX,
        }))
    }

    pub(super) fn subnet(&mut self, name: String, p: &Object, src: &Src) -> Res<SubnetRec> {
        self.check_props(
            SUBNET,
            p,
            &[
                "addressPrefix",
                "addressPrefixes",
                "networkSecurityGroup",
                "ipConfigurations",
                "ipConfigurationProfiles",
                "purpose",
                "resourceNavigationLinks",
                "serviceAssociationLinks",
                "privateEndpointNetworkPolicies",
                "privateLinkServiceNetworkPolicies",
                "delegations",
                "serviceEndpoints",
                "defaultOutboundAccess",
                "routeTable",
                "natGateway",
            ],
            src,
        );
        let mut prefixes = self.strings(p, "addressPrefixes", src)?;
        if prefixes.is_empty()
            && let Some(one) = self.string(p, "addressPrefix", src)?
        {
            prefixes.push((one, member(p, "addressPrefix", src).1));
        }
        let Some((prefix, at)) = prefixes.first().cloned() else {
            return Err(self.diag.invalid(
                &member(p, "addressPrefix", src).1,
                "",
                format!("subnet '{name}' has no addressPrefix"),
            ));
        };
        parse_prefix(&prefix).map_err(|e| self.diag.invalid(&at, &prefix, e.reason))?;
        if prefixes.len() > 1 {
            self.diag.warn(
                &member(p, "addressPrefixes", src).1,
                format!("subnet '{name}' has {} prefixes; nsgsim models the first, {prefix}", prefixes.len()),
            );
        }
        let nsg = self.reference(p, "networkSecurityGroup", src)?;
        let route_table = self.reference(p, "routeTable", src)?;
        let default_outbound_access =
            self.flag(p, "defaultOutboundAccess", src, &format!("subnet '{name}'"))?;
        let nat_gateway = self.reference(p, "natGateway", src)?;
        Ok(SubnetRec {
            name,
            prefix,
            nsg,
            route_table,
            default_outbound_access,
            nat_gateway,
            src: src.clone(),
        })
    }
}
