//! Converting a scenario's public IP prefixes and NAT gateways (`schema_nat.rs`) into the model,
//! with every error at its field: names resolved, the idle timeout in range, and what Azure
//! refuses (`Topology::add_nat_gateway`, `set_subnet_nat_gateway`, `set_public_ip_prefix`,
//! `nat_gateway_conflict`).

use super::FieldPath;
use super::load::{Fault, Loader, dependent, fault, in_range};
use super::schema::{NatSkuSpec, ScenarioFile};
use crate::model::{NatGateway, NatSku, Topology};
use crate::net::{non_public_range, parse_prefix};

impl Loader<'_> {
    /// The prefixes, the public IPs drawn from them, the NAT gateways and the subnets' gateways
    /// (after the public IPs, before the VMs and load balancers that could claim a gateway's
    /// public IP). Each is its own item.
    pub(super) fn nat_gateways(&self, file: &ScenarioFile, t: &mut Topology) {
        for (qi, q) in file.public_ip_prefixes.iter().enumerate() {
            self.item(&[&q.name], || -> Result<(), Fault> {
                let field = FieldPath::root("public_ip_prefixes").index(qi);
                let prefix = parse_prefix(&q.prefix)
                    .map_err(|e| fault(field.field("prefix"), &q.prefix, e.to_string()))?;
                if let Some(special) = non_public_range(prefix.network()) {
                    return Err(fault(
                        field.field("prefix"),
                        &q.prefix,
                        format!(
                            "public IP prefix '{}': {prefix} is in a non-public range ({}, {}); valid: a public, Internet-routable range such as 20.50.0.0/30",
                            q.name, special.range, special.name
                        ),
                    ));
                }
                t.add_public_ip_prefix(&q.name, prefix).map_err(|e| fault(field.field("prefix"), &q.prefix, e.to_string()))?;
                Ok(())
            });
        }
        for (pi, p) in file.public_ips.iter().enumerate() {
            let Some(name) = &p.prefix else { continue };
            let field = FieldPath::root("public_ips").index(pi).field("prefix");
            self.item(&[&p.name], || -> Result<(), Fault> {
                let pip = t.public_ip_by_name(&p.name).ok_or_else(|| dependent(&field))?;
                let prefix = self.prefix_ref(t, name, &field)?;
                t.set_public_ip_prefix(pip, prefix).map_err(|e| fault(&field, name, e.to_string()))
            });
        }
        for (gi, g) in file.nat_gateways.iter().enumerate() {
            self.item(&[&g.name], || -> Result<(), Fault> {
                let field = FieldPath::root("nat_gateways").index(gi);
                let mut public_ips = Vec::new();
                for (i, name) in g.public_ips.iter().enumerate() {
                    let f = field.field("public_ips").index(i);
                    if self.is_skipped(name) {
                        return Err(dependent(f));
                    }
                    let id = t.public_ip_by_name(name).ok_or_else(|| {
                        fault(&f, name, format!("unknown public IP '{name}'; declare it in public_ips"))
                    })?;
                    public_ips.push(id);
                }
                let mut public_ip_prefixes = Vec::new();
                for (i, name) in g.public_ip_prefixes.iter().enumerate() {
                    public_ip_prefixes.push(self.prefix_ref(t, name, &field.field("public_ip_prefixes").index(i))?);
                }
                let idle_timeout_minutes = match g.idle_timeout_minutes {
                    None => 4,
                    Some(v) => in_range(v, 4u16, 120).ok_or_else(|| {
                        fault(
                            field.field("idle_timeout_minutes"),
                            v.to_string(),
                            format!(
                                "a TCP idle timeout of {v} minutes is outside a NAT gateway's range; valid: 4 to 120 minutes (\"A NAT gateway provides a configurable idle timeout range of 4 minutes to 120 minutes for TCP protocols\")"
                            ),
                        )
                    })?,
                };
                let sku = match g.sku {
                    Some(NatSkuSpec::StandardV2) => NatSku::StandardV2,
                    Some(NatSkuSpec::Standard) | None => NatSku::Standard,
                };
                t.add_nat_gateway(NatGateway {
                    name: g.name.clone(),
                    sku,
                    public_ips,
                    public_ip_prefixes,
                    idle_timeout_minutes,
                })
                .map_err(|e| fault(&field, &g.name, e.to_string()))?;
                Ok(())
            });
        }
        for (vi, v) in file.vnets.iter().enumerate() {
            let Some(vnet) = t.vnet_by_name(&v.name).filter(|_| !self.is_skipped(&v.name)) else { continue };
            for (si, s) in v.subnets.iter().enumerate() {
                let Some(name) = &s.nat_gateway else { continue };
                let Some(subnet) = t.subnet_by_name(vnet, &s.name) else { continue };
                let field =
                    FieldPath::root("vnets").index(vi).field("subnets").index(si).field("nat_gateway");
                self.item(&[], || -> Result<(), Fault> {
                    if self.is_skipped(name) {
                        return Err(dependent(&field));
                    }
                    let gw = t.nat_gateway_by_name(name).ok_or_else(|| {
                        let known: Vec<&str> = file.nat_gateways.iter().map(|g| g.name.as_str()).collect();
                        fault(
                            &field,
                            name,
                            format!(
                                "unknown NAT gateway '{name}'; valid: {}",
                                if known.is_empty() {
                                    "none (declare it in nat_gateways)".into()
                                } else {
                                    known.join(", ")
                                }
                            ),
                        )
                    })?;
                    t.set_subnet_nat_gateway(subnet, gw).map_err(|e| fault(&field, name, e.to_string()))
                });
            }
        }
    }

    /// Once NICs and load balancers are in: a subnet's NAT gateway beside a Basic public IP or a
    /// Basic load balancer's member is refused at the subnet's `nat_gateway`.
    pub(super) fn nat_gateway_conflicts(&self, file: &ScenarioFile, t: &Topology) {
        for (vi, v) in file.vnets.iter().enumerate() {
            let Some(vnet) = t.vnet_by_name(&v.name) else { continue };
            for (si, s) in v.subnets.iter().enumerate() {
                let (Some(name), Some(subnet)) = (&s.nat_gateway, t.subnet_by_name(vnet, &s.name)) else {
                    continue;
                };
                if let Some(problem) = t.nat_gateway_conflict(subnet) {
                    self.refuse_item(
                        fault(
                            FieldPath::root("vnets")
                                .index(vi)
                                .field("subnets")
                                .index(si)
                                .field("nat_gateway"),
                            name,
                            problem.to_string(),
                        ),
                        &[],
                    );
                }
            }
        }
    }

    fn prefix_ref(
        &self,
        t: &Topology,
        name: &str,
        field: &FieldPath,
    ) -> Result<crate::model::PublicIpPrefixId, Fault> {
        if self.is_skipped(name) {
            return Err(dependent(field));
        }
        t.public_ip_prefix_by_name(name).ok_or_else(|| {
            fault(field, name, format!("unknown public IP prefix '{name}'; declare it in public_ip_prefixes"))
        })
    }
}
