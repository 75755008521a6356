//! The two ends of a flow written by people (`eval --from/--to`, `Flow` and `Connect` in a
//! timeline, assertion files of `nsgsim test`), resolved together.
//!
//! A name (VM, NIC, public IP, user) means one thing. An address may not: VNets that are not
//! connected may reuse addresses, as Azure lets them (see `model::domain`). An address written as
//! the source is placed where it is; when separate routing domains share it, the other end
//! decides (the one site whose routing domain reaches a VM named as the destination, or routes an
//! address written there), and when it does not, the flow is refused with the candidates and how
//! to choose, never evaluated from the first VNet that holds the address. An address written as
//! the destination is routed from the source, so the source's routing domain decides, except from
//! the host platform address 168.63.129.16, which reaches every VNet.

use std::net::IpAddr;

use crate::model::{NicId, PLATFORM_HOST_ADDRESS, PublicIpId, Site};
use crate::path::{Destination, Source, source_at};

use super::Scenario;

/// Which end of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The source (`from`).
    From,
    /// The destination (`to`).
    To,
}

impl End {
    /// The field's name: `from` or `to`.
    pub fn field(self) -> &'static str {
        match self {
            End::From => "from",
            End::To => "to",
        }
    }
}

/// An end of a flow that does not resolve: unknown, or an address that more than one routing
/// domain holds with nothing to say which one is meant. `Display` names what would be valid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{fault}")]
pub struct EndpointError {
    /// The end at fault.
    pub end: End,
    /// What is wrong with it (boxed: an ambiguous address carries its candidates).
    pub fault: Box<EndpointFault>,
}

/// What is wrong with an end of a flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EndpointFault {
    /// A name nothing has, and not an address.
    Unknown {
        /// The text as written.
        text: String,
        /// The scenario's VMs.
        vms: Vec<String>,
        /// Its users.
        users: Vec<String>,
    },
    /// An address more than one routing domain holds, which the other end does not decide.
    Ambiguous {
        /// The address.
        address: IpAddr,
        /// The user whose `source_ip` it is, when it was written as a user's name.
        user: Option<String>,
        /// Where it is, one label per routing domain (`vm-b (vnet-b)`).
        places: Vec<String>,
        /// Why the other end does not decide.
        other: OtherEnd,
        /// The VMs at the address, which could be named instead.
        vms: Vec<String>,
    },
}

/// Why the other end of a flow does not decide which routing domain an address is in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OtherEnd {
    /// The destination, as written, reaches none of them privately or more than one of them;
    /// another destination could decide.
    Destination {
        /// The destination as written.
        to: String,
        /// Whether it reaches more than one (else none).
        reaches_several: bool,
    },
    /// The source is the host platform's 168.63.129.16, which reaches every VNet.
    PlatformSource,
}

impl std::fmt::Display for EndpointFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EndpointFault::Unknown { text, vms, users } => write!(
                f,
                "'{text}' is not a VM, NIC, public IP, user or IP address; valid: VMs [{}], users [{}], or an IP address",
                vms.join(", "),
                users.join(", ")
            ),
            EndpointFault::Ambiguous { address, user, places, other, vms } => {
                match user {
                    Some(name) => write!(f, "user '{name}' has source_ip {address}, which")?,
                    None => write!(f, "{address}")?,
                }
                write!(f, " is in more than one routing domain: {}; ", places.join(", "))?;
                match other {
                    OtherEnd::Destination { to, reaches_several: false } => {
                        write!(f, "the destination '{to}' reaches none of them privately")?;
                    }
                    OtherEnd::Destination { to, reaches_several: true } => {
                        write!(f, "the destination '{to}' reaches more than one of them")?;
                    }
                    OtherEnd::PlatformSource => f.write_str("the source 168.63.129.16 reaches every VNet")?,
                }
                f.write_str(", so it does not say which is meant; ")?;
                let mut ways = Vec::new();
                if !vms.is_empty() {
                    ways.push(format!("name the VM instead ({})", vms.join(" or ")));
                }
                if matches!(other, OtherEnd::Destination { .. }) {
                    ways.push(
                        "give as the other end a VM, or an address that only one of them reaches".to_string(),
                    );
                }
                if ways.is_empty() {
                    ways.push("give the address of a modelled VM".to_string());
                }
                f.write_str(&ways.join(", or "))
            }
        }
    }
}

/// An end as written, before its address is placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Written {
    Nic(NicId),
    PublicIp(PublicIpId),
    /// An address, and the user whose `source_ip` it is, if it came from a user's name.
    Address(IpAddr, Option<usize>),
}

impl Scenario {
    /// Resolves a flow's source and destination, written as a user's name (their `source_ip`), a
    /// VM's name (its primary NIC), a NIC's name, a public IP's name (destination only) or an
    /// address.
    ///
    /// # Errors
    /// An unknown name, or an address that separate routing domains share when the other end
    /// does not decide which one is meant; the message lists the candidates and how to choose.
    pub fn endpoints(&self, from: &str, to: &str) -> Result<(Source, Destination), EndpointError> {
        let fail = |end, fault| EndpointError { end, fault: Box::new(fault) };
        let src = self.written_source(from).map_err(|m| fail(End::From, m))?;
        let dst = self.written_destination(to).map_err(|m| fail(End::To, m))?;
        let source = match src {
            Written::Nic(n) => Source::Nic(n),
            Written::Address(ip, user) => {
                self.place_source(ip, user, dst, to).map_err(|m| fail(End::From, m))?
            }
            Written::PublicIp(_) => unreachable!("a source is never written as a public IP"),
        };
        let destination = match dst {
            Written::Nic(n) => Destination::Nic(n),
            Written::PublicIp(p) => Destination::PublicIp(p),
            Written::Address(ip, user) => {
                if source == Source::Address(PLATFORM_HOST_ADDRESS) {
                    self.platform_destination(ip, user).map_err(|m| fail(End::To, m))?;
                }
                Destination::Address(ip)
            }
        };
        Ok((source, destination))
    }

    fn written_source(&self, text: &str) -> Result<Written, EndpointFault> {
        if let Some(i) = self.users.iter().position(|u| crate::name::same_name(&u.name, text)) {
            return Ok(Written::Address(self.users[i].source_ip, Some(i)));
        }
        if let Some(nic) = self.nic_of(text) {
            return Ok(Written::Nic(nic));
        }
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(Written::Address(ip, None));
        }
        Err(self.unknown_endpoint(text))
    }

    fn written_destination(&self, text: &str) -> Result<Written, EndpointFault> {
        if let Some(nic) = self.nic_of(text) {
            return Ok(Written::Nic(nic));
        }
        if let Some(p) = self.topology.public_ip_by_name(text) {
            return Ok(Written::PublicIp(p));
        }
        if let Some(i) = self.users.iter().position(|u| crate::name::same_name(&u.name, text)) {
            return Ok(Written::Address(self.users[i].source_ip, Some(i)));
        }
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(Written::Address(ip, None));
        }
        Err(self.unknown_endpoint(text))
    }

    /// The source at address `ip`: the NIC with it, or the address at its site; when separate
    /// routing domains share it, the one whose domain reaches the destination `dst` (written as
    /// `to`).
    fn place_source(
        &self,
        ip: IpAddr,
        user: Option<usize>,
        dst: Written,
        to: &str,
    ) -> Result<Source, EndpointFault> {
        let t = &self.topology;
        if ip == PLATFORM_HOST_ADDRESS {
            return Ok(Source::Address(ip));
        }
        let sites = t.sites_of(ip);
        let site = match sites.as_slice() {
            [] => return Ok(Source::Address(ip)),
            [one] => *one,
            many => {
                let fits: Vec<Site> = many
                    .iter()
                    .copied()
                    .filter(|s| match dst {
                        Written::Nic(n) => t.site_reaches(*s, t.vnet_of_nic(n)),
                        Written::Address(a, _) => t.site_sees(*s, a).is_some(),
                        Written::PublicIp(_) => false,
                    })
                    .collect();
                match fits.as_slice() {
                    [one] => *one,
                    _ => {
                        let other =
                            OtherEnd::Destination { to: to.to_string(), reaches_several: !fits.is_empty() };
                        return Err(self.ambiguous(ip, user, many, other));
                    }
                }
            }
        };
        // An address of one routing domain stays a bare address (the evaluation places it the
        // same way); a shared one carries its site.
        Ok(match source_at(t, ip, site) {
            Source::AddressAt(..) if sites.len() == 1 => Source::Address(ip),
            source => source,
        })
    }

    /// Refuses a destination address of several VNets for a flow from 168.63.129.16, which
    /// reaches every VNet: nothing says which one is meant.
    fn platform_destination(&self, ip: IpAddr, user: Option<usize>) -> Result<(), EndpointFault> {
        let t = &self.topology;
        let sites: Vec<Site> = t.vnets_holding(ip).map(Site::Vnet).collect();
        if sites.len() < 2 {
            return Ok(());
        }
        Err(self.ambiguous(ip, user, &sites, OtherEnd::PlatformSource))
    }

    /// The refusal of `ip` (a user's `source_ip` when `user` is given) at more than one of
    /// `sites`, which the `other` end does not decide.
    fn ambiguous(&self, ip: IpAddr, user: Option<usize>, sites: &[Site], other: OtherEnd) -> EndpointFault {
        let t = &self.topology;
        let places: Vec<String> = sites.iter().map(|s| t.site_label(*s, ip)).collect();
        let vms: Vec<String> = sites
            .iter()
            .filter_map(|s| match s {
                Site::Vnet(v) => t.nic_in_vnet(*v, ip),
                Site::OnPremises(_) => None,
            })
            .map(|n| {
                let nic = t.nic(n);
                nic.vm.map_or_else(|| nic.name.clone(), |vm| t.vm(vm).name.clone())
            })
            .collect();
        EndpointFault::Ambiguous {
            address: ip,
            user: user.map(|i| self.users[i].name.clone()),
            places,
            other,
            vms,
        }
    }

    /// A VM's primary NIC, or the NIC of that name.
    /// How an endpoint written as `text` is printed: the defined spelling of the user, VM, NIC or
    /// public IP it names (names match in any case, as Azure's do; see [`crate::name`]), or the
    /// text itself (an address, or a name nothing has).
    pub fn endpoint_name(&self, text: &str) -> String {
        let t = &self.topology;
        if let Some(u) = self.users.iter().find(|u| crate::name::same_name(&u.name, text)) {
            return u.name.clone();
        }
        t.vm_by_name(text)
            .map(|v| t.vm(v).name.clone())
            .or_else(|| t.nic_by_name(text).map(|n| t.nic(n).name.clone()))
            .or_else(|| t.public_ip_by_name(text).map(|p| t.public_ip(p).name.clone()))
            .unwrap_or_else(|| text.to_string())
    }

    pub(super) fn nic_of(&self, name: &str) -> Option<NicId> {
        match self.topology.vm_by_name(name) {
            Some(vm) => self.topology.primary_nic(vm),
            None => self.topology.nic_by_name(name),
        }
    }

    fn unknown_endpoint(&self, text: &str) -> EndpointFault {
        EndpointFault::Unknown {
            text: text.to_string(),
            vms: self.topology.vm_ids().map(|v| self.topology.vm(v).name.clone()).collect(),
            users: self.users.iter().map(|u| u.name.clone()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Topology;
    use crate::scenario::load_str;
    use std::path::Path;

    fn nic(t: &Topology, name: &str) -> NicId {
        t.nic_by_name(name).expect("a NIC of the test scenario")
    }

    /// Two unpeered VNets with the same space: vm-a1 and vm-a2 in vnet-a, vm-b in vnet-b at
    /// vm-a2's address; vnet-c peered with vnet-b; a gateway to 192.168.0.0/16 on each of a and b.
    const TWINS: &str = r#"Scenario(
        name: "twins",
        start: "2025-01-06T09:00:00Z",
        vnets: [
            Vnet(name: "vnet-a", address_space: ["10.0.0.0/16"], on_premises: ["192.168.0.0/16"], subnets: [Subnet(name: "app", prefix: "10.0.1.0/24")]),
            Vnet(name: "vnet-b", address_space: ["10.0.0.0/16"], on_premises: ["192.168.0.0/16"], subnets: [Subnet(name: "app", prefix: "10.0.1.0/24")]),
            Vnet(name: "vnet-c", address_space: ["10.9.0.0/16"], subnets: [Subnet(name: "app", prefix: "10.9.1.0/24")]),
        ],
        peerings: [("vnet-b", "vnet-c")],
        vms: [
            Vm(name: "vm-a1", os: Linux, nics: [Nic(name: "a1", subnet: "vnet-a/app", private_ip: "10.0.1.4")]),
            Vm(name: "vm-a2", os: Linux, nics: [Nic(name: "a2", subnet: "vnet-a/app", private_ip: "10.0.1.5")]),
            Vm(name: "vm-b", os: Linux, nics: [Nic(name: "b", subnet: "vnet-b/app", private_ip: "10.0.1.5")]),
            Vm(name: "vm-c", os: Linux, nics: [Nic(name: "c", subnet: "vnet-c/app", private_ip: "10.9.1.4")]),
        ],
        users: [User(name: "ops", roles: ["Owner"], source_ip: "10.0.1.5")],
    )"#;

    fn twins() -> Scenario {
        load_str(TWINS, Path::new("twins.ron")).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn an_address_of_one_routing_domain_resolves_as_before() {
        let s = twins();
        let t = &s.topology;
        let ip = |x: &str| x.parse::<IpAddr>().expect("ip");
        assert_eq!(
            s.endpoints("10.0.1.4", "vm-a2"),
            Ok((Source::Nic(nic(t, "a1")), Destination::Nic(nic(t, "a2"))))
        );
        assert_eq!(
            s.endpoints("10.9.1.4", "8.8.8.8"),
            Ok((Source::Nic(nic(t, "c")), Destination::Address(ip("8.8.8.8"))))
        );
        assert_eq!(
            s.endpoints("203.0.113.9", "10.0.1.5"),
            Ok((Source::Address(ip("203.0.113.9")), Destination::Address(ip("10.0.1.5")))),
            "from the Internet a private address is routed nowhere, whichever VNet holds it"
        );
        assert_eq!(s.endpoints("vm-a1", "10.0.1.5").map(|e| e.1), Ok(Destination::Address(ip("10.0.1.5"))));
    }

    #[test]
    fn the_other_end_decides_a_shared_source_address() {
        let s = twins();
        let t = &s.topology;
        let ip = |x: &str| x.parse::<IpAddr>().expect("ip");
        // 10.0.1.5 is vm-a2 in vnet-a and vm-b in vnet-b: the destination's routing domain decides.
        assert_eq!(s.endpoints("10.0.1.5", "vm-a1").map(|e| e.0), Ok(Source::Nic(nic(t, "a2"))));
        assert_eq!(
            s.endpoints("10.0.1.5", "vm-c").map(|e| e.0),
            Ok(Source::Nic(nic(t, "b"))),
            "c is peered with b"
        );
        assert_eq!(
            s.endpoints("ops", "10.9.1.4").map(|e| e.0),
            Ok(Source::Nic(nic(t, "b"))),
            "a user's address too"
        );
        // vm-a1's address is an unmodelled host of vnet-b: toward vm-b it means that host.
        assert_eq!(
            s.endpoints("10.0.1.4", "vm-b").map(|e| e.0),
            Ok(Source::AddressAt(ip("10.0.1.4"), Site::Vnet(t.vnet_by_name("vnet-b").expect("vnet"))))
        );
        // An unmodelled host of both VNets is pinned to the one the destination is in.
        assert_eq!(
            s.endpoints("10.0.1.77", "vm-a1").map(|e| e.0),
            Ok(Source::AddressAt(ip("10.0.1.77"), Site::Vnet(t.vnet_by_name("vnet-a").expect("vnet"))))
        );
        // On-premises behind both gateways: the VM decides.
        assert_eq!(
            s.endpoints("192.168.7.7", "vm-b").map(|e| e.0),
            Ok(Source::AddressAt(
                ip("192.168.7.7"),
                Site::OnPremises(t.vnet_by_name("vnet-b").expect("vnet"))
            ))
        );
    }

    #[test]
    fn a_shared_address_nothing_decides_is_refused_with_the_candidates() {
        let s = twins();
        let e = s.endpoints("10.0.1.5", "8.8.8.8").expect_err("both reach the Internet");
        assert_eq!(e.end, End::From);
        assert!(
            matches!(e.fault.as_ref(), EndpointFault::Ambiguous { user: None, other: OtherEnd::Destination { reaches_several: false, .. }, vms, .. } if vms == &["vm-a2", "vm-b"]),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "10.0.1.5 is in more than one routing domain: vm-a2 (vnet-a), vm-b (vnet-b); the destination '8.8.8.8' reaches none of them privately, so it does not say which is meant; name the VM instead (vm-a2 or vm-b), or give as the other end a VM, or an address that only one of them reaches"
        );
        let e = s.endpoints("ops", "10.0.1.4").expect_err("both VNets hold 10.0.1.4");
        assert!(
            matches!(e.fault.as_ref(), EndpointFault::Ambiguous { user: Some(u), other: OtherEnd::Destination { reaches_several: true, .. }, .. } if u == "ops"),
            "{e:?}"
        );
        assert!(
            e.to_string()
                .starts_with("user 'ops' has source_ip 10.0.1.5, which is in more than one routing domain"),
            "{e}"
        );
        let e = s.endpoints("192.168.7.7", "8.8.8.8").expect_err("two gateways");
        let EndpointFault::Ambiguous { places, vms, .. } = e.fault.as_ref() else { panic!("{e:?}") };
        assert_eq!(
            places,
            &[
                "an on-premises host behind the gateway of vnet-a",
                "an on-premises host behind the gateway of vnet-b"
            ]
        );
        assert!(vms.is_empty(), "no VM has that address: {e}");
        let e = s.endpoints("168.63.129.16", "10.0.1.5").expect_err("the platform reaches both");
        assert_eq!(e.end, End::To);
        assert!(
            matches!(e.fault.as_ref(), EndpointFault::Ambiguous { other: OtherEnd::PlatformSource, places, .. } if places == &["vm-a2 (vnet-a)", "vm-b (vnet-b)"]),
            "{e:?}"
        );
        let e = s.endpoints("vm-a1", "nobody").expect_err("unknown");
        assert_eq!(e.end, End::To);
        assert_eq!(
            *e.fault,
            EndpointFault::Unknown {
                text: "nobody".into(),
                vms: vec!["vm-a1".into(), "vm-a2".into(), "vm-b".into(), "vm-c".into()],
                users: vec!["ops".into()],
            }
        );
    }
}
