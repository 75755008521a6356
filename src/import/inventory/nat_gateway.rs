//! NAT gateways and public IP prefixes: a gateway's SKU, idle timeout, public IPs and prefixes;
//! a prefix's range (`ipPrefix`, known once deployed) or its length (`prefixLength`, all a
//! template says). A subnet's `natGateway` is read with the subnet (`vnet.rs`), a public IP's
//! `publicIPPrefix` with the public IP (`public_ip.rs`).

use super::{Inventory, Res, member};
use crate::import::arm::ResourceRef;
use crate::import::json::Object;
use crate::import::resource::{Kind, Resource};
use crate::import::source::Src;

/// A NAT gateway.
#[derive(Debug)]
pub struct NatGatewayRec {
    /// Its name.
    pub name: String,
    /// `sku.name` (`Standard`, `StandardV2`), when given.
    pub sku: Option<(String, Src)>,
    /// `idleTimeoutInMinutes`, when given, with where it is.
    pub idle_timeout_minutes: Option<(i64, Src)>,
    /// `publicIpAddresses`, with where each reference is.
    pub public_ips: Vec<(ResourceRef, Src)>,
    /// `publicIpPrefixes`, with where each reference is.
    pub prefixes: Vec<(ResourceRef, Src)>,
    /// The resource's index.
    pub res: usize,
    /// Where the gateway is defined: where an error the scenario check finds in it is told.
    pub src: Src,
}

/// A public IP prefix.
#[derive(Debug)]
pub struct PrefixRec {
    /// Its name.
    pub name: String,
    /// `ipPrefix` (the allocated range), when known.
    pub ip_prefix: Option<String>,
    /// `prefixLength`, when given.
    pub prefix_length: Option<u8>,
    /// Where the resource is.
    pub src: Src,
    /// The resource's index.
    pub res: usize,
}

const NAT: &str = "microsoft.network/natgateways";
const PREFIX: &str = "microsoft.network/publicipprefixes";

impl Inventory {
    pub(super) fn nat_gateway(&mut self, res: usize, r: &Resource, p: &Object, src: &Src) -> Res<()> {
        let names = r.names.as_slice();
        if !self.define(Kind::NatGateway, names, &r.src, res) {
            return Ok(());
        }
        self.check_props(
            NAT,
            p,
            &[
                "idleTimeoutInMinutes",
                "publicIpAddresses",
                "publicIpPrefixes",
                // Read-only: the subnets say which gateway they have (`natGateway`).
                "subnets",
                "resourceGuid",
                "publicIpAddressesV6",
                "publicIpPrefixesV6",
            ],
            src,
        );
        let sku_at = r.src.member(&r.body, "sku");
        let sku = match r.body.get("sku").and_then(|s| s.as_object()) {
            Some(o) => self.string(o, "name", &sku_at)?.map(|n| (n, sku_at.clone())),
            None => None,
        };
        let idle_timeout_minutes = match self.string(p, "idleTimeoutInMinutes", src)? {
            None => None,
            Some(text) => {
                let at = member(p, "idleTimeoutInMinutes", src).1;
                match text.trim().parse::<i64>() {
                    Ok(n) => Some((n, at)),
                    Err(_) => {
                        return Err(self.diag.invalid(&at, &text, "not a whole number; valid: 4 to 120"));
                    }
                }
            }
        };
        for v6 in ["publicIpAddressesV6", "publicIpPrefixesV6"] {
            if self.list(p, v6, src, "references")?.is_some_and(|(l, _)| !l.is_empty()) {
                self.diag.warn(
                    &member(p, v6, src).1,
                    format!(
                        "NAT gateway '{}': {v6} is not modelled (nsgsim's NAT gateway translates IPv4); ignored",
                        names[0]
                    ),
                );
            }
        }
        let public_ips = self.references(p, "publicIpAddresses", src, "public IP references")?;
        let prefixes = self.references(p, "publicIpPrefixes", src, "public IP prefix references")?;
        self.nat_gateways.push(NatGatewayRec {
            name: names[0].clone(),
            sku,
            idle_timeout_minutes,
            public_ips,
            prefixes,
            res,
            src: r.src.clone(),
        });
        Ok(())
    }

    pub(super) fn public_ip_prefix(&mut self, res: usize, r: &Resource, p: &Object, src: &Src) -> Res<()> {
        let names = r.names.as_slice();
        if !self.define(Kind::PublicIpPrefix, names, &r.src, res) {
            return Ok(());
        }
        self.check_props(
            PREFIX,
            p,
            &[
                "ipPrefix",
                "prefixLength",
                "publicIPAddressVersion",
                "publicIPAddresses",
                "natGateway",
                "ipTags",
                "customIPPrefix",
                "loadBalancerFrontendIpConfiguration",
                "resourceGuid",
            ],
            src,
        );
        let ip_prefix = self.string(p, "ipPrefix", src)?.filter(|s| !s.is_empty());
        if let Some(text) = &ip_prefix
            && let Err(e) = crate::net::parse_prefix(text)
        {
            return Err(self.diag.invalid(&member(p, "ipPrefix", src).1, text, e.reason));
        }
        let prefix_length = match self.string(p, "prefixLength", src)? {
            None => None,
            Some(text) => {
                let at = member(p, "prefixLength", src).1;
                match text.trim().parse::<u8>() {
                    Ok(n) if n <= 128 => Some(n),
                    _ => {
                        return Err(self.diag.invalid(
                            &at,
                            &text,
                            "not a prefix length; valid: e.g. 28 to 31",
                        ));
                    }
                }
            }
        };
        self.public_ip_prefixes.push(PrefixRec {
            name: names[0].clone(),
            ip_prefix,
            prefix_length,
            src: r.src.clone(),
            res,
        });
        Ok(())
    }
}
