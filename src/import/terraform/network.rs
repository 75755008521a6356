//! Virtual networks (with inline `subnet` blocks), subnets, peerings, route tables and routes,
//! and VPN gateways, local network gateways and their connections, in Azure's shape.
//!
//! A VNet's `subnet` attribute is optional and computed: when the configuration writes no
//! `subnet` block the plan leaves it unknown (or, for a VNet that exists, repeats the subnets
//! Azure has, which `azurerm_subnet` resources manage), and the subnets are those resources.
//! The same holds for a route table's `route` blocks and `azurerm_route` (the provider's note:
//! "Since `subnet` can be configured both inline and via the separate `azurerm_subnet`
//! resource, we have to explicitly set it to empty slice (`[]`) to remove it").

use super::attrs::{Attrs, Blocks, flag, list, object, text, texts};
use super::azurerm::{ASG, GATEWAY, LOCAL_GATEWAY, NSG, PIP, ROUTE_TABLE, SUBNET, VNET};
use super::config::Seg;
use super::fold::FoldKind;
use super::{Reader, Res};
use crate::import::json::{Node, Unknown, UnknownReason, Value};
use crate::import::resource::Kind;
use crate::scenario::schema::CaveatKindSpec;

/// The members of a translated resource besides its id, name and type.
pub type Members = Vec<(&'static str, Node)>;

impl<'a> Reader<'a, '_> {
    /// The attributes of instance `i`, which has values (the caller checked).
    pub(super) fn values(&self, i: usize) -> Res<Attrs<'a>> {
        self.attrs(i)
            .ok_or_else(|| self.diag.invalid(&self.instances[i].src, "", "the instance has no values"))
    }

    /// Skips instance `i` because the reference `what` cannot be followed, with a warning and a
    /// caveat.
    pub(super) fn unfollowed(&mut self, i: usize, what: &str, why: String) {
        let inst = &self.instances[i];
        let (address, src) = (inst.address.clone(), inst.src.clone());
        let message = format!("{address}: {why}; the {what} is not imported");
        self.skip(i, crate::import::summary::SkipReason::NotImported, message.clone());
        self.caveat(CaveatKindSpec::UnresolvedReference, &address, &src, message);
    }

    pub(super) fn virtual_network(&mut self, i: usize) -> Res<Option<Members>> {
        let a = self.values(i)?;
        let harmless = [
            "dns_servers",
            "bgp_community",
            "ddos_protection_plan",
            "encryption",
            "flow_timeout_in_minutes",
            "guid",
            "private_endpoint_vnet_policies",
        ];
        let spaces = a.texts("address_space", self.diag)?;
        if spaces.is_empty() {
            if a.has_unknown("address_space") || a.has_unknown("ip_address_pool") {
                let why = "its address space is only known after the apply".to_string();
                self.unfollowed(i, "virtual network", why);
                return Ok(None);
            }
            return Err(self.diag.invalid(
                &a.src.member(a.node, "address_space"),
                "",
                "a virtual network needs address_space",
            ));
        }
        let at = a.value("address_space").map_or(a.position(), |(n, _)| n.position);
        let mut properties = vec![("addressSpace", object(at, [("addressPrefixes", texts(at, &spaces))]))];
        if let Blocks::Known(blocks) = a.blocks("subnet", self.diag)?
            && !blocks.is_empty()
        {
            let mut subnets = Vec::new();
            for (k, b) in blocks.iter().enumerate() {
                let Some((name, name_node, _)) = b.text("name", self.diag)? else {
                    return Err(self.diag.invalid(&b.src, "", "a subnet block needs a name"));
                };
                let props =
                    self.subnet_properties(i, b, Some(&name), &[Seg::Attr("subnet"), Seg::Index(k)])?;
                subnets.push(object(
                    b.position(),
                    [("name", text(name_node.position, &name)), ("properties", props)],
                ));
            }
            let list_at = a.value("subnet").map_or(a.position(), |(n, _)| n.position);
            properties.push(("subnets", list(list_at, subnets)));
        }
        let kind = self.instances[i].kind.clone();
        self.note_unread(&kind, &a, &["address_space", "subnet"], &harmless);
        Ok(Some(vec![("properties", object(a.position(), properties))]))
    }

    pub(super) fn subnet(&mut self, i: usize) -> Res<Option<Members>> {
        let a = self.values(i)?;
        let props = self.subnet_properties(i, &a, None, &[])?;
        let harmless = [
            "virtual_network_name",
            "service_endpoints",
            "service_endpoint_policy_ids",
            "delegation",
            "private_endpoint_network_policies",
            "private_endpoint_network_policies_enabled",
            "private_link_service_network_policies_enabled",
            "enforce_private_link_endpoint_network_policies",
            "enforce_private_link_service_network_policies",
            "sharing_scope",
        ];
        let kind = self.instances[i].kind.clone();
        let read = [
            "address_prefixes",
            "address_prefix",
            "default_outbound_access_enabled",
            "network_security_group_id",
            "route_table_id",
        ];
        self.note_unread(&kind, &a, &read, &harmless);
        Ok(Some(vec![("properties", props)]))
    }

    /// A subnet's properties, from an `azurerm_subnet` or a VNet's `subnet` block (`inline`
    /// names it; `path` is where the block is in the configuration), with the associations
    /// folded into it.
    fn subnet_properties(
        &mut self,
        i: usize,
        a: &Attrs<'_>,
        inline: Option<&str>,
        path: &[Seg<'_>],
    ) -> Res<Node> {
        let mut prefixes = a.texts("address_prefixes", self.diag)?;
        if prefixes.is_empty() {
            prefixes = a.texts("address_prefix", self.diag)?;
        }
        let mut props = Vec::new();
        if let Some((first, node, _)) = prefixes.first() {
            props.push(("addressPrefix", text(node.position, first)));
            let at = a.value("address_prefixes").map_or(node.position, |(n, _)| n.position);
            props.push(("addressPrefixes", texts(at, &prefixes)));
        }
        if let Some((enabled, node)) = a.flag("default_outbound_access_enabled", self.diag)? {
            props.push(("defaultOutboundAccess", flag(node.position, enabled)));
        }
        let key = (i, inline.map(str::to_string));
        // The NSG: an association folded in, or the subnet's own attribute (`security_group` of
        // a VNet's subnet block, `network_security_group_id` of azurerm 1.x subnets).
        let own_nsg = if inline.is_some() { "security_group" } else { "network_security_group_id" };
        let nsg = match self.folded(&key, FoldKind::Nsg) {
            Some(node) => Some(node),
            None => self.own_reference(i, a, own_nsg, path, NSG)?,
        };
        if let Some(nsg) = nsg {
            props.push(("networkSecurityGroup", nsg));
        }
        if Kind::of(ROUTE_TABLE).is_some() {
            let table = match self.folded(&key, FoldKind::RouteTable) {
                Some(node) => Some(node),
                None => self.own_reference(i, a, "route_table_id", path, ROUTE_TABLE)?,
            };
            if let Some(table) = table {
                props.push(("routeTable", table));
            }
        }
        if let Some(gateway) = self.folded(&key, FoldKind::NatGateway) {
            props.push(("natGateway", gateway));
        }
        Ok(object(a.position(), props))
    }

    /// A reference attribute of a resource or block that is optional: followed when it can be,
    /// else a warning and a caveat, and left out.
    pub(super) fn own_reference(
        &mut self,
        i: usize,
        a: &Attrs<'_>,
        name: &str,
        block: &[Seg<'_>],
        expected: &str,
    ) -> Res<Option<Node>> {
        let mut path = block.to_vec();
        path.push(Seg::Attr(name));
        match self.reference(i, a, name, &path, &[expected])? {
            Ok(node) => Ok(Some(node)),
            Err(None) => Ok(None),
            Err(Some(why)) => {
                let address = self.instances[i].address.clone();
                let message = format!("{address}: {why}; left out");
                let src = a.src.member(a.node, name);
                self.diag.warn(&src, message.clone());
                self.caveat(CaveatKindSpec::UnresolvedReference, &address, &src, message);
                Ok(None)
            }
        }
    }

    pub(super) fn peering(&mut self, i: usize) -> Res<Option<Members>> {
        let a = self.values(i)?;
        let remote = match self.reference(
            i,
            &a,
            "remote_virtual_network_id",
            &[Seg::Attr("remote_virtual_network_id")],
            &[VNET],
        )? {
            Ok(node) => node,
            Err(Some(why)) => {
                self.unfollowed(i, "peering", why);
                return Ok(None);
            }
            Err(None) => {
                return Err(self.diag.invalid(
                    &a.src.member(a.node, "remote_virtual_network_id"),
                    "",
                    "a peering needs remote_virtual_network_id",
                ));
            }
        };
        let mut props = vec![("remoteVirtualNetwork", remote)];
        for (terraform, azure) in [
            ("allow_virtual_network_access", "allowVirtualNetworkAccess"),
            ("allow_forwarded_traffic", "allowForwardedTraffic"),
            ("allow_gateway_transit", "allowGatewayTransit"),
            ("use_remote_gateways", "useRemoteGateways"),
            ("peer_complete_virtual_networks_enabled", "peerCompleteVnets"),
            ("only_ipv6_peering_enabled", "enableOnlyIPv6Peering"),
        ] {
            if let Some(n) = a.node.get(terraform).filter(|n| n.as_bool().is_some()) {
                props.push((azure, n.clone()));
            }
        }
        for (terraform, azure) in
            [("local_subnet_names", "localSubnetNames"), ("remote_subnet_names", "remoteSubnetNames")]
        {
            let names = a.texts(terraform, self.diag)?;
            if !names.is_empty() {
                props.push((azure, texts(a.position(), &names)));
            }
        }
        let read = [
            "remote_virtual_network_id",
            "allow_virtual_network_access",
            "allow_forwarded_traffic",
            "allow_gateway_transit",
            "use_remote_gateways",
            "peer_complete_virtual_networks_enabled",
            "only_ipv6_peering_enabled",
            "local_subnet_names",
            "remote_subnet_names",
        ];
        let kind = self.instances[i].kind.clone();
        self.note_unread(&kind, &a, &read, &["virtual_network_name", "triggers"]);
        Ok(Some(vec![("properties", object(a.position(), props))]))
    }

    pub(super) fn route_table(&mut self, i: usize) -> Res<Option<Members>> {
        let a = self.values(i)?;
        let mut props = Vec::new();
        if let Blocks::Known(blocks) = a.blocks("route", self.diag)?
            && !blocks.is_empty()
        {
            let mut routes = Vec::new();
            for b in &blocks {
                let Some((name, name_node, _)) = b.text("name", self.diag)? else {
                    return Err(self.diag.invalid(&b.src, "", "a route block needs a name"));
                };
                routes.push(object(
                    b.position(),
                    [("name", text(name_node.position, &name)), ("properties", route_properties(b))],
                ));
            }
            let at = a.value("route").map_or(a.position(), |(n, _)| n.position);
            props.push(("routes", list(at, routes)));
        }
        // azurerm 3.x: `disable_bgp_route_propagation`; 4.x: `bgp_route_propagation_enabled`.
        if let Some(n) = a.node.get("disable_bgp_route_propagation").filter(|n| n.as_bool().is_some()) {
            props.push(("disableBgpRoutePropagation", n.clone()));
        } else if let Some((enabled, n)) = a.flag("bgp_route_propagation_enabled", self.diag)? {
            props.push(("disableBgpRoutePropagation", flag(n.position, !enabled)));
        }
        let kind = self.instances[i].kind.clone();
        self.note_unread(
            &kind,
            &a,
            &["route", "disable_bgp_route_propagation", "bgp_route_propagation_enabled"],
            &["subnets"],
        );
        Ok(Some(vec![("properties", object(a.position(), props))]))
    }

    pub(super) fn route(&mut self, i: usize) -> Res<Option<Members>> {
        let a = self.values(i)?;
        let kind = self.instances[i].kind.clone();
        self.note_unread(
            &kind,
            &a,
            &["address_prefix", "next_hop_type", "next_hop_in_ip_address"],
            &["route_table_name"],
        );
        Ok(Some(vec![("properties", route_properties(&a))]))
    }

    pub(super) fn gateway(&mut self, i: usize) -> Res<Option<Members>> {
        let a = self.values(i)?;
        let mut props = Vec::new();
        if let Some((n, _)) = a.value("type") {
            props.push(("gatewayType", n.clone()));
        }
        if let Some((n, _)) = a.value("vpn_type") {
            props.push(("vpnType", n.clone()));
        }
        if let Blocks::Known(blocks) = a.blocks("ip_configuration", self.diag)? {
            let mut configs = Vec::new();
            for (k, b) in blocks.iter().enumerate() {
                let block = [Seg::Attr("ip_configuration"), Seg::Index(k)];
                let mut cp = Vec::new();
                if let Some(subnet) = self.own_reference(i, b, "subnet_id", &block, SUBNET)? {
                    cp.push(("subnet", subnet));
                }
                if let Some(pip) = self.own_reference(i, b, "public_ip_address_id", &block, PIP)? {
                    cp.push(("publicIPAddress", pip));
                }
                configs.push(object(b.position(), [("properties", object(b.position(), cp))]));
            }
            props.push(("ipConfigurations", list(a.position(), configs)));
        }
        if let Blocks::Known(vpn) = a.blocks("vpn_client_configuration", self.diag)?
            && let Some(v) = vpn.first()
        {
            let pool = v.texts("address_space", self.diag)?;
            let pool = object(v.position(), [("addressPrefixes", texts(v.position(), &pool))]);
            props.push(("vpnClientConfiguration", object(v.position(), [("vpnClientAddressPool", pool)])));
        }
        Ok(Some(vec![("properties", object(a.position(), props))]))
    }

    pub(super) fn local_gateway(&mut self, i: usize) -> Res<Option<Members>> {
        let a = self.values(i)?;
        let spaces = a.texts("address_space", self.diag)?;
        let mut props = vec![(
            "localNetworkAddressSpace",
            object(a.position(), [("addressPrefixes", texts(a.position(), &spaces))]),
        )];
        if let Some((n, _)) = a.value("gateway_address") {
            props.push(("gatewayIpAddress", n.clone()));
        }
        Ok(Some(vec![("properties", object(a.position(), props))]))
    }

    pub(super) fn connection(&mut self, i: usize) -> Res<Option<Members>> {
        let a = self.values(i)?;
        let mut props = Vec::new();
        if let Some((n, _)) = a.value("type") {
            props.push(("connectionType", n.clone()));
        }
        if let Some(n) = a.node.get("enable_bgp").filter(|n| n.as_bool().is_some()) {
            props.push(("enableBgp", n.clone()));
        }
        for (terraform, azure, kind) in [
            ("virtual_network_gateway_id", "virtualNetworkGateway1", GATEWAY),
            ("local_network_gateway_id", "localNetworkGateway2", LOCAL_GATEWAY),
            ("peer_virtual_network_gateway_id", "virtualNetworkGateway2", GATEWAY),
        ] {
            if let Some(node) = self.own_reference(i, &a, terraform, &[], kind)? {
                props.push((azure, node));
            }
        }
        Ok(Some(vec![("properties", object(a.position(), props))]))
    }

    /// The Azure references of the ASGs a list attribute names (`source_application_security_
    /// group_ids`), and why each one that cannot be followed is left out.
    pub(super) fn asg_references(
        &mut self,
        i: usize,
        a: &Attrs<'_>,
        name: &str,
        block: &[Seg<'_>],
    ) -> Res<(Option<Node>, Vec<String>)> {
        let mut path = block.to_vec();
        path.push(Seg::Attr(name));
        let (nodes, missing) = self.references(i, a, name, &path, &[ASG])?;
        let at = a.value(name).map_or(a.position(), |(n, _)| n.position);
        Ok(((!nodes.is_empty()).then(|| list(at, nodes)), missing))
    }

    /// A warning and a caveat at attribute `name` of `a` (of instance `i`) for each reason in
    /// `missing`, each ending with `consequence`.
    pub(super) fn not_followed(
        &mut self,
        i: usize,
        a: &Attrs<'_>,
        name: &str,
        missing: &[String],
        consequence: &str,
    ) {
        let address = self.instances[i].address.clone();
        let src = a.src.member(a.node, name);
        for why in missing {
            let message = format!("{address}: {why}; {consequence}");
            self.diag.warn(&src, message.clone());
            self.caveat(CaveatKindSpec::UnresolvedReference, &address, &src, message);
        }
    }
}

/// A route's properties, from an `azurerm_route` or a route table's `route` block.
fn route_properties(a: &Attrs<'_>) -> Node {
    let mut props = Vec::new();
    for (terraform, azure) in [
        ("address_prefix", "addressPrefix"),
        ("next_hop_type", "nextHopType"),
        ("next_hop_in_ip_address", "nextHopIpAddress"),
    ] {
        if let Some((n, _)) = a.value(terraform) {
            props.push((azure, n.clone()));
        } else if a.is_unknown(terraform) {
            // Only the apply knows it (a firewall's private IP, most often): a placeholder that
            // the route table's reader records as such, never an error.
            let unknown = Unknown {
                expression: format!("{terraform} (known after apply)"),
                reason: UnknownReason::KnownAfterApply { attribute: terraform.to_string() },
            };
            props.push((azure, Node { value: Value::Unknown(Box::new(unknown)), position: a.position() }));
        }
    }
    object(a.position(), props)
}
