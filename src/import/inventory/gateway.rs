//! Virtual network gateways, local network gateways and the connections between them: where
//! the on-premises address spaces behind a VNet come from.

use super::stand_in::{GATEWAY_TYPE, LOCAL_GATEWAY_TYPE};
use super::{Inventory, Res, member};
use crate::import::arm::ResourceRef;
use crate::import::json::{Node, Object};
use crate::import::resource::Kind;
use crate::import::source::Src;

/// A virtual network gateway (VPN or ExpressRoute) and the subnet it sits in.
#[derive(Debug)]
pub struct GatewayRec {
    /// Its name.
    pub name: String,
    /// The subnet of its (first) IP configuration.
    pub subnet: Option<(ResourceRef, Src)>,
    /// `vpnClientConfiguration.vpnClientAddressPool.addressPrefixes`: point-to-site clients.
    pub client_pool: Vec<String>,
    /// Where the resource is.
    pub src: Src,
    /// The resource's index.
    pub res: usize,
}

/// A local network gateway: an on-premises site and its address space.
#[derive(Debug)]
pub struct LocalGatewayRec {
    /// Its name.
    pub name: String,
    /// Its address space.
    pub prefixes: Vec<String>,
    /// Where the resource is.
    pub src: Src,
    /// The resource's index.
    pub res: usize,
}

/// A gateway connection (`Microsoft.Network/connections`).
#[derive(Debug)]
pub struct ConnectionRec {
    /// Its name.
    pub name: String,
    /// `connectionType`: `IPsec`, `Vnet2Vnet`, `ExpressRoute`, `VPNClient`.
    pub kind: String,
    /// `virtualNetworkGateway1`.
    pub gateway: Option<(ResourceRef, Src)>,
    /// `localNetworkGateway2`.
    pub local: Option<(ResourceRef, Src)>,
    /// `enableBgp`.
    pub bgp: bool,
    /// Where the resource is.
    pub src: Src,
    /// The resource's index.
    pub res: usize,
}

const GATEWAY: &str = "microsoft.network/virtualnetworkgateways";
const LOCAL_GATEWAY: &str = "microsoft.network/localnetworkgateways";
const CONNECTION: &str = "microsoft.network/connections";

impl Inventory {
    /// A virtual network gateway: which VNet it serves (from its IP configuration's subnet) and
    /// its point-to-site client pool.
    pub(super) fn gateway(
        &mut self,
        res: usize,
        names: &[String],
        p: &Object,
        src: &Src,
        rsrc: &Src,
    ) -> Res<()> {
        self.check_props(
            GATEWAY,
            p,
            &[
                "ipConfigurations",
                "gatewayType",
                "vpnType",
                "vpnGatewayGeneration",
                "activeActive",
                "enableBgp",
                "bgpSettings",
                "vpnClientConfiguration",
                "enablePrivateIpAddress",
            ],
            src,
        );
        if !self.define(Kind::Gateway, names, rsrc, res) {
            return Ok(());
        }
        let mut subnet = None;
        // Active-active gateways have two configurations, both in the GatewaySubnet.
        for (cp, cpsrc) in self.ip_configurations(p, src)? {
            if let Some(r) = self.reference(cp, "subnet", &cpsrc)? {
                subnet.get_or_insert(r);
            }
        }
        let mut client_pool = Vec::new();
        let (vpn, vsrc) = member(p, "vpnClientConfiguration", src);
        if let Some(vpn) = vpn.and_then(Node::as_object) {
            let (pool, psrc) = member(vpn, "vpnClientAddressPool", &vsrc);
            if let Some(pool) = pool.and_then(Node::as_object) {
                client_pool = self.prefixes(pool, "addressPrefixes", &psrc)?;
            }
        }
        self.gateways.push(GatewayRec {
            name: names[0].clone(),
            subnet,
            client_pool,
            src: rsrc.clone(),
            res,
        });
        Ok(())
    }

    /// A local network gateway: the on-premises site's address space.
    pub(super) fn local_gateway(
        &mut self,
        res: usize,
        names: &[String],
        p: &Object,
        src: &Src,
        rsrc: &Src,
    ) -> Res<()> {
        self.check_props(
            LOCAL_GATEWAY,
            p,
            &["localNetworkAddressSpace", "gatewayIpAddress", "fqdn", "bgpSettings"],
            src,
        );
        if !self.define(Kind::LocalGateway, names, rsrc, res) {
            return Ok(());
        }
        let (space, at) = member(p, "localNetworkAddressSpace", src);
        let prefixes = match space.and_then(Node::as_object) {
            Some(a) => self.prefixes(a, "addressPrefixes", &at)?,
            None => Vec::new(),
        };
        self.local_gateways.push(LocalGatewayRec {
            name: names[0].clone(),
            prefixes,
            src: rsrc.clone(),
            res,
        });
        Ok(())
    }

    /// A gateway connection: which gateway connects to which site.
    pub(super) fn connection(
        &mut self,
        res: usize,
        names: &[String],
        p: &Object,
        src: &Src,
        rsrc: &Src,
    ) -> Res<()> {
        self.check_props(
            CONNECTION,
            p,
            &[
                "connectionType",
                "virtualNetworkGateway1",
                "virtualNetworkGateway2",
                "localNetworkGateway2",
                "peer",
                "enableBgp",
                "sharedKey",
                "authorizationKey",
                "connectionStatus",
                "tunnelConnectionStatus",
                "connectionProtocol",
                "connectionMode",
                "routingWeight",
                "ipsecPolicies",
                "dpdTimeoutSeconds",
                "ingressBytesTransferred",
                "egressBytesTransferred",
            ],
            src,
        );
        if !self.define(Kind::Connection, names, rsrc, res) {
            return Ok(());
        }
        let kind = self.string(p, "connectionType", src)?.unwrap_or_default();
        let what = format!("connection '{}'", names[0]);
        let bgp = self.flag(p, "enableBgp", src, &what)?.unwrap_or(false);
        let gateway = self.reference_outside(p, "virtualNetworkGateway1", src, GATEWAY_TYPE, &what)?;
        let local = self.reference_outside(p, "localNetworkGateway2", src, LOCAL_GATEWAY_TYPE, &what)?;
        self.connections.push(ConnectionRec {
            name: names[0].clone(),
            kind,
            gateway,
            local,
            bgp,
            src: rsrc.clone(),
            res,
        });
        Ok(())
    }
}
