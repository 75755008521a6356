//! Public IP addresses: the address (when allocated) and the SKU, as Azure defaults it.
//!
//! The SKU decides whether the address is open (Basic: open unless an NSG denies) or closed
//! (Standard: closed unless an NSG allows), so a default taken wrongly is a wrong answer. Azure's
//! rule (docs/fidelity.md, "Public IPs and reachability"): a public IP created without `sku` is
//! Basic, whatever the API version (SKUs arrived with API version 2017-08-01; every public IP
//! created before is Basic, and no later API version is documented to change the default);
//! a Standard public IP is always static, so `publicIPAllocationMethod: Dynamic` is a Basic one.

use std::net::IpAddr;

use super::{Inventory, Res, member};
use crate::import::arm::ResourceRef;
use crate::import::json::{Node, Object};
use crate::import::resource::{Kind, Resource};
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
    /// The public IP prefix it is allocated from, with where the reference is.
    pub prefix: Option<(ResourceRef, Src)>,
    /// Where the resource is.
    pub src: Src,
    /// The resource's index.
    pub res: usize,
}

const PIP: &str = "microsoft.network/publicipaddresses";

/// The SKU Azure gives a public IP created without one, written with API version
/// `api_version` (`None`: not known, as in `az` output) and allocation method `allocation`:
/// Basic, and why. The API version is an argument so that the rule has one place to change if
/// Microsoft documents a later API version that defaults to Standard.
pub fn default_sku(api_version: Option<&str>, allocation: Option<&str>) -> (SkuSpec, String) {
    let version =
        api_version.map_or_else(|| "no API version given".to_string(), |v| format!("API version {v}"));
    if allocation.is_some_and(|a| a.eq_ignore_ascii_case("dynamic")) {
        return (
            SkuSpec::Basic,
            format!(
                "no sku and Dynamic allocation ({version}): only a Basic public IP can be dynamic (a Standard one is always static), so Azure makes it Basic"
            ),
        );
    }
    (
        SkuSpec::Basic,
        format!(
            "no sku ({version}): Azure creates a Basic public IP when none is given (no API version is documented to default to Standard)"
        ),
    )
}

impl Inventory {
    pub(super) fn public_ip(&mut self, res: usize, r: &Resource, p: &Object, src: &Src) -> Res<()> {
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
                "publicIPPrefix",
                "deleteOption",
                "migrationPhase",
                "linkedPublicIPAddress",
                "servicePublicIPAddress",
            ],
            src,
        );
        let names = r.names.as_slice();
        if !self.define(Kind::PublicIp, names, &r.src, res) {
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
        // Only the two values matter here; one an expression makes offline is no reason to fail.
        let allocation = p.get("publicIPAllocationMethod").and_then(Node::as_str).map(str::to_string);
        // `sku` is a top-level member in templates and REST output; `az` prints it there too.
        let sku_node = r.body.get("sku").or_else(|| p.get("sku"));
        let sku_at = r.src.member(&r.body, "sku");
        let sku_name = match sku_node.and_then(Node::as_object) {
            Some(o) => self.string(o, "name", &sku_at)?,
            None => None,
        };
        let sku = match sku_name.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("basic") => SkuSpec::Basic,
            Some("standard") => SkuSpec::Standard,
            Some("standardv2") => {
                self.diag.warn(
                    &sku_at,
                    format!(
                        "public IP '{}' has sku StandardV2; nsgsim models it as Standard (closed to inbound traffic unless an NSG allows it)",
                        names[0]
                    ),
                );
                SkuSpec::Standard
            }
            Some(_) => {
                let name = sku_name.unwrap_or_default();
                return Err(self.diag.invalid(
                    &sku_at,
                    &name,
                    "valid public IP SKUs: Basic, Standard, StandardV2",
                ));
            }
            None => {
                let (sku, why) = default_sku(r.api_version(), allocation.as_deref());
                self.diag.warn(
                    &r.src,
                    format!(
                        "public IP '{}': {why}; imported as Basic: open to inbound traffic unless an NSG denies it (Basic public IPs were retired on 30 September 2025; new ones cannot be created since 31 March 2025)",
                        names[0]
                    ),
                );
                sku
            }
        };
        if matches!(sku, SkuSpec::Standard)
            && allocation.as_deref().is_some_and(|a| a.eq_ignore_ascii_case("dynamic"))
        {
            return Err(self.diag.invalid(
                &member(p, "publicIPAllocationMethod", src).1,
                "Dynamic",
                format!(
                    "public IP '{}' is Standard SKU with Dynamic allocation; Azure refuses it (a Standard public IP must have allocation method Static)",
                    names[0]
                ),
            ));
        }
        let prefix = self.reference(p, "publicIPPrefix", src)?;
        self.pips.push(PipRec { name: names[0].clone(), address, sku, prefix, src: r.src.clone(), res });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_ip_without_sku_is_basic() {
        let (sku, why) = default_sku(Some("2023-05-01"), Some("Dynamic"));
        assert!(matches!(sku, SkuSpec::Basic));
        assert!(
            why.contains("only a Basic public IP can be dynamic") && why.contains("API version 2023-05-01"),
            "{why}"
        );
        let (sku, why) = default_sku(Some("2024-05-01"), Some("Static"));
        assert!(matches!(sku, SkuSpec::Basic));
        assert!(why.starts_with("no sku (API version 2024-05-01): Azure creates a Basic public IP"), "{why}");
        let (sku, why) = default_sku(None, None);
        assert!(matches!(sku, SkuSpec::Basic));
        assert!(why.contains("no API version given"), "{why}");
    }
}
