//! A NIC's secondary IP configurations: each its own private address, optional public IP and
//! ASG memberships (Microsoft, "Assign multiple IP addresses to virtual machines"). The NIC's own
//! fields stay its primary configuration, which JIT and outbound traffic use.

use std::net::IpAddr;

use super::{MAX_ASGS_PER_NIC, Topology, TopologyError};
use crate::ids::{AsgId, NicId, PublicIpId};

/// A secondary IP configuration of a NIC, in the NIC's subnet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpConfig {
    /// Its name, unique among the NIC's configurations (Azure's `ipConfigurations[].name`).
    pub name: String,
    /// Its private address, inside the NIC's subnet.
    pub private_ip: IpAddr,
    /// The public IP associated with this configuration.
    pub public_ip: Option<PublicIpId>,
    /// The application security groups this configuration is a member of.
    pub asgs: Vec<AsgId>,
}

impl Topology {
    /// Adds a secondary IP configuration to `nic`, in the NIC's subnet, and returns its index in
    /// the NIC's `secondary`.
    ///
    /// # Errors
    /// A name the NIC already uses for a configuration, or an address Azure would refuse (as for
    /// a NIC: outside the subnet, reserved, or already used in the VNet).
    pub fn add_ip_config(
        &mut self,
        nic: NicId,
        name: &str,
        private_ip: IpAddr,
    ) -> Result<usize, TopologyError> {
        let n = &self.nics[nic.index()];
        let label = format!("{}/{name}", n.name);
        if n.secondary.iter().any(|c| c.name == name) {
            return Err(TopologyError::DuplicateName { kind: "IP configuration", name: label });
        }
        self.check_nic_address(&label, n.subnet, private_ip)?;
        let n = &mut self.nics[nic.index()];
        n.secondary.push(IpConfig { name: name.into(), private_ip, public_ip: None, asgs: Vec::new() });
        self.nics_by_ip.entry(private_ip).or_default().push(nic);
        Ok(n.secondary.len() - 1)
    }

    /// Makes secondary configuration `config` of `nic` a member of `asg`.
    ///
    /// # Errors
    /// As [`Topology::join_asg`]: the ASG's members are in another VNet, or the configuration is
    /// in as many ASGs as Azure allows.
    pub fn join_asg_config(&mut self, nic: NicId, config: usize, asg: AsgId) -> Result<(), TopologyError> {
        let label =
            format!("{}/{}", self.nics[nic.index()].name, self.nics[nic.index()].secondary[config].name);
        self.check_asg_vnet(nic, asg, &label)?;
        let nic_vnet = self.vnet_of_nic(nic);
        let c = &mut self.nics[nic.index()].secondary[config];
        if c.asgs.contains(&asg) {
            return Ok(());
        }
        if c.asgs.len() >= MAX_ASGS_PER_NIC {
            return Err(TopologyError::TooManyAsgsOnNic {
                asg: self.asgs[asg.index()].name.clone(),
                nic: label,
                limit: MAX_ASGS_PER_NIC,
            });
        }
        c.asgs.push(asg);
        let a = &mut self.asgs[asg.index()];
        a.vnet = Some(nic_vnet);
        a.config_members.push((nic, config));
        Ok(())
    }

    /// Whether `asg` may take a member in `nic`'s VNet: an ASG's members are all in one VNet.
    /// `member` names the NIC or configuration in the error.
    pub(super) fn check_asg_vnet(&self, nic: NicId, asg: AsgId, member: &str) -> Result<(), TopologyError> {
        let nic_vnet = self.vnet_of_nic(nic);
        let a = &self.asgs[asg.index()];
        match a.vnet {
            Some(v) if v != nic_vnet => Err(TopologyError::AsgVnetMismatch {
                asg: a.name.clone(),
                nic: member.into(),
                asg_vnet: self.vnets[v.index()].name.clone(),
                nic_vnet: self.vnets[nic_vnet.index()].name.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// Associates a public IP with secondary configuration `config` of `nic`.
    ///
    /// # Errors
    /// When the public IP is already associated with another resource.
    pub fn associate_public_ip_config(
        &mut self,
        nic: NicId,
        config: usize,
        public_ip: PublicIpId,
    ) -> Result<(), TopologyError> {
        let n = &self.nics[nic.index()];
        let resource = format!("nic '{}' IP configuration '{}'", n.name, n.secondary[config].name);
        if let Some(holder) = self.public_ip_holder(public_ip) {
            return Err(TopologyError::PublicIpInUse {
                public_ip: self.public_ips[public_ip.index()].name.clone(),
                holder,
                resource,
            });
        }
        let p = &mut self.public_ips[public_ip.index()];
        p.nic = Some(nic);
        p.nic_config = config + 1;
        self.nics[nic.index()].secondary[config].public_ip = Some(public_ip);
        Ok(())
    }

    /// Every private address of `nic`: its primary configuration's first, then its secondary
    /// configurations' in order.
    pub fn nic_addresses(&self, nic: NicId) -> impl Iterator<Item = IpAddr> + '_ {
        let n = &self.nics[nic.index()];
        std::iter::once(n.private_ip).chain(n.secondary.iter().map(|c| c.private_ip))
    }

    /// The NIC and private address a public IP translates to: the private address of the NIC's
    /// IP configuration it is associated with. `None` when it is not associated with a NIC.
    pub fn public_ip_target(&self, public_ip: PublicIpId) -> Option<(NicId, IpAddr)> {
        let p = &self.public_ips[public_ip.index()];
        let nic = p.nic?;
        let n = &self.nics[nic.index()];
        let ip = match p.nic_config {
            0 => n.private_ip,
            i => n.secondary.get(i - 1)?.private_ip,
        };
        Some((nic, ip))
    }

    /// The name of `nic`'s secondary configuration whose address is `ip`, or `None` for the
    /// primary configuration's address (and any other).
    pub fn secondary_config_at(&self, nic: NicId, ip: IpAddr) -> Option<&str> {
        self.nics[nic.index()].secondary.iter().find(|c| c.private_ip == ip).map(|c| c.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ip, small};
    use crate::model::{Os, PublicIpSku, TopologyError};

    #[test]
    fn a_secondary_configuration_has_its_own_address_public_ip_and_asgs() {
        let (mut t, _v, s) = small();
        let vm = t.add_vm("vm", Os::Linux, false, ("sub", "rg")).expect("vm");
        let nic = t.add_nic("nic", s, ip("10.0.1.4"), Some(vm)).expect("nic");
        let c = t.add_ip_config(nic, "ipconfig2", ip("10.0.1.5")).expect("config");
        let asg = t.add_asg("web").expect("asg");
        t.join_asg_config(nic, c, asg).expect("join");
        let pip = t.add_public_ip("pip2", ip("20.0.0.2"), PublicIpSku::Standard).expect("pip");
        t.associate_public_ip_config(nic, c, pip).expect("associate");
        assert_eq!(t.nic_by_private_ip(ip("10.0.1.5")), Some(nic));
        assert_eq!(t.public_ip_target(pip), Some((nic, ip("10.0.1.5"))));
        assert_eq!(t.asg(asg).config_members, vec![(nic, 0)]);
        assert!(t.nic(nic).asgs.is_empty(), "the primary configuration did not join");
        assert_eq!(t.nic_addresses(nic).collect::<Vec<_>>(), vec![ip("10.0.1.4"), ip("10.0.1.5")]);
        assert_eq!(t.secondary_config_at(nic, ip("10.0.1.5")), Some("ipconfig2"));
    }

    #[test]
    fn azure_refuses_a_secondary_address_already_used_or_outside_the_subnet() {
        let (mut t, _v, s) = small();
        let nic = t.add_nic("nic", s, ip("10.0.1.4"), None).expect("nic");
        let _other = t.add_nic("other", s, ip("10.0.1.6"), None).expect("nic");
        assert!(matches!(t.add_ip_config(nic, "c2", ip("10.0.1.6")), Err(TopologyError::DuplicateIp { .. })));
        assert!(matches!(
            t.add_ip_config(nic, "c2", ip("10.9.9.9")),
            Err(TopologyError::IpOutsideSubnet { .. })
        ));
        t.add_ip_config(nic, "c2", ip("10.0.1.7")).expect("config");
        assert!(matches!(
            t.add_ip_config(nic, "c2", ip("10.0.1.8")),
            Err(TopologyError::DuplicateName { .. })
        ));
        assert!(matches!(
            t.add_nic("third", s, ip("10.0.1.7"), None),
            Err(TopologyError::DuplicateIp { .. })
        ));
    }
}
