//! Network interfaces: each IP configuration's address, subnet, public IP and ASGs (the primary
//! one in the record's own fields, the others in `ip_configs`), and the NIC's NSG.

use std::net::IpAddr;

use super::{Inventory, Res, member, properties};
use crate::import::arm::ResourceRef;
use crate::import::json::{Node, Object};
use crate::import::resource::Kind;
use crate::import::source::Src;

/// A network interface.
#[derive(Debug)]
pub struct NicRec {
    /// Its name.
    pub name: String,
    /// Its subnet, with where the reference is.
    pub subnet: (ResourceRef, Src),
    /// Its private IP address, when given (else the builder allocates one).
    pub private_ip: Option<String>,
    /// Where the private IP is given (or, when it is not, the IP configuration).
    pub ip_src: Src,
    /// Its NSG.
    pub nsg: Option<(ResourceRef, Src)>,
    /// Its public IP.
    pub public_ip: Option<(ResourceRef, Src)>,
    /// Its application security groups.
    pub asgs: Vec<(ResourceRef, Src)>,
    /// The VM it is attached to (in `az` and REST output).
    pub vm: Option<ResourceRef>,
    /// Its secondary IP configurations, in the order written.
    pub ip_configs: Vec<IpConfigRec>,
    /// The name of its primary IP configuration.
    pub primary_config: String,
    /// Its IP configurations' load balancer backend pools, inbound NAT rules and NAT pools.
    pub lb_links: Vec<LbLinkRec>,
    /// Where the resource is.
    pub src: Src,
    /// The resource's index.
    pub res: usize,
}

/// An IP configuration of a network interface (the record keeps the secondary ones).
#[derive(Debug)]
pub struct IpConfigRec {
    /// Its name.
    pub name: String,
    /// Its subnet, with where the reference is (ARM requires one; Azure keeps every
    /// configuration of a NIC in one VNet).
    pub subnet: Option<(ResourceRef, Src)>,
    /// Its private IP address, when given (else the builder allocates one).
    pub private_ip: Option<String>,
    /// Where the private IP is given (or, when it is not, the IP configuration).
    pub ip_src: Src,
    /// Its public IP.
    pub public_ip: Option<(ResourceRef, Src)>,
    /// Its application security groups.
    pub asgs: Vec<(ResourceRef, Src)>,
    /// Its load balancer backend pools, inbound NAT rules and NAT pools.
    pub lb_links: Vec<LbLinkRec>,
}

/// An IP configuration's membership of a load balancer's backend pool, inbound NAT rule or
/// inbound NAT pool (`loadBalancerBackendAddressPools`, `loadBalancerInboundNatRules`,
/// `loadBalancerInboundNatPools`).
#[derive(Clone, Debug)]
pub struct LbLinkRec {
    /// The NIC's IP configuration.
    pub config: String,
    /// The pool, rule or NAT pool (its type says which), with where the reference is.
    pub target: (ResourceRef, Src),
}

const NIC: &str = "microsoft.network/networkinterfaces";

impl Inventory {
    pub(super) fn nic(&mut self, res: usize, names: &[String], p: &Object, src: &Src, rsrc: &Src) -> Res<()> {
        self.check_props(
            NIC,
            p,
            &[
                "ipConfigurations",
                "networkSecurityGroup",
                "virtualMachine",
                "primary",
                "macAddress",
                "enableAcceleratedNetworking",
                "dnsSettings",
                "hostedWorkloads",
                "tapConfigurations",
                "nicType",
                "vnetEncryptionSupported",
                "auxiliaryMode",
                "auxiliarySku",
                "allowPort25Out",
                "defaultOutboundConnectivityEnabled",
            ],
            src,
        );
        if !self.define(Kind::Nic, names, rsrc, res) {
            return Ok(());
        }
        let (configs, csrc) = self.required_list(p, "ipConfigurations", src, "IP configurations", || {
            format!("network interface '{}' has no ipConfigurations", names[0])
        })?;
        if configs.is_empty() {
            return Err(self.diag.invalid(
                &csrc,
                "[]",
                format!(
                    "network interface '{}' has an empty ipConfigurations: a network interface needs at least one IP configuration (its primary)",
                    names[0]
                ),
            ));
        }
        let is_primary = |c: &Node| {
            let props = c.get("properties").filter(|p| p.as_object().is_some()).unwrap_or(c);
            props.get("primary").and_then(Node::as_bool) == Some(true)
        };
        let primary = configs.iter().position(is_primary).unwrap_or(0);
        let mut read = Vec::new();
        for (i, config) in configs.iter().enumerate() {
            read.push(self.ip_config(config, &csrc.item(i, config), &names[0])?);
        }
        let lb_links: Vec<LbLinkRec> = read.iter().flat_map(|c| c.lb_links.iter().cloned()).collect();
        let c = read.remove(primary);
        let subnet = c.subnet.ok_or_else(|| {
            self.diag.invalid(&c.ip_src, "", format!("network interface '{}' has no subnet", names[0]))
        })?;
        let ip_configs = read;
        let nsg = self.reference(p, "networkSecurityGroup", src)?;
        let vm = self.reference(p, "virtualMachine", src)?.map(|(r, _)| r);
        self.nics.push(NicRec {
            name: names[0].clone(),
            subnet,
            private_ip: c.private_ip,
            ip_src: c.ip_src,
            nsg,
            public_ip: c.public_ip,
            asgs: c.asgs,
            vm,
            ip_configs,
            primary_config: c.name,
            lb_links,
            src: src.clone(),
            res,
        });
        Ok(())
    }

    /// One IP configuration of network interface `nic`: its name, subnet, private address (or
    /// none, for dynamic allocation), public IP and ASGs.
    fn ip_config(&mut self, config: &Node, config_src: &Src, nic: &str) -> Res<IpConfigRec> {
        let Some((cp, cpsrc)) = properties(config, config_src) else {
            return Err(self.diag.invalid(
                config_src,
                &config.shown(),
                "expected an IP configuration object",
            ));
        };
        let name = config.get("name").and_then(Node::as_str).unwrap_or("ipconfig").to_string();
        self.check_props(
            "ipConfiguration",
            cp,
            &[
                "privateIPAddress",
                "privateIPAllocationMethod",
                "subnet",
                "publicIPAddress",
                "applicationSecurityGroups",
                "primary",
                "privateIPAddressVersion",
                "privateIPAddressPrefixLength",
                "loadBalancerBackendAddressPools",
                "loadBalancerInboundNatRules",
                "loadBalancerInboundNatPools",
            ],
            &cpsrc,
        );
        let subnet = self.reference(cp, "subnet", &cpsrc)?;
        let method =
            self.string(cp, "privateIPAllocationMethod", &cpsrc)?.unwrap_or_else(|| "Dynamic".into());
        let mut private_ip = self.string(cp, "privateIPAddress", &cpsrc)?;
        // A missing address under Dynamic allocation is said once, by the builder, with the address
        // it assumes (and a Placeholder caveat); only a Static one without an address is odd here.
        if private_ip.is_none() && method.eq_ignore_ascii_case("Static") {
            self.diag.warn(&cpsrc, format!("network interface '{nic}' IP configuration '{name}' has privateIPAllocationMethod Static but no privateIPAddress; nsgsim treats it as Dynamic (a model choice)"));
        }
        if private_ip.as_deref() == Some("") {
            private_ip = None;
        }
        let ip_src =
            if private_ip.is_some() { member(cp, "privateIPAddress", &cpsrc).1 } else { cpsrc.clone() };
        if let Some(ip) = &private_ip
            && ip.trim().parse::<IpAddr>().is_err()
        {
            return Err(self.diag.invalid(&ip_src, ip, "not an IP address (valid: e.g. 10.0.1.4)"));
        }
        let mut asgs = Vec::new();
        if let Some((items, at)) =
            self.list(cp, "applicationSecurityGroups", &cpsrc, "application security groups")?
        {
            for (i, item) in items.iter().enumerate() {
                asgs.push(self.id(item, &at.item(i, item))?);
            }
        }
        let public_ip = self.reference(cp, "publicIPAddress", &cpsrc)?;
        let mut lb_links = Vec::new();
        for field in
            ["loadBalancerBackendAddressPools", "loadBalancerInboundNatRules", "loadBalancerInboundNatPools"]
        {
            for target in self.references(cp, field, &cpsrc, "load balancer references")? {
                lb_links.push(LbLinkRec { config: name.clone(), target });
            }
        }
        Ok(IpConfigRec { name, subnet, private_ip, ip_src, public_ip, asgs, lb_links })
    }
}
