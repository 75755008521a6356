//! NAT gateways and public IP prefixes into the scenario: a prefix's range (a placeholder from
//! the documentation range 198.51.100.0/24 when only its length is known, recorded as a gap), the
//! public IPs drawn from a prefix, each NAT gateway with its public IPs, prefixes, SKU and idle
//! timeout, and (in `mod.rs`) each subnet's gateway. A reference to something not in the input is
//! a gap that names the subnets whose way out it changes.

use super::Res;
use crate::import::inventory::Inventory;
use crate::scenario::schema::{
    CaveatKindSpec, NatGatewaySpec, NatSkuSpec, PublicIpPrefixSpec, PublicIpSpec, VmSpec, VnetSpec,
};

pub(super) const NAT_GATEWAY: &str = "microsoft.network/natgateways";
pub(super) const PREFIX: &str = "microsoft.network/publicipprefixes";
const PIP: &str = "microsoft.network/publicipaddresses";

impl Inventory {
    /// The public IP prefixes; one whose range is allocated at deployment gets a placeholder of
    /// its length from 198.51.100.0/24, recorded as a gap.
    pub(super) fn public_ip_prefix_specs(&mut self) -> Res<Vec<PublicIpPrefixSpec>> {
        let records = std::mem::take(&mut self.public_ip_prefixes);
        let mut out = Vec::new();
        // The next free address of the placeholder range, as an offset in 198.51.100.0/24.
        let mut next: u32 = 0;
        for q in &records {
            let prefix = match &q.ip_prefix {
                Some(p) => p.clone(),
                None => {
                    let len = q.prefix_length.unwrap_or(28).clamp(24, 32);
                    let size = 1u32 << (32 - u32::from(len));
                    let start = next.div_ceil(size) * size;
                    if start + size > 256 {
                        let reason = format!(
                            "public IP prefix '{}' has no ipPrefix (Azure allocates it at deployment) and the placeholder range 198.51.100.0/24 is used up; not imported",
                            q.name
                        );
                        let resource = format!("Microsoft.Network/publicIPPrefixes/{}", q.name);
                        self.gap(CaveatKindSpec::Placeholder, resource, &q.src, reason, Vec::new())?;
                        continue;
                    }
                    next = start + size;
                    let p = format!("198.51.100.{start}/{len}");
                    let reason = format!(
                        "public IP prefix '{}' has no ipPrefix (Azure allocates it at deployment); imported as the placeholder {p} (its prefixLength), so rules that name its real addresses do not match it",
                        q.name
                    );
                    let resource = format!("ipPrefix of public IP prefix '{}'", q.name);
                    self.gap(CaveatKindSpec::Placeholder, resource, &q.src, reason, Vec::new())?;
                    p
                }
            };
            self.imported(q.res);
            out.push(PublicIpPrefixSpec { name: q.name.clone(), prefix });
        }
        self.public_ip_prefixes = records;
        Ok(out)
    }

    /// Each public IP's `prefix`, from its `publicIPPrefix` when that prefix is imported. A public
    /// IP whose placeholder address is outside its prefix keeps no prefix (it is a placeholder
    /// either way).
    pub(super) fn public_ip_prefix_links(
        &mut self,
        pips: &mut [PublicIpSpec],
        prefixes: &[PublicIpPrefixSpec],
    ) -> Res<()> {
        let records = std::mem::take(&mut self.pips);
        for (rec, spec) in records.iter().zip(pips.iter_mut()) {
            let Some((r, src)) = &rec.prefix else { continue };
            let lost = format!("public IP '{}' is imported without its prefix", rec.name);
            let Some(name) = self.resolve_or_gap(r, src, PREFIX, &lost, Vec::new())? else { continue };
            let inside = prefixes.iter().find(|p| p.name == name).is_some_and(|p| {
                match (crate::net::parse_prefix(&p.prefix), spec.address.parse::<std::net::IpAddr>()) {
                    (Ok(net), Ok(a)) => net.contains(&a),
                    _ => false,
                }
            });
            if inside {
                spec.prefix = Some(name);
            }
        }
        self.pips = records;
        Ok(())
    }

    /// The NAT gateways, each with the public IPs and prefixes of the input it names (one not in
    /// the input is a gap concerning the gateway's subnets).
    ///
    /// A public IP that a NIC of the input also has is left out of the gateway with a caveat:
    /// Azure associates a public IP with one resource only, so the input contradicts itself (the
    /// anonymised batfish export does), and the NIC's association, which decides inbound
    /// traffic, is kept (model choice).
    pub(super) fn nat_gateway_specs(
        &mut self,
        vnets: &[VnetSpec],
        vms: &[VmSpec],
    ) -> Res<Vec<NatGatewaySpec>> {
        let records = std::mem::take(&mut self.nat_gateways);
        let mut out = Vec::new();
        for g in &records {
            // The subnets (`vnet/subnet`) that name this gateway: whose way out a gap changes.
            let affects: Vec<String> = vnets
                .iter()
                .flat_map(|v| {
                    v.subnets
                        .iter()
                        .filter(|s| s.nat_gateway.as_deref() == Some(g.name.as_str()))
                        .map(move |s| format!("{}/{}", v.name, s.name))
                })
                .collect();
            let mut public_ips = Vec::new();
            for (r, src) in &g.public_ips {
                let lost = format!("NAT gateway '{}' is imported without this public IP", g.name);
                let Some(name) = self.resolve_or_gap(r, src, PIP, &lost, affects.clone())? else { continue };
                let holder = vms.iter().flat_map(|v| &v.nics).find(|n| {
                    std::iter::once(&n.public_ip)
                        .chain(n.ip_configs.iter().map(|c| &c.public_ip))
                        .any(|p| p.as_deref() == Some(name.as_str()))
                });
                if let Some(nic) = holder {
                    let reason = format!(
                        "public IP '{name}' is named by NAT gateway '{}' and by nic '{}'; Azure associates a public IP with one resource only, so the input contradicts itself: the NIC keeps it and the gateway is imported without it (model choice), so its subnets' way out may differ",
                        g.name, nic.name
                    );
                    let resource = format!("Microsoft.Network/natGateways/{}", g.name);
                    self.gap(CaveatKindSpec::Other, resource, src, reason, affects.clone())?;
                    continue;
                }
                public_ips.push(name);
            }
            let mut public_ip_prefixes = Vec::new();
            for (r, src) in &g.prefixes {
                let lost = format!("NAT gateway '{}' is imported without this public IP prefix", g.name);
                if let Some(name) = self.resolve_or_gap(r, src, PREFIX, &lost, affects.clone())? {
                    public_ip_prefixes.push(name);
                }
            }
            let sku = match &g.sku {
                None => None,
                Some((s, _)) if s.eq_ignore_ascii_case("standard") => Some(NatSkuSpec::Standard),
                Some((s, _)) if s.eq_ignore_ascii_case("standardv2") => Some(NatSkuSpec::StandardV2),
                Some((s, at)) => {
                    return Err(self.diag.invalid(at, s, "valid NAT gateway SKUs: Standard, StandardV2"));
                }
            };
            self.imported(g.res);
            out.push(NatGatewaySpec {
                name: g.name.clone(),
                public_ips,
                public_ip_prefixes,
                idle_timeout_minutes: g.idle_timeout_minutes.as_ref().map(|(n, _)| *n),
                sku,
            });
        }
        self.nat_gateways = records;
        Ok(out)
    }
}
