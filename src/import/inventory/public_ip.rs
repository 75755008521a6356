//! Public IP addresses: the address (when allocated) and the SKU.

use std::net::IpAddr;

use super::{Inventory, Res, member};
use crate::import::json::{Node, Object};
use crate::import::resource::Kind;
use crate::import::source::Src;
use crate::scenario::schema::SkuSpec;

/// A public IP address.
#[derive(Debug)]
pub struct PipRec {
    /// Its name.
    pub name: String,
    /// Its address, when allocated (templates do not know it).
    pub address: Option<String>,
    /// Its SKU.
    pub sku: SkuSpec,
    /// Where the resource is.
    pub src: Src,
    /// The resource's index.
    pub res: usize,
}

const PIP: &str = "microsoft.network/publicipaddresses";

impl Inventory {
    pub(super) fn public_ip(
        &mut self,
        res: usize,
        names: &[String],
        body: &Node,
        p: &Object,
        src: &Src,
        rsrc: &Src,
    ) -> Res<()> {
        self.check_props(
            PIP,
            p,
            &[
                "ipAddress",
                "publicIPAllocationMethod",
                "publicIPAddressVersion",
                "ipConfiguration",
                "idleTimeoutInMinutes",
                "dnsSettings",
                "ipTags",
                "ddosSettings",
                "natGateway",
            ],
            src,
        );
        if !self.define(Kind::PublicIp, names, rsrc, res) {
            return Ok(());
        }
        let address = self.string(p, "ipAddress", src)?;
        if let Some(a) = address.as_deref().filter(|a| !a.is_empty())
            && a.trim().parse::<IpAddr>().is_err()
        {
            return Err(self.diag.invalid(
                &member(p, "ipAddress", src).1,
                a,
                "not an IP address (valid: e.g. 20.50.1.10)",
            ));
        }
        let sku = match body.get("sku").and_then(|s| s.get("name")).and_then(Node::as_str) {
            Some(s) if s.eq_ignore_ascii_case("basic") => SkuSpec::Basic,
            _ => SkuSpec::Standard,
        };
        self.pips.push(PipRec { name: names[0].clone(), address, sku, src: rsrc.clone(), res });
        Ok(())
    }
}
