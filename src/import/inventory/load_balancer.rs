//! Azure Load Balancers: SKU, frontends, backend pools, probes, load-balancing rules, inbound
//! NAT rules and NAT pools, outbound rules; and the two child resources ARM declares apart
//! (`loadBalancers/inboundNatRules`, `loadBalancers/backendAddressPools`).
//!
//! A pool's members are written in two places, and both are read: on the NIC's IP
//! configuration (`loadBalancerBackendAddressPools`, `loadBalancerInboundNatRules`, read by
//! `nic.rs`) and on the pool itself (`loadBalancerBackendAddresses` naming an IP configuration,
//! or an IP address in a VNet; `backendIPConfigurations` in `az`/REST output, which Azure fills
//! from the NICs). Everything here is a reference by name; the builder
//! (`builder/load_balancers.rs`) resolves them and records each gap.
//!
//! The SKU Azure gives a load balancer created without one is Basic (docs/fidelity.md, "Azure
//! Load Balancer"), as for public IPs; a Gateway load balancer and a Global (cross-region) one
//! are read but not modelled, which the builder says in a caveat.

use super::{Inventory, Res, member, properties};
use crate::import::arm::ResourceRef;
use crate::import::json::{Node, Object};
use crate::import::resource::{Kind, Resource};
use crate::import::source::Src;
use crate::scenario::schema::{LbProtocolSpec, LbSkuSpec, ProbeProtocolSpec};

/// A load balancer.
#[derive(Debug)]
pub struct LbRec {
    /// Its name.
    pub name: String,
    /// Its SKU (absent: Basic, with a warning).
    pub sku: LbSkuSpec,
    /// Why nsgsim cannot model it (a Gateway SKU, the Global tier), if so: the summary's
    /// reason and the warning's.
    pub unmodelled: Option<(&'static str, String)>,
    /// Frontend IP configurations.
    pub frontends: Vec<FrontendRec>,
    /// Backend pools.
    pub pools: Vec<PoolRec>,
    /// Health probes.
    pub probes: Vec<ProbeRec>,
    /// Load-balancing rules.
    pub rules: Vec<LbRuleRec>,
    /// Inbound NAT rules and inbound NAT pools.
    pub nat_rules: Vec<NatRuleRec>,
    /// Outbound rules.
    pub outbound_rules: Vec<OutboundRuleRec>,
    /// Where the resource is.
    pub src: Src,
    /// The resource's index.
    pub res: usize,
}

/// A frontend IP configuration.
#[derive(Debug)]
pub struct FrontendRec {
    /// Its name.
    pub name: String,
    /// Its public IP (a public frontend).
    pub public_ip: Option<(ResourceRef, Src)>,
    /// Its subnet (an internal frontend).
    pub subnet: Option<(ResourceRef, Src)>,
    /// The public IP prefix it takes its addresses from (not modelled for a frontend).
    pub prefix: Option<(ResourceRef, Src)>,
    /// Its private address, when given.
    pub private_ip: Option<String>,
    /// The gateway load balancer frontend it chains to, if any.
    pub gateway: Option<Src>,
    /// Where it is.
    pub src: Src,
}

/// A member of a backend pool written on the pool.
#[derive(Debug)]
pub enum PoolAddressRec {
    /// A NIC's IP configuration (or a scale set instance's), by reference.
    IpConfig(ResourceRef, Src),
    /// An IP address in a virtual network.
    Address {
        /// The address.
        ip: String,
        /// The virtual network.
        vnet: Option<ResourceRef>,
        /// Where it is.
        src: Src,
    },
    /// Something else (a regional load balancer's frontend, for a cross-region pool), and what.
    Other(String, Src),
}

/// A backend pool.
#[derive(Debug)]
pub struct PoolRec {
    /// Its name.
    pub name: String,
    /// The members written on the pool.
    pub addresses: Vec<PoolAddressRec>,
}

/// A health probe.
#[derive(Debug)]
pub struct ProbeRec {
    /// Its name.
    pub name: String,
    /// Its protocol.
    pub protocol: ProbeProtocolSpec,
    /// The port probed.
    pub port: i64,
}

/// A load-balancing rule.
#[derive(Debug)]
pub struct LbRuleRec {
    /// Its name.
    pub name: String,
    /// The frontend's name.
    pub frontend: String,
    /// The protocol.
    pub protocol: LbProtocolSpec,
    /// The frontend port (0 for HA ports).
    pub frontend_port: i64,
    /// The backend port (0 for HA ports).
    pub backend_port: i64,
    /// The backend pool's name (the first of `backendAddressPools` when several).
    pub pool: Option<String>,
    /// The probe's name.
    pub probe: Option<String>,
    /// Floating IP.
    pub floating_ip: bool,
    /// `disableOutboundSnat` (absent: false, Azure's default).
    pub disable_outbound_snat: bool,
    /// Where it is.
    pub src: Src,
}

/// An outbound rule (`outboundRules`; Terraform's `azurerm_lb_outbound_rule`), each field with
/// its ARM name's meaning; the builder checks what Azure refuses.
#[derive(Debug)]
pub struct OutboundRuleRec {
    /// Its name.
    pub name: String,
    /// The names of its frontends (`frontendIPConfigurations`, each a reference), with where
    /// each is.
    pub frontends: Vec<(String, Src)>,
    /// The backend pool's name (`backendAddressPool`).
    pub pool: Option<String>,
    /// `protocol`: Tcp, Udp or All.
    pub protocol: LbProtocolSpec,
    /// `allocatedOutboundPorts` (absent: `None`, Azure's default allocation), with where it is.
    pub allocated_ports: Option<(i64, Src)>,
    /// `idleTimeoutInMinutes` (absent: `None`, 4), with where it is.
    pub idle_timeout_minutes: Option<(i64, Src)>,
    /// `enableTcpReset` (absent: false).
    pub tcp_reset: bool,
    /// Where it is.
    pub src: Src,
}

/// An inbound NAT rule (single port, or a port range over a pool) or an inbound NAT pool.
#[derive(Debug)]
pub struct NatRuleRec {
    /// Its name.
    pub name: String,
    /// Whether it is an inbound NAT pool (`inboundNatPools`: scale sets).
    pub is_pool: bool,
    /// The frontend's name.
    pub frontend: String,
    /// The protocol.
    pub protocol: LbProtocolSpec,
    /// The frontend port, or the first of the range.
    pub port_start: i64,
    /// The last port of the range (`None`: a single port).
    pub port_end: Option<i64>,
    /// The backend port.
    pub backend_port: i64,
    /// The backend pool of a port-range rule.
    pub pool: Option<String>,
    /// The IP configuration it forwards to, as `az`/REST output gives it
    /// (`backendIPConfiguration`).
    pub target: Option<(ResourceRef, Src)>,
    /// Floating IP.
    pub floating_ip: bool,
    /// Where it is.
    pub src: Src,
}

const LB: &str = "microsoft.network/loadbalancers";
/// What a Gateway load balancer does that nsgsim does not model.
const GATEWAY: &str = "a Gateway load balancer chains network virtual appliances into the path of the load balancers and public IPs that name it";
/// What a cross-region load balancer does that nsgsim does not model.
const GLOBAL: &str = "a cross-region load balancer forwards to regional load balancers' frontends";

impl Inventory {
    pub(super) fn load_balancer(&mut self, res: usize, r: &Resource, p: &Object, src: &Src) -> Res<()> {
        let names = r.names.as_slice();
        self.check_props(
            LB,
            p,
            &[
                "frontendIPConfigurations",
                "backendAddressPools",
                "loadBalancingRules",
                "probes",
                "inboundNatRules",
                "inboundNatPools",
                "outboundRules",
            ],
            src,
        );
        if !self.define(Kind::LoadBalancer, names, &r.src, res) {
            return Ok(());
        }
        let name = names[0].clone();
        let sku_at = r.src.member(&r.body, "sku");
        let sku_node = r.body.get("sku").or_else(|| p.get("sku")).and_then(Node::as_object);
        let (sku_name, tier) = match sku_node {
            Some(o) => (self.string(o, "name", &sku_at)?, self.string(o, "tier", &sku_at)?),
            None => (None, None),
        };
        let mut unmodelled = None;
        let sku = match sku_name.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("basic") => LbSkuSpec::Basic,
            Some("standard") => LbSkuSpec::Standard,
            Some("gateway") => {
                unmodelled = Some((
                    GATEWAY,
                    format!(
                        "load balancer '{name}' is a Gateway load balancer: {GATEWAY}, which nsgsim does not model"
                    ),
                ));
                LbSkuSpec::Standard
            }
            Some(_) => {
                let value = sku_name.unwrap_or_default();
                return Err(self.diag.invalid(
                    &sku_at,
                    &value,
                    "valid load balancer SKUs: Basic, Standard, Gateway",
                ));
            }
            None => {
                self.diag.warn(&r.src, format!("load balancer '{name}' has no sku: Azure creates a Basic load balancer when none is given (as for public IPs); imported as Basic: open to inbound traffic unless an NSG denies it (Basic load balancers were retired on 30 September 2025)"));
                LbSkuSpec::Basic
            }
        };
        if tier.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("global")) {
            unmodelled = Some((
                GLOBAL,
                format!(
                    "load balancer '{name}' is a cross-region (Global tier) load balancer: {GLOBAL}, which nsgsim does not model"
                ),
            ));
        }
        let mut frontends = Vec::new();
        for (f, fsrc) in self.named_items(p, "frontendIPConfigurations", src, "frontend IP configurations")? {
            frontends.push(self.lb_frontend(f, fsrc)?);
        }
        let mut pools = Vec::new();
        for (node, at) in self.named_items(p, "backendAddressPools", src, "backend address pools")? {
            pools.push(self.lb_pool(node, at)?);
        }
        let mut probes = Vec::new();
        for (node, at) in self.named_items(p, "probes", src, "probes")? {
            probes.push(self.lb_probe(node, at)?);
        }
        let mut rules = Vec::new();
        for (node, at) in self.named_items(p, "loadBalancingRules", src, "load-balancing rules")? {
            rules.push(self.lb_rule(node, at)?);
        }
        let mut nat_rules = Vec::new();
        for (node, at) in self.named_items(p, "inboundNatRules", src, "inbound NAT rules")? {
            nat_rules.push(self.lb_nat_rule(node, at, false)?);
        }
        for (node, at) in self.named_items(p, "inboundNatPools", src, "inbound NAT pools")? {
            nat_rules.push(self.lb_nat_rule(node, at, true)?);
        }
        let mut outbound_rules = Vec::new();
        for (node, at) in self.named_items(p, "outboundRules", src, "outbound rules")? {
            outbound_rules.push(self.lb_outbound_rule(node, at)?);
        }
        self.load_balancers.push(LbRec {
            name,
            sku,
            unmodelled,
            frontends,
            pools,
            probes,
            rules,
            nat_rules,
            outbound_rules,
            src: r.src.clone(),
            res,
        });
        Ok(())
    }

    /// A backend pool declared as a resource of its own.
    pub(super) fn lb_child_pool(&mut self, r: &Resource, res: usize) -> Res<()> {
        let mut pool = self.lb_pool(&r.body, r.src.clone())?;
        pool.name = r.names[1].clone();
        self.lb_child_pools.push(super::Child::of(r, res, pool));
        Ok(())
    }

    /// An inbound NAT rule declared as a resource of its own.
    pub(super) fn lb_child_nat_rule(&mut self, r: &Resource, res: usize) -> Res<()> {
        let mut rule = self.lb_nat_rule(&r.body, r.src.clone(), false)?;
        rule.name = r.names[1].clone();
        self.lb_child_nat_rules.push(super::Child::of(r, res, rule));
        Ok(())
    }

    /// The entries of the list `field` of `p`, each with where it is.
    fn named_items<'n>(
        &self,
        p: &'n Object,
        field: &str,
        src: &Src,
        what: &str,
    ) -> Res<Vec<(&'n Node, Src)>> {
        Ok(match self.list(p, field, src, what)? {
            Some((items, at)) => items.iter().enumerate().map(|(i, n)| (n, at.item(i, n))).collect(),
            None => Vec::new(),
        })
    }

    /// The properties of a child object (a frontend, a rule), or an error saying `what`.
    fn child_props<'n>(&self, node: &'n Node, at: &Src, what: &str) -> Res<(&'n Object, Src)> {
        properties(node, at)
            .ok_or_else(|| self.diag.invalid(at, &node.shown(), format!("expected {what} object")))
    }

    fn lb_frontend(&mut self, node: &Node, at: Src) -> Res<FrontendRec> {
        let (fp, fsrc) = self.child_props(node, &at, "a frontend IP configuration")?;
        self.check_props(
            "frontendIPConfiguration",
            fp,
            &[
                "publicIPAddress",
                "subnet",
                "privateIPAddress",
                "privateIPAllocationMethod",
                "privateIPAddressVersion",
                "gatewayLoadBalancer",
                "publicIPPrefix",
                "loadBalancingRules",
                "inboundNatRules",
                "inboundNatPools",
                "outboundRules",
            ],
            &fsrc,
        );
        let public_ip = self.reference(fp, "publicIPAddress", &fsrc)?;
        let subnet = self.reference(fp, "subnet", &fsrc)?;
        let prefix = self.reference(fp, "publicIPPrefix", &fsrc)?;
        let private_ip = self.string(fp, "privateIPAddress", &fsrc)?.filter(|a| !a.is_empty());
        if let Some(ip) = &private_ip
            && ip.trim().parse::<std::net::IpAddr>().is_err()
        {
            let at = member(fp, "privateIPAddress", &fsrc).1;
            return Err(self.diag.invalid(&at, ip, "not an IP address (valid: e.g. 10.0.1.4)"));
        }
        let gateway =
            fp.member("gatewayLoadBalancer").filter(|(_, n)| !n.is_null()).map(|(k, n)| fsrc.child(k, n));
        Ok(FrontendRec { name: item_name(node), public_ip, subnet, prefix, private_ip, gateway, src: at })
    }

    fn lb_pool(&mut self, node: &Node, at: Src) -> Res<PoolRec> {
        let (pp, psrc) = self.child_props(node, &at, "a backend address pool")?;
        let mut addresses = Vec::new();
        // `az`/REST output: the IP configurations Azure lists as the pool's members.
        for (r, s) in self.references(pp, "backendIPConfigurations", &psrc, "IP configuration references")? {
            addresses.push(PoolAddressRec::IpConfig(r, s));
        }
        if let Some((items, lat)) =
            self.list(pp, "loadBalancerBackendAddresses", &psrc, "backend addresses")?
        {
            for (i, item) in items.iter().enumerate() {
                let iat = lat.item(i, item);
                let (ap, asrc) = self.child_props(item, &iat, "a backend address")?;
                if let Some((r, s)) = self.reference(ap, "networkInterfaceIPConfiguration", &asrc)? {
                    addresses.push(PoolAddressRec::IpConfig(r, s));
                } else if let Some(ip) = self.string(ap, "ipAddress", &asrc)? {
                    let vnet = self.reference(ap, "virtualNetwork", &asrc)?.map(|(r, _)| r);
                    addresses.push(PoolAddressRec::Address { ip, vnet, src: iat });
                } else if let Some((r, s)) =
                    self.reference(ap, "loadBalancerFrontendIPConfiguration", &asrc)?
                {
                    addresses.push(PoolAddressRec::Other(
                        format!("the frontend '{}' of load balancer '{}'", r.name(), r.names[0]),
                        s,
                    ));
                } else {
                    addresses
                        .push(PoolAddressRec::Other(format!("backend address '{}'", item_name(item)), iat));
                }
            }
        }
        Ok(PoolRec { name: item_name(node), addresses })
    }

    fn lb_probe(&mut self, node: &Node, at: Src) -> Res<ProbeRec> {
        let (qp, qsrc) = self.child_props(node, &at, "a probe")?;
        let protocol = match self.string(qp, "protocol", &qsrc)?.map(|s| s.to_ascii_lowercase()).as_deref() {
            None | Some("tcp") => ProbeProtocolSpec::Tcp,
            Some("http") => ProbeProtocolSpec::Http,
            Some("https") => ProbeProtocolSpec::Https,
            Some(other) => {
                let at = member(qp, "protocol", &qsrc).1;
                return Err(self.diag.invalid(&at, other, "valid probe protocols: Tcp, Http, Https"));
            }
        };
        let port = self.lb_port(qp, "port", &qsrc)?.unwrap_or(0);
        Ok(ProbeRec { name: item_name(node), protocol, port })
    }

    fn lb_rule(&mut self, node: &Node, at: Src) -> Res<LbRuleRec> {
        let (rp, rsrc) = self.child_props(node, &at, "a load-balancing rule")?;
        let frontend = self.lb_part(rp, "frontendIPConfiguration", &rsrc)?.unwrap_or_default();
        let mut pool = self.lb_part(rp, "backendAddressPool", &rsrc)?;
        if pool.is_none() {
            pool = self
                .references(rp, "backendAddressPools", &rsrc, "pool references")?
                .first()
                .map(|(r, _)| r.name().to_string());
        }
        Ok(LbRuleRec {
            name: item_name(node),
            frontend,
            protocol: self.lb_protocol(rp, &rsrc)?,
            frontend_port: self.lb_port(rp, "frontendPort", &rsrc)?.unwrap_or(0),
            backend_port: self.lb_port(rp, "backendPort", &rsrc)?.unwrap_or(0),
            pool,
            probe: self.lb_part(rp, "probe", &rsrc)?,
            floating_ip: self.flag(rp, "enableFloatingIP", &rsrc, "load-balancing rule")?.unwrap_or(false),
            disable_outbound_snat: self
                .flag(rp, "disableOutboundSnat", &rsrc, "load-balancing rule")?
                .unwrap_or(false),
            src: at,
        })
    }

    fn lb_outbound_rule(&mut self, node: &Node, at: Src) -> Res<OutboundRuleRec> {
        let (op, osrc) = self.child_props(node, &at, "an outbound rule")?;
        let frontends = self
            .references(op, "frontendIPConfigurations", &osrc, "frontend references")?
            .into_iter()
            .map(|(r, s)| (r.name().to_string(), s))
            .collect();
        let number = |this: &Self, field: &str, valid: &str| -> Res<Option<(i64, Src)>> {
            let Some(text) = this.string(op, field, &osrc)? else { return Ok(None) };
            let at = member(op, field, &osrc).1;
            match text.trim().parse::<i64>() {
                Ok(n) => Ok(Some((n, at))),
                Err(_) => Err(this.diag.invalid(&at, &text, format!("not a whole number; valid: {valid}"))),
            }
        };
        Ok(OutboundRuleRec {
            name: item_name(node),
            frontends,
            pool: self.lb_part(op, "backendAddressPool", &osrc)?,
            protocol: self.lb_protocol(op, &osrc)?,
            allocated_ports: number(self, "allocatedOutboundPorts", "0 or a multiple of 8 up to 64000")?,
            idle_timeout_minutes: number(self, "idleTimeoutInMinutes", "4 to 120")?,
            tcp_reset: self.flag(op, "enableTcpReset", &osrc, "outbound rule")?.unwrap_or(false),
            src: at,
        })
    }

    fn lb_nat_rule(&mut self, node: &Node, at: Src, is_pool: bool) -> Res<NatRuleRec> {
        let (np, nsrc) = self.child_props(node, &at, "an inbound NAT rule")?;
        let range_start = self.lb_port(np, "frontendPortRangeStart", &nsrc)?;
        let (port_start, port_end) = match range_start {
            Some(start) => (start, Some(self.lb_port(np, "frontendPortRangeEnd", &nsrc)?.unwrap_or(start))),
            None => (self.lb_port(np, "frontendPort", &nsrc)?.unwrap_or(0), None),
        };
        Ok(NatRuleRec {
            name: item_name(node),
            is_pool,
            frontend: self.lb_part(np, "frontendIPConfiguration", &nsrc)?.unwrap_or_default(),
            protocol: self.lb_protocol(np, &nsrc)?,
            port_start,
            port_end,
            backend_port: self.lb_port(np, "backendPort", &nsrc)?.unwrap_or(0),
            pool: self.lb_part(np, "backendAddressPool", &nsrc)?,
            target: self.reference(np, "backendIPConfiguration", &nsrc)?,
            floating_ip: self.flag(np, "enableFloatingIP", &nsrc, "inbound NAT rule")?.unwrap_or(false),
            src: at,
        })
    }

    /// The name of the part of this load balancer a reference `{"id": …/<part>/<name>}` at
    /// `field` names (its last name).
    fn lb_part(&self, m: &Object, field: &str, src: &Src) -> Res<Option<String>> {
        Ok(self.reference(m, field, src)?.map(|(r, _)| r.name().to_string()))
    }

    fn lb_protocol(&self, m: &Object, src: &Src) -> Res<LbProtocolSpec> {
        match self.string(m, "protocol", src)?.map(|s| s.to_ascii_lowercase()).as_deref() {
            Some("tcp") => Ok(LbProtocolSpec::Tcp),
            Some("udp") => Ok(LbProtocolSpec::Udp),
            Some("all") => Ok(LbProtocolSpec::All),
            other => {
                let at = member(m, "protocol", src).1;
                Err(self.diag.invalid(
                    &at,
                    other.unwrap_or(""),
                    "valid load balancer protocols: Tcp, Udp, All",
                ))
            }
        }
    }

    /// A port number at `field` (a number or its text); `None` when absent.
    fn lb_port(&self, m: &Object, field: &str, src: &Src) -> Res<Option<i64>> {
        let Some(text) = self.string(m, field, src)? else { return Ok(None) };
        match text.trim().parse::<i64>() {
            Ok(n) if (0..=65535).contains(&n) => Ok(Some(n)),
            _ => Err(self.diag.invalid(
                &member(m, field, src).1,
                &text,
                "not a port; valid: a whole number 0–65535",
            )),
        }
    }
}

/// The `name` of a list entry (a frontend, a rule); empty when it has none.
fn item_name(node: &Node) -> String {
    node.get("name").and_then(Node::as_str).unwrap_or_default().to_string()
}
