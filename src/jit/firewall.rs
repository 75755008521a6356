//! JIT behind a classic Azure Firewall: a grant also adds a DNAT rule collection that maps a
//! public port of the firewall to the VM's port (the API's `mappedPort`), and its end removes it.

use std::net::IpAddr;

use crate::model::{CollectionRules, DnatRule, FirewallId, RuleCollection, RuleCollectionGroup, Topology};
use crate::net::{IpProtocol, ProtocolSet};
use crate::time::Instant;

use super::log::{LogKind, LogStatus, SECURITY_RP};
use super::outcome::Effects;
use super::{GrantId, JitEngine, JitProtocol, MappedPort, PortPolicy, RequestSource, RuleChange};

impl JitEngine {
    /// Adds the JIT DNAT rule collection for one grant on a classic firewall; returns where it is.
    #[expect(clippy::too_many_arguments, reason = "the grant's facts a DNAT rule is made of")]
    pub(super) fn write_dnat(
        &mut self,
        topology: &mut Topology,
        fw: FirewallId,
        vm_name: &str,
        vm_ip: IpAddr,
        port: &PortPolicy,
        source: &RequestSource,
        gid: GrantId,
        now: Instant,
        out: &mut Effects,
    ) -> (FirewallId, String, u16) {
        let f = topology.firewall(fw);
        let used: Vec<u16> = f
            .groups
            .iter()
            .flat_map(|g| &g.collections)
            .filter_map(|c| match &c.rules {
                CollectionRules::Dnat(rules) => Some(rules.iter().map(|r| r.destination_port)),
                _ => None,
            })
            .flatten()
            .collect();
        // The API reports the chosen public port as `mappedPort`; nsgsim takes the first free one
        // from 50000 (model choice: Azure's choice is undocumented).
        let mapped = (50000..=u16::MAX).find(|p| !used.contains(p)).unwrap_or(50000);
        let public = f.public_ip.map(|p| topology.public_ip(p).address).unwrap_or(f.private_ip);
        let protocols = match port.protocol {
            JitProtocol::Tcp => ProtocolSet::single(IpProtocol::TCP),
            JitProtocol::Udp => ProtocolSet::single(IpProtocol::UDP),
            JitProtocol::Any => ProtocolSet::of(&[IpProtocol::TCP, IpProtocol::UDP]),
        };
        let collection = format!("JIT-{vm_name}-{}-{}", port.number, gid.0);
        let rule = DnatRule {
            name: format!("JIT-{vm_name}-{}", port.number),
            protocols,
            sources: source.addresses(),
            destination: public,
            destination_port: mapped,
            translated_address: vm_ip,
            translated_port: port.number,
            written_by_jit: true,
        };
        let f = topology.firewall_mut(fw);
        if f.groups.is_empty() {
            f.groups.push(RuleCollectionGroup {
                name: "classic".into(),
                priority: 100,
                collections: Vec::new(),
            });
        }
        let priority = (100..=65000u32)
            .find(|p| !f.groups.iter().flat_map(|g| &g.collections).any(|c| c.priority == *p))
            .unwrap_or(65000);
        f.groups[0].collections.push(RuleCollection {
            name: collection.clone(),
            priority,
            rules: CollectionRules::Dnat(vec![rule]),
        });
        let name = f.name.clone();
        let detail = format!("JIT DNAT {public}:{mapped} -> {vm_ip}:{}", port.number);
        self.record_dnat(now, &name, &collection, detail);
        out.changes.push(RuleChange::DnatAdded {
            firewall: name,
            collection: collection.clone(),
            public_ip: public,
            mapped,
            vm_ip,
            port: port.number,
            priority,
        });
        (fw, collection, mapped)
    }

    /// Removes a grant's DNAT rule collection from the firewall.
    pub(super) fn remove_dnat(
        &mut self,
        topology: &mut Topology,
        fw: FirewallId,
        collection: &str,
        mapped: u16,
        now: Instant,
        out: &mut Effects,
    ) {
        let f = topology.firewall_mut(fw);
        for group in &mut f.groups {
            group.collections.retain(|c| c.name != collection);
        }
        let name = f.name.clone();
        self.record_dnat(now, &name, collection, "JIT DNAT rule removed".into());
        out.changes.push(RuleChange::DnatRemoved { firewall: name, collection: collection.into(), mapped });
    }

    /// Logs a write of a JIT DNAT rule collection, as the Security Resource Provider's.
    fn record_dnat(&mut self, now: Instant, firewall: &str, collection: &str, detail: String) {
        let resource = format!("{firewall}/natRuleCollections/{collection}");
        self.record(
            LogKind::Rule,
            now,
            SECURITY_RP,
            "Create or Update Azure Firewall",
            &resource,
            LogStatus::Succeeded,
            detail,
        );
    }

    /// Where to connect for each of `grants` that is behind a firewall.
    pub(super) fn mapped_ports(&self, topology: &Topology, grants: &[(GrantId, Instant)]) -> Vec<MappedPort> {
        grants
            .iter()
            .filter_map(|(g, _)| {
                let grant = self.grant(*g);
                let (fw, _, mapped) = grant.firewall_rule.as_ref()?;
                let f = topology.firewall(*fw);
                Some(MappedPort {
                    vm: topology.vm(grant.vm).name.clone(),
                    port: grant.port,
                    firewall: f.name.clone(),
                    public_ip: f.public_ip.map(|p| topology.public_ip(p).address),
                    mapped: *mapped,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jit::testing::{ask, fixture, ip, ssh_policy, user};
    use crate::jit::{JitEvent, JitOptions, JitWarning, RoleBook};
    use crate::model::{Firewall, FirewallMode, PublicIpSku, SubnetId};

    #[test]
    fn a_grant_behind_a_classic_firewall_maps_a_public_port_until_it_ends() {
        let mut f = fixture();
        let nic = f.topology.primary_nic(f.vm).expect("a NIC");
        let vnet = f.topology.subnet(f.topology.nic(nic).subnet).vnet;
        f.topology
            .add_subnet(vnet, "AzureFirewallSubnet", "10.0.9.0/26".parse().expect("net"))
            .expect("subnet");
        let pip =
            f.topology.add_public_ip("fw-pip", ip("20.0.0.9"), PublicIpSku::Standard).expect("public IP");
        let firewall = Firewall {
            name: "fw".into(),
            subnet: SubnetId(0),
            private_ip: ip("10.0.9.4"),
            public_ip: Some(pip),
            mode: FirewallMode::Classic,
            groups: Vec::new(),
            legacy_dnat: false,
            private_ranges: crate::model::SnatPrivateRanges::default(),
        };
        let fw = f.topology.add_firewall(firewall, vnet).expect("firewall");
        let mut jit = JitEngine::new(JitOptions::default(), RoleBook::default(), vec![]);
        let owner = user("o", &["Owner"], "203.0.113.1");
        let enabled = jit.enable(&mut f.topology, f.vm, ssh_policy(3600, &[]).into(), &owner, f.t0);
        assert!(
            enabled
                .warnings
                .contains(&JitWarning::BehindFirewall { vm: "vm1".into(), firewall: "fw".into() }),
            "{:?}",
            enabled.warnings
        );
        let out = ask(&mut jit, &mut f, "r", &owner, 22, 600, None, 0);
        let dnat = RuleChange::DnatAdded {
            firewall: "fw".into(),
            collection: "JIT-vm1-22-0".into(),
            public_ip: ip("20.0.0.9"),
            mapped: 50000,
            vm_ip: ip("10.0.1.4"),
            port: 22,
            priority: 100,
        };
        assert_eq!(out.changes.last(), Some(&dnat));
        let JitEvent::Granted(grant) = &out.event else { panic!("expected a grant, got {:?}", out.event) };
        assert_eq!(
            grant.mapped,
            [MappedPort {
                vm: "vm1".into(),
                port: 22,
                firewall: "fw".into(),
                public_ip: Some(ip("20.0.0.9")),
                mapped: 50000
            }]
        );
        let (g, end) = out.new_grants[0];
        assert_eq!(jit.grant(g).firewall_rule, Some((fw, "JIT-vm1-22-0".to_string(), 50000)));
        assert_eq!(f.topology.firewall(fw).groups[0].collections.len(), 1);
        let expired = jit.expire(&mut f.topology, g, end).expect("due");
        assert_eq!(
            expired.changes.last(),
            Some(&RuleChange::DnatRemoved {
                firewall: "fw".into(),
                collection: "JIT-vm1-22-0".into(),
                mapped: 50000
            })
        );
        assert!(f.topology.firewall(fw).groups[0].collections.is_empty());
    }
}
