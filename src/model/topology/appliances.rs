//! The topology's route tables, Azure Firewalls and Bastion hosts: their checked constructors
//! (Azure's requirements on their subnets and public IPs) and lookups.

use ipnet::IpNet;

use super::super::appliance::{Bastion, BastionId, Firewall, FirewallId, NextHop, RouteTable, RouteTableId};
use super::{
    ApplianceProblem, BASTION_SUBNET, FIREWALL_SUBNET, PublicIpSku, Resource, Topology, TopologyError,
    usable_range,
};
use crate::ids::{PublicIpId, SubnetId, VnetId};

impl Topology {
    /// Adds a route table.
    ///
    /// # Errors
    /// A duplicate name.
    pub fn add_route_table(&mut self, table: RouteTable) -> Result<RouteTableId, TopologyError> {
        if self.route_tables.iter().any(|t| t.name.eq_ignore_ascii_case(&table.name)) {
            return Err(TopologyError::DuplicateName { kind: "route table", name: table.name });
        }
        self.route_tables.push(table);
        Ok(RouteTableId(self.route_tables.len() as u32 - 1))
    }

    /// Associates a route table with a subnet.
    ///
    /// # Errors
    /// On `AzureBastionSubnet`, which does not support UDRs.
    pub fn set_subnet_route_table(
        &mut self,
        subnet: SubnetId,
        table: RouteTableId,
    ) -> Result<(), TopologyError> {
        if self.subnets[subnet.index()].name == BASTION_SUBNET {
            return Err(TopologyError::UdrOnBastionSubnet {
                table: self.route_tables[table.0 as usize].name.clone(),
            });
        }
        self.subnets[subnet.index()].route_table = Some(table);
        Ok(())
    }

    /// Adds an Azure Firewall in its VNet's `AzureFirewallSubnet` at `private_ip`.
    ///
    /// # Errors
    /// A duplicate name, no `AzureFirewallSubnet`, an address outside it, a public IP already
    /// associated with another resource (NIC, firewall or Bastion).
    pub fn add_firewall(
        &mut self,
        mut firewall: Firewall,
        vnet: VnetId,
    ) -> Result<FirewallId, TopologyError> {
        if self.firewalls.iter().any(|f| f.name.eq_ignore_ascii_case(&firewall.name)) {
            return Err(TopologyError::DuplicateName { kind: "firewall", name: firewall.name });
        }
        let vnet_name = self.vnets[vnet.index()].name.clone();
        let missing = |name: String, found: String| TopologyError::ServiceSubnet {
            service: "Azure Firewall",
            name,
            subnet: FIREWALL_SUBNET,
            requirement: "of /26 or larger",
            vnet: vnet_name.clone(),
            found,
        };
        let Some(subnet) = self.subnet_by_name(vnet, FIREWALL_SUBNET) else {
            return Err(missing(firewall.name, String::new()));
        };
        let prefix = self.subnets[subnet.index()].prefix;
        if prefix.prefix_len() > 26 || !matches!(prefix, IpNet::V4(_)) {
            return Err(missing(firewall.name, format!("; found {prefix}")));
        }
        self.check_firewall_subnet(&firewall, subnet)?;
        if !prefix.contains(&firewall.private_ip) {
            return Err(TopologyError::IpOutsideSubnet {
                nic: format!("firewall {}", firewall.name),
                ip: firewall.private_ip,
                subnet: FIREWALL_SUBNET.into(),
                prefix,
            });
        }
        if let Some(p) = firewall.public_ip
            && let Some(holder) = self.public_ip_holder(p)
        {
            return Err(TopologyError::PublicIpInUse {
                public_ip: self.public_ips[p.index()].name.clone(),
                holder,
                resource: format!("firewall '{}'", firewall.name),
            });
        }
        firewall.subnet = subnet;
        self.firewalls.push(firewall);
        Ok(FirewallId(self.firewalls.len() as u32 - 1))
    }

    /// Azure's requirements on the firewall's subnet and public IP, checked when it is added (an
    /// NSG cannot be there: [`Topology::check_subnet_nsg`]): a route table there must send `0.0.0.0/0` to the Internet (Azure's `AzureFirewallSubnetRouteTableMustHaveDefaultRouteToInternet`),
    /// and the public IP must be Standard.
    fn check_firewall_subnet(&self, firewall: &Firewall, subnet: SubnetId) -> Result<(), TopologyError> {
        let resource = || Resource::Firewall(firewall.name.clone());
        let s = &self.subnets[subnet.index()];
        if let Some(rt) = s.route_table {
            let table = &self.route_tables[rt.0 as usize];
            let problem = match table.default_route() {
                None => Some(ApplianceProblem::NoDefaultRoute { table: table.name.clone() }),
                Some(r) if r.next_hop != NextHop::Internet => {
                    Some(ApplianceProblem::DefaultRouteNotInternet {
                        table: table.name.clone(),
                        route: r.name.clone(),
                        next_hop: r.next_hop,
                    })
                }
                Some(_) => None,
            };
            if let Some(problem) = problem {
                return Err(TopologyError::requirement(resource(), problem));
            }
        }
        if let Some(p) = firewall.public_ip {
            self.require_standard_ip(p, resource(), "Azure Firewall")?;
        }
        Ok(())
    }

    fn require_standard_ip(
        &self,
        p: PublicIpId,
        resource: Resource,
        service: &'static str,
    ) -> Result<(), TopologyError> {
        let pip = &self.public_ips[p.index()];
        if pip.sku == PublicIpSku::Standard {
            return Ok(());
        }
        Err(TopologyError::requirement(
            resource,
            ApplianceProblem::NotStandardPublicIp { public_ip: pip.name.clone(), sku: pip.sku, service },
        ))
    }

    /// Adds an Azure Bastion host in `vnet`'s `AzureBastionSubnet` (/26 or larger).
    ///
    /// # Errors
    /// A duplicate name, no suitable `AzureBastionSubnet`, or a public IP already associated
    /// with another resource.
    pub fn add_bastion(
        &mut self,
        name: &str,
        vnet: VnetId,
        public_ip: Option<PublicIpId>,
    ) -> Result<BastionId, TopologyError> {
        if self.bastions.iter().any(|b| b.name.eq_ignore_ascii_case(name)) {
            return Err(TopologyError::DuplicateName { kind: "bastion", name: name.into() });
        }
        let vnet_name = self.vnets[vnet.index()].name.clone();
        let missing = |found: String| TopologyError::ServiceSubnet {
            service: "Azure Bastion",
            name: name.into(),
            subnet: BASTION_SUBNET,
            requirement: "of /26 or larger",
            vnet: vnet_name.clone(),
            found,
        };
        let Some(subnet) = self.subnet_by_name(vnet, BASTION_SUBNET) else {
            return Err(missing(String::new()));
        };
        let prefix = self.subnets[subnet.index()].prefix;
        if prefix.prefix_len() > 26 || !matches!(prefix, IpNet::V4(_)) {
            return Err(missing(format!("; found {prefix}")));
        }
        if let Some(p) = public_ip
            && let Some(holder) = self.public_ip_holder(p)
        {
            return Err(TopologyError::PublicIpInUse {
                public_ip: self.public_ips[p.index()].name.clone(),
                holder,
                resource: format!("bastion '{name}'"),
            });
        }
        if let Some(p) = public_ip {
            self.require_standard_ip(p, Resource::Bastion(name.into()), "Azure Bastion")?;
        }
        let private_ip = usable_range(&prefix).map(|(first, _)| first).unwrap_or(prefix.network());
        self.bastions.push(Bastion { name: name.into(), vnet, subnet, public_ip, private_ip });
        Ok(BastionId(self.bastions.len() as u32 - 1))
    }

    /// A route table.
    pub fn route_table(&self, id: RouteTableId) -> &RouteTable {
        &self.route_tables[id.0 as usize]
    }
    /// A firewall.
    pub fn firewall(&self, id: FirewallId) -> &Firewall {
        &self.firewalls[id.0 as usize]
    }
    /// Mutable access to a firewall (JIT adds DNAT rules).
    pub fn firewall_mut(&mut self, id: FirewallId) -> &mut Firewall {
        &mut self.firewalls[id.0 as usize]
    }
    /// A Bastion host.
    pub fn bastion(&self, id: BastionId) -> &Bastion {
        &self.bastions[id.0 as usize]
    }
    /// Every firewall id.
    pub fn firewall_ids(&self) -> impl Iterator<Item = FirewallId> + '_ {
        (0..self.firewalls.len() as u32).map(FirewallId)
    }
    /// Every Bastion id.
    pub fn bastion_ids(&self) -> impl Iterator<Item = BastionId> + '_ {
        (0..self.bastions.len() as u32).map(BastionId)
    }
    /// Every route table id.
    pub fn route_table_ids(&self) -> impl Iterator<Item = RouteTableId> + '_ {
        (0..self.route_tables.len() as u32).map(RouteTableId)
    }
    /// The route table with this name.
    pub fn route_table_by_name(&self, name: &str) -> Option<RouteTableId> {
        self.route_tables
            .iter()
            .position(|t| t.name.eq_ignore_ascii_case(name))
            .map(|i| RouteTableId(i as u32))
    }
    /// The firewall with this name.
    pub fn firewall_by_name(&self, name: &str) -> Option<FirewallId> {
        self.firewalls.iter().position(|f| f.name.eq_ignore_ascii_case(name)).map(|i| FirewallId(i as u32))
    }
    /// The Bastion host with this name.
    pub fn bastion_by_name(&self, name: &str) -> Option<BastionId> {
        self.bastions.iter().position(|b| b.name.eq_ignore_ascii_case(name)).map(|i| BastionId(i as u32))
    }
    /// The firewall whose public IP resource is `p`.
    pub fn firewall_by_public_ip(&self, p: PublicIpId) -> Option<FirewallId> {
        self.firewalls.iter().position(|f| f.public_ip == Some(p)).map(|i| FirewallId(i as u32))
    }
    /// The Bastion host whose public IP resource is `p`.
    pub fn bastion_by_public_ip(&self, p: PublicIpId) -> Option<BastionId> {
        self.bastions.iter().position(|b| b.public_ip == Some(p)).map(|i| BastionId(i as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ip, net, small};
    use super::*;

    #[test]
    fn bastion_needs_its_subnet_of_at_least_26_without_udr_and_a_standard_ip() {
        let (mut t, v, _) = small();
        let standard = t.add_public_ip("std", ip("20.0.0.1"), PublicIpSku::Standard).expect("pip");
        let basic = t.add_public_ip("basic", ip("20.0.0.2"), PublicIpSku::Basic).expect("pip");
        assert!(matches!(t.add_bastion("b", v, Some(standard)), Err(TopologyError::ServiceSubnet { .. })));
        let small_subnet = t.add_subnet(v, BASTION_SUBNET, net("10.0.2.0/27")).expect("subnet");
        let err = t.add_bastion("b", v, Some(standard)).expect_err("a /27 is too small");
        assert!(err.to_string().contains("found 10.0.2.0/27"), "{err}");
        // A /26 in another VNet: the basic IP is refused, the standard one accepted.
        let v2 = t.add_vnet("v2", vec![net("10.9.0.0/16")]).expect("vnet");
        let good = t.add_subnet(v2, BASTION_SUBNET, net("10.9.0.0/26")).expect("subnet");
        let err = t.add_bastion("b", v2, Some(basic)).expect_err("basic SKU");
        let not_standard = ApplianceProblem::NotStandardPublicIp {
            public_ip: "basic".into(),
            sku: PublicIpSku::Basic,
            service: "Azure Bastion",
        };
        assert_eq!(err.requirement_problem(), Some(&not_standard.into()), "{err}");
        assert!(
            matches!(&err, TopologyError::Requirement { resource: Resource::Bastion(b), .. } if b == "b")
        );
        let b = t.add_bastion("b", v2, Some(standard)).expect("a valid Bastion");
        assert_eq!(t.bastion(b).subnet, good);
        assert_eq!(t.bastion(b).private_ip, ip("10.9.0.4"), "the first usable address");
        // No UDR on AzureBastionSubnet.
        let rt = t.add_route_table(RouteTable { name: "rt".into(), routes: vec![] }).expect("table");
        assert!(matches!(t.set_subnet_route_table(good, rt), Err(TopologyError::UdrOnBastionSubnet { .. })));
        assert!(matches!(
            t.set_subnet_route_table(small_subnet, rt),
            Err(TopologyError::UdrOnBastionSubnet { .. })
        ));
    }

    #[test]
    fn firewall_subnet_refuses_an_nsg_and_a_default_route_not_to_the_internet() {
        use super::super::super::appliance::{FirewallMode, NextHop, Route};
        let firewall = |name: &str| Firewall {
            name: name.into(),
            subnet: SubnetId(0),
            private_ip: ip("10.0.1.4"),
            public_ip: None,
            mode: FirewallMode::Classic,
            groups: vec![],
            legacy_dnat: false,
            private_ranges: crate::model::SnatPrivateRanges::default(),
        };
        let (mut t, v, _) = small();
        let fw_subnet = t.add_subnet(v, FIREWALL_SUBNET, net("10.0.1.0/26"));
        assert!(fw_subnet.is_err(), "overlaps 'web' (10.0.1.0/24)");
        let s = t.add_subnet(v, FIREWALL_SUBNET, net("10.0.2.0/26")).expect("subnet");
        let mut fw = firewall("fw");
        fw.private_ip = ip("10.0.2.4");
        let nsg = t.add_nsg(crate::nsg::Nsg { name: "n".into(), rules: vec![] }).expect("nsg");
        // The association itself is refused, firewall or not, so no firewall ever meets one.
        let err = t.set_subnet_nsg(s, Some(nsg)).expect_err("an NSG on AzureFirewallSubnet");
        assert_eq!(err.requirement_problem(), Some(&ApplianceProblem::NsgOnFirewallSubnet.into()), "{err}");
        let subnet = Resource::Subnet { vnet: "hub".into(), subnet: FIREWALL_SUBNET.into() };
        assert!(matches!(&err, TopologyError::Requirement { resource, .. } if *resource == subnet), "{err}");
        assert_eq!(t.subnet(s).nsg, None);
        t.set_subnet_nsg(s, None).expect("dissociating always works");
        let to_itself = Route {
            name: "d".into(),
            prefix: net("0.0.0.0/0"),
            next_hop: NextHop::VirtualAppliance(ip("10.0.2.4")),
        };
        let rt = t.add_route_table(RouteTable { name: "rt".into(), routes: vec![to_itself] }).expect("table");
        t.set_subnet_route_table(s, rt).expect("associate");
        let err = t.add_firewall(fw.clone(), v).expect_err("a default route back at the firewall");
        let elsewhere = ApplianceProblem::DefaultRouteNotInternet {
            table: "rt".into(),
            route: "d".into(),
            next_hop: NextHop::VirtualAppliance(ip("10.0.2.4")),
        };
        assert_eq!(err.requirement_problem(), Some(&elsewhere.into()), "{err}");
        let empty = t.add_route_table(RouteTable { name: "empty".into(), routes: vec![] }).expect("table");
        t.set_subnet_route_table(s, empty).expect("associate");
        let err = t.add_firewall(fw.clone(), v).expect_err("no default route");
        assert_eq!(
            err.requirement_problem(),
            Some(&ApplianceProblem::NoDefaultRoute { table: "empty".into() }.into())
        );
        let internet = Route { name: "d".into(), prefix: net("0.0.0.0/0"), next_hop: NextHop::Internet };
        let ok = t.add_route_table(RouteTable { name: "ok".into(), routes: vec![internet] }).expect("table");
        t.set_subnet_route_table(s, ok).expect("associate");
        assert!(t.add_firewall(fw, v).is_ok());
    }
}
