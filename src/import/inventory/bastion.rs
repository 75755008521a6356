//! Azure Bastion hosts: the subnet (so the VNet) they serve, and their public IP.

use super::{Inventory, Res, member, properties};
use crate::import::arm::ResourceRef;
use crate::import::json::Object;
use crate::import::resource::Kind;
use crate::import::source::Src;

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
    pub(super) fn bastion(
        &mut self,
        res: usize,
        names: &[String],
        p: &Object,
        src: &Src,
        rsrc: &Src,
    ) -> Res<()> {
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
        if !self.define(Kind::Bastion, names, rsrc, res) {
            return Ok(());
        }
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
