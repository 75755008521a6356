//! Virtual Network Manager into the scenario: network groups with their static members (VNets
//! by scenario name), security admin configurations with their rule collections and rules.
//!
//! A configuration takes effect only once deployed to a region ("Configurations don't take
//! effect until they're deployed"), and a deployment is a commit (a POST), not a resource a
//! template or an export holds. The import's rule (model choice, docs/fidelity.md): every
//! configuration is imported as deployed, and that assumption is a caveat of the scenario
//! affecting the VNets of its groups (`--strict`: an error), so that no answer hides it.

use super::{Inventory, Res, VNET};
use crate::import::inventory::AvnmRecs;
use crate::scenario::schema::{
    AdminConfigurationSpec, AdminRuleCollectionSpec, CaveatKindSpec, NetworkGroupSpec,
};

const GROUP: &str = "Microsoft.Network/networkManagers/networkGroups";

/// Whether two name chains are the same resource's (Azure compares names without case).
fn same(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
}

impl Inventory {
    /// The network groups and security admin configurations of the input.
    pub(super) fn avnm_specs(&mut self) -> Res<(Vec<NetworkGroupSpec>, Vec<AdminConfigurationSpec>)> {
        let recs = std::mem::take(&mut self.avnm);
        let out = self.avnm_from(&recs);
        self.avnm = recs;
        out
    }

    fn avnm_from(&mut self, recs: &AvnmRecs) -> Res<(Vec<NetworkGroupSpec>, Vec<AdminConfigurationSpec>)> {
        for (_, _, res) in &recs.managers {
            self.imported(*res);
        }
        // Groups: the scenario name is the group's, or manager/group when two managers share it.
        let mut groups: Vec<(Vec<String>, NetworkGroupSpec)> = Vec::new();
        for g in &recs.groups {
            let clash =
                recs.groups.iter().filter(|o| o.names[1].eq_ignore_ascii_case(&g.names[1])).count() > 1;
            let name = if clash { g.names.join("/") } else { g.names[1].clone() };
            let mut vnets = Vec::new();
            for m in recs.members.iter().filter(|m| same(&m.names[..2], &g.names)) {
                let lost = format!("network group '{name}' is imported without this member");
                if let Some(vnet) = self.resolve_or_gap(&m.vnet.0, &m.vnet.1, VNET, &lost, Vec::new())? {
                    vnets.push(vnet);
                    self.imported(m.res);
                }
            }
            self.imported(g.res);
            groups.push((g.names.clone(), NetworkGroupSpec { name, vnets }));
        }
        let mut configs = Vec::new();
        for c in &recs.configs {
            let mut collections = Vec::new();
            let mut affected: Vec<String> = Vec::new();
            for k in recs.collections.iter().filter(|k| same(&k.names[..2], &c.names)) {
                let mut applies_to = Vec::new();
                for (r, src) in &k.applies_to {
                    match groups
                        .iter()
                        .find(|(names, _)| r.kind.eq_ignore_ascii_case(GROUP) && same(names, &r.names))
                    {
                        Some((_, g)) => {
                            applies_to.push(g.name.clone());
                            affected.extend(g.vnets.iter().cloned());
                        }
                        None => {
                            let reason = format!(
                                "network group '{}' is not in the input: the admin rules of collection '{}' are not applied to its VNets",
                                r.names.join("/"),
                                k.names[2]
                            );
                            let resource = format!("{}/{}", r.kind, r.names.join("/"));
                            self.gap(CaveatKindSpec::UnresolvedReference, resource, src, reason, Vec::new())?;
                        }
                    }
                }
                if applies_to.is_empty() {
                    continue;
                }
                let rules: Vec<_> = recs
                    .rules
                    .iter()
                    .filter(|r| same(&r.names[..3], &k.names))
                    .map(|r| (r.res, r.spec.clone()))
                    .collect();
                for (res, _) in &rules {
                    self.imported(*res);
                }
                self.imported(k.res);
                let mut rules: Vec<_> = rules.into_iter().map(|(_, spec)| spec).collect();
                rules.sort_by_key(|r| r.priority);
                collections.push(AdminRuleCollectionSpec { name: k.names[2].clone(), applies_to, rules });
            }
            affected.sort();
            affected.dedup();
            self.imported(c.res);
            // A deployment the input records decides; else the configuration is assumed deployed.
            let recorded: Vec<_> = recs
                .deployments
                .iter()
                .filter(|d| d.network_manager.eq_ignore_ascii_case(&c.names[0]))
                .collect();
            if !recorded.is_empty() {
                let deployed = recorded.iter().any(|d| d.configurations.iter().any(|n| same(n, &c.names)));
                configs.push(AdminConfigurationSpec {
                    name: c.names[1].clone(),
                    network_manager: Some(c.names[0].clone()),
                    deployed: Some(deployed),
                    rule_collections: collections,
                });
                continue;
            }
            let reason = format!(
                "security admin configuration '{}' of network manager '{}' is imported as deployed: a configuration takes effect only once deployed to a region (a commit, which the input does not record); nsgsim assumes it is (model choice), set deployed: false to see the VNets without it",
                c.names[1], c.names[0]
            );
            let resource = format!(
                "Microsoft.Network/networkManagers/{}/securityAdminConfigurations/{}",
                c.names[0], c.names[1]
            );
            self.gap(CaveatKindSpec::Other, resource, &c.src, reason, affected)?;
            configs.push(AdminConfigurationSpec {
                name: c.names[1].clone(),
                network_manager: Some(c.names[0].clone()),
                deployed: Some(true),
                rule_collections: collections,
            });
        }
        Ok((groups.into_iter().map(|(_, g)| g).collect(), configs))
    }
}
