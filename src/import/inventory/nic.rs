//! Network interfaces: the primary IP configuration's address, subnet, public IP and ASGs, and
//! the NIC's NSG.

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
    /// Where the resource is.
    pub src: Src,
    /// The resource's index.
    pub res: usize,
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
        let is_primary = |c: &Node| {
            let props = c.get("properties").filter(|p| p.as_object().is_some()).unwrap_or(c);
            props.get("primary").and_then(Node::as_bool) == Some(true)
        };
        let primary = configs.iter().position(is_primary).unwrap_or(0);
        if configs.len() > 1 {
            self.diag.warn(
                &csrc,
                format!(
                    "network interface '{}' has {} IP configurations; nsgsim models the primary one",
                    names[0],
                    configs.len()
                ),
            );
        }
        let Some(config) = configs.get(primary) else {
            return Err(self.diag.invalid(&csrc, "[]", "expected an IP configuration object"));
        };
        let config_src = csrc.item(primary, config);
        let Some((cp, cpsrc)) = properties(config, &config_src) else {
            return Err(self.diag.invalid(
                &config_src,
                &config.shown(),
                "expected an IP configuration object",
            ));
        };
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
            ],
            &cpsrc,
        );
        let subnet = self.reference(cp, "subnet", &cpsrc)?.ok_or_else(|| {
            self.diag.invalid(
                &member(cp, "subnet", &cpsrc).1,
                "",
                format!("network interface '{}' has no subnet", names[0]),
            )
        })?;
        let method =
            self.string(cp, "privateIPAllocationMethod", &cpsrc)?.unwrap_or_else(|| "Dynamic".into());
        let mut private_ip = self.string(cp, "privateIPAddress", &cpsrc)?;
        if private_ip.is_none() {
            self.diag.warn(&cpsrc, format!("network interface '{}' has no privateIPAddress ({method} allocation); nsgsim assigns the subnet's first free address, as Azure's dynamic allocation does", names[0]));
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
        let nsg = self.reference(p, "networkSecurityGroup", src)?;
        let vm = self.reference(p, "virtualMachine", src)?.map(|(r, _)| r);
        self.nics.push(NicRec {
            name: names[0].clone(),
            subnet,
            private_ip,
            ip_src,
            nsg,
            public_ip,
            asgs,
            vm,
            src: src.clone(),
            res,
        });
        Ok(())
    }
}
