//! Azure Bastion hosts: the subnet (so the VNet) they serve, and their public IP.
//!
//! The Developer SKU is another thing: "When you use the Developer SKU, a bastion host isn't
//! deployed to your virtual network" (Microsoft Learn, "About Bastion configuration settings").
//! It has no `AzureBastionSubnet`, no IP configuration and no public IP, only
//! `properties.virtualNetwork`; nsgsim's Bastion is the dedicated host, so a Developer Bastion is
//! left out with a caveat (it lets portal users reach the VNet's VMs), never an error that
//! stops the whole import.

use super::{Inventory, Res, member, properties};
use crate::import::arm::ResourceRef;
use crate::import::json::Object;
use crate::import::resource::{Kind, Resource};
use crate::import::source::Src;
use crate::scenario::schema::CaveatKindSpec;

/// A Bastion host.
#[derive(Debug)]
pub struct BastionRec {
    /// Its name.
    pub name: String,
    /// Where the resource is.
    pub src: Src,
    /// Its subnet, with where the reference is.
    pub subnet: (ResourceRef, Src),
    /// Its public IP.
    pub public_ip: Option<(ResourceRef, Src)>,
    /// The resource's index.
    pub res: usize,
}

const BASTION: &str = "microsoft.network/bastionhosts";

impl Inventory {
    pub(super) fn bastion(&mut self, res: usize, r: &Resource, p: &Object, src: &Src) -> Res<()> {
        let (names, rsrc) = (&r.names, &r.src);
        if !self.define(Kind::Bastion, names, rsrc, res) {
            return Ok(());
        }
        let sku = r.body.get("sku").and_then(|s| s.get("name")).and_then(|n| n.as_str()).unwrap_or_default();
        if sku.eq_ignore_ascii_case("Developer")
            || (p.get("ipConfigurations").is_none() && p.get("virtualNetwork").is_some())
        {
            let reason = format!(
                "bastion host '{}' is the Developer SKU: Azure deploys no host into the VNet for it (no AzureBastionSubnet, no public IP) and lets portal users reach the VNet's VMs through a shared service; nsgsim models the dedicated Basic, Standard and Premium hosts only, so it is not imported",
                names[0]
            );
            let resource = format!("Microsoft.Network/bastionHosts/{}", names[0]);
            return self.gap(CaveatKindSpec::UnmodelledResource, resource, rsrc, reason, Vec::new());
        }
        self.check_props(
            BASTION,
            p,
            &[
                "ipConfigurations",
                "dnsName",
                "scaleUnits",
                "enableTunneling",
                "enableIpConnect",
                "enableShareableLink",
                "enableFileCopy",
                "disableCopyPaste",
                "enableKerberos",
                "enableSessionRecording",
            ],
            src,
        );
        let (configs, csrc) = self.required_list(p, "ipConfigurations", src, "IP configurations", || {
            format!("bastion host '{}' has no ipConfigurations", names[0])
        })?;
        let Some((cp, cpsrc)) = configs.first().and_then(|c| properties(c, &csrc.item(0, c))) else {
            return Err(self.diag.invalid(&csrc.at("[0]"), "", "expected an IP configuration object"));
        };
        let subnet = self.reference(cp, "subnet", &cpsrc)?.ok_or_else(|| {
            self.diag.invalid(&member(cp, "subnet", &cpsrc).1, "", "a bastion host needs a subnet")
        })?;
        let public_ip = self.reference(cp, "publicIPAddress", &cpsrc)?;
        self.bastions.push(BastionRec { name: names[0].clone(), src: rsrc.clone(), subnet, public_ip, res });
        Ok(())
    }
}
