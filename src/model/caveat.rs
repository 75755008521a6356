//! Caveats: things that could not be read or modelled and can change traffic (a load balancer,
//! a remote nested template, a reference to a resource that is not in the input, a value only
//! known at deployment), recorded with a scenario so that every answer that depends on them can
//! say so.
//!
//! A tool people gate rollouts on must never give a silent all-clear: an import that skipped a
//! load balancer must not let `lint` print "no findings" alone. The scenario keeps its caveats as
//! data; `report` turns them into the one caveat line every command prints, and each command
//! asks this module which caveats concern its answer.
//!
//! A caveat names what it affects as the VMs, subnets and VNets *whose traffic it can change*
//! (none = everything). It concerns an answer about a VM when it names that VM, one of the VM's
//! subnets or one of its VNets. A flow's answer is concerned when either end is: a caveat that
//! names only `vm-web` does not make an answer about traffic between `vm-db` and the Internet
//! incomplete. Whoever writes a caveat (the importer, or a person) lists every VM whose traffic
//! it can change, including traffic that only passes through the thing skipped; when that is not
//! known, the list is left empty, which concerns every answer.

use std::path::PathBuf;

use super::topology::Topology;
use crate::ids::{NicId, SubnetId, VmId, VnetId};
use crate::position::Position;

/// What kind of gap a caveat records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CaveatKind {
    /// A resource of a type nsgsim does not model that can change traffic (a load balancer's
    /// NAT and load-balancing rules, a NAT gateway, a private endpoint).
    UnmodelledResource,
    /// A nested template that is not local (a `templateLink.uri` on the web), so what it deploys
    /// was not read.
    UnresolvedLink,
    /// A reference to a resource that is not in the input (an NSG, a subnet, a route table
    /// deployed elsewhere).
    UnresolvedReference,
    /// A value known only at deployment (a dynamic private IP, a Key Vault secret) was replaced
    /// by a labelled placeholder.
    Placeholder,
    /// Anything else that can change traffic and is not modelled.
    Other,
}

impl CaveatKind {
    /// Every kind, in the order the documentation lists them.
    pub const ALL: [CaveatKind; 5] = [
        CaveatKind::UnmodelledResource,
        CaveatKind::UnresolvedLink,
        CaveatKind::UnresolvedReference,
        CaveatKind::Placeholder,
        CaveatKind::Other,
    ];

    /// The kind as the scenario file writes it: `UnmodelledResource`, `UnresolvedLink`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            CaveatKind::UnmodelledResource => "UnmodelledResource",
            CaveatKind::UnresolvedLink => "UnresolvedLink",
            CaveatKind::UnresolvedReference => "UnresolvedReference",
            CaveatKind::Placeholder => "Placeholder",
            CaveatKind::Other => "Other",
        }
    }

    /// How a sentence names a caveat of this kind before its resource: `a remote nested template`
    /// for a link; empty for an unmodelled resource or other, whose resource speaks for itself.
    pub fn phrase(self) -> &'static str {
        match self {
            CaveatKind::UnmodelledResource | CaveatKind::Other => "",
            CaveatKind::UnresolvedLink => "a remote nested template",
            CaveatKind::UnresolvedReference => "an unresolved reference to",
            CaveatKind::Placeholder => "a placeholder for",
        }
    }
}

impl std::fmt::Display for CaveatKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something whose traffic a caveat can change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CaveatTarget {
    /// A VM: its NICs' traffic.
    Vm(VmId),
    /// A subnet: the traffic of everything in it.
    Subnet(SubnetId),
    /// A VNet: the traffic of everything in it.
    Vnet(VnetId),
}

/// A name a caveat's `affects` lists, with what it names in the topology (a name that is both a
/// VM and a VNet names both: a caveat errs on the side of concerning more answers, never fewer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Affected {
    /// The name as the scenario writes it: `vm-web`, `prod/web` (a subnet), `prod` (a VNet).
    pub name: String,
    /// What it names; never empty (the loader refuses a name that names nothing).
    pub targets: Vec<CaveatTarget>,
}

/// One thing that could not be read or modelled and can change traffic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caveat {
    /// What kind of gap.
    pub kind: CaveatKind,
    /// The resource concerned, e.g. `Microsoft.Network/loadBalancers/lb-web`, or a template link.
    pub resource: String,
    /// Where it is in the imported input (`azuredeploy.json:120:7`); `None` when not known.
    pub source: Option<CaveatSource>,
    /// Why it matters: what it can do to traffic.
    pub reason: String,
    /// Whose traffic it can change; empty = everything.
    pub affects: Vec<Affected>,
}

/// Where a caveat's resource is in the imported input: a file and, when known, a line and column.
///
/// The scenario format writes it as one string, `file:LINE:COLUMN`; [`CaveatSource::parse`] reads
/// that string once, at load, so that reports (SARIF's locations) use the fields instead of
/// splitting the text again. `Display` writes it back as the scenario wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaveatSource {
    /// The file, as the scenario names it (relative to wherever the import ran).
    pub file: PathBuf,
    /// Its line and column in that file, when the text ends in `:LINE:COLUMN`.
    pub position: Option<Position>,
}

impl CaveatSource {
    /// Reads the scenario's `source` text: `None` when empty; `file:LINE:COLUMN` when the last
    /// two `:`-separated parts are numbers (the file may itself hold `:`, as a Windows drive
    /// letter does: `C:\t\a.json:3:9` is `C:\t\a.json` at 3:9); otherwise the whole text is
    /// the file, with no position.
    pub fn parse(text: &str) -> Option<CaveatSource> {
        if text.is_empty() {
            return None;
        }
        let mut parts = text.rsplitn(3, ':');
        let (column, line, file) = (parts.next(), parts.next(), parts.next());
        let source = match (file, line.and_then(|l| l.parse().ok()), column.and_then(|c| c.parse().ok())) {
            (Some(file), Some(line), Some(column)) => {
                CaveatSource { file: PathBuf::from(file), position: Some(Position::new(line, column)) }
            }
            _ => CaveatSource { file: PathBuf::from(text), position: None },
        };
        Some(source)
    }
}

impl std::fmt::Display for CaveatSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(p) = self.position {
            write!(f, ":{}:{}", p.line, p.column)?;
        }
        Ok(())
    }
}

impl Caveat {
    /// Whether it concerns every answer (its `affects` list is empty).
    pub fn affects_everything(&self) -> bool {
        self.affects.is_empty()
    }

    /// The targets of every name in `affects`.
    fn targets(&self) -> impl Iterator<Item = CaveatTarget> + '_ {
        self.affects.iter().flat_map(|a| a.targets.iter().copied())
    }

    /// Whether it can change the traffic of `nic`: it affects everything, or names the NIC's VM,
    /// its subnet or its VNet.
    pub fn touches_nic(&self, t: &Topology, nic: NicId) -> bool {
        let n = t.nic(nic);
        let subnet = n.subnet;
        let vnet = t.subnet(subnet).vnet;
        self.affects_everything()
            || self.targets().any(|target| match target {
                CaveatTarget::Vm(vm) => n.vm == Some(vm),
                CaveatTarget::Subnet(s) => s == subnet,
                CaveatTarget::Vnet(v) => v == vnet,
            })
    }

    /// Whether it can change the traffic of `vm`: of any of its NICs.
    pub fn touches_vm(&self, t: &Topology, vm: VmId) -> bool {
        self.affects_everything()
            || self.targets().any(|target| target == CaveatTarget::Vm(vm))
            || t.vm(vm).nics.iter().any(|&nic| self.touches_nic(t, nic))
    }

    /// Whether it can change the traffic of an address in `subnet` that is no modelled NIC: it
    /// affects everything, or names the subnet or its VNet.
    pub fn touches_subnet(&self, t: &Topology, subnet: SubnetId) -> bool {
        let vnet = t.subnet(subnet).vnet;
        self.affects_everything()
            || self.targets().any(|target| match target {
                CaveatTarget::Vm(_) => false,
                CaveatTarget::Subnet(s) => s == subnet,
                CaveatTarget::Vnet(v) => v == vnet,
            })
    }

    /// Whether it can change the traffic of an address in `vnet`'s space that is in none of its
    /// subnets: it affects everything, or names the VNet.
    pub fn touches_vnet(&self, vnet: VnetId) -> bool {
        self.affects_everything() || self.targets().any(|target| target == CaveatTarget::Vnet(vnet))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Os;

    fn caveat(affects: Vec<Affected>) -> Caveat {
        Caveat {
            kind: CaveatKind::UnmodelledResource,
            resource: "Microsoft.Network/loadBalancers/lb".into(),
            source: None,
            reason: "load balancers are not modelled".into(),
            affects,
        }
    }

    fn affected(name: &str, target: CaveatTarget) -> Affected {
        Affected { name: name.into(), targets: vec![target] }
    }

    /// Two VNets: `a` with subnets `web` (vm-web) and `db` (vm-db), `b` with `app` (vm-app).
    fn topology() -> (Topology, [VmId; 3], [SubnetId; 3], [VnetId; 2]) {
        let mut t = Topology::new();
        let a = t.add_vnet("a", vec!["10.0.0.0/16".parse().expect("a prefix")]).expect("vnet a");
        let b = t.add_vnet("b", vec!["10.1.0.0/16".parse().expect("a prefix")]).expect("vnet b");
        let web = t.add_subnet(a, "web", "10.0.1.0/24".parse().expect("a prefix")).expect("web");
        let db = t.add_subnet(a, "db", "10.0.2.0/24".parse().expect("a prefix")).expect("db");
        let app = t.add_subnet(b, "app", "10.1.1.0/24".parse().expect("a prefix")).expect("app");
        let mut vms = Vec::new();
        for (name, subnet, ip) in
            [("vm-web", web, "10.0.1.4"), ("vm-db", db, "10.0.2.4"), ("vm-app", app, "10.1.1.4")]
        {
            let vm = t.add_vm(name, Os::Linux, false, ("s", "g")).expect("vm");
            t.add_nic(&format!("{name}-nic"), subnet, ip.parse().expect("an ip"), Some(vm)).expect("nic");
            vms.push(vm);
        }
        (t, [vms[0], vms[1], vms[2]], [web, db, app], [a, b])
    }

    #[test]
    fn an_empty_affects_list_concerns_everything() {
        let (t, vms, subnets, vnets) = topology();
        let c = caveat(Vec::new());
        assert!(c.affects_everything());
        assert!(vms.iter().all(|&vm| c.touches_vm(&t, vm)));
        assert!(subnets.iter().all(|&s| c.touches_subnet(&t, s)));
        assert!(vnets.iter().all(|&v| c.touches_vnet(v)));
    }

    #[test]
    fn a_vm_caveat_concerns_that_vm_only() {
        let (t, [web, db, app], [web_subnet, ..], [a, _]) = topology();
        let c = caveat(vec![affected("vm-web", CaveatTarget::Vm(web))]);
        assert!(c.touches_vm(&t, web));
        assert!(!c.touches_vm(&t, db));
        assert!(!c.touches_vm(&t, app));
        // Another host of the VM's subnet is not the VM.
        assert!(!c.touches_subnet(&t, web_subnet));
        assert!(!c.touches_vnet(a));
    }

    #[test]
    fn a_subnet_or_vnet_caveat_concerns_what_is_inside() {
        let (t, [web, db, app], [web_subnet, db_subnet, app_subnet], [a, b]) = topology();
        let subnet = caveat(vec![affected("a/db", CaveatTarget::Subnet(db_subnet))]);
        assert!(subnet.touches_vm(&t, db) && !subnet.touches_vm(&t, web) && !subnet.touches_vm(&t, app));
        assert!(subnet.touches_subnet(&t, db_subnet) && !subnet.touches_subnet(&t, web_subnet));
        let vnet = caveat(vec![affected("a", CaveatTarget::Vnet(a))]);
        assert!(vnet.touches_vm(&t, web) && vnet.touches_vm(&t, db) && !vnet.touches_vm(&t, app));
        assert!(vnet.touches_subnet(&t, web_subnet) && !vnet.touches_subnet(&t, app_subnet));
        assert!(vnet.touches_vnet(a) && !vnet.touches_vnet(b));
    }

    #[test]
    fn kinds_are_written_as_the_file_writes_them() {
        let names: Vec<&str> = CaveatKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            ["UnmodelledResource", "UnresolvedLink", "UnresolvedReference", "Placeholder", "Other"]
        );
        assert_eq!(CaveatKind::UnresolvedLink.to_string(), "UnresolvedLink");
    }

    #[test]
    fn sources_are_read_once_into_a_file_and_a_position() {
        let at = |file: &str, line, column| {
            Some(CaveatSource { file: file.into(), position: Some(Position::new(line, column)) })
        };
        let whole = |file: &str| Some(CaveatSource { file: file.into(), position: None });
        assert_eq!(CaveatSource::parse(""), None);
        assert_eq!(CaveatSource::parse("azuredeploy.json:120:7"), at("azuredeploy.json", 120, 7));
        // A Windows path keeps its drive letter's ':' in the file.
        assert_eq!(CaveatSource::parse(r"C:\t\main.json:3:9"), at(r"C:\t\main.json", 3, 9));
        assert_eq!(CaveatSource::parse(r"C:\t\main.json"), whole(r"C:\t\main.json"));
        // No position, or one that is not two numbers: the whole text is the file.
        assert_eq!(CaveatSource::parse("main.json"), whole("main.json"));
        assert_eq!(CaveatSource::parse("main.json:12"), whole("main.json:12"));
        assert_eq!(CaveatSource::parse("main.json:x:7"), whole("main.json:x:7"));
        assert_eq!(CaveatSource::parse("main.json:3:"), whole("main.json:3:"));
        assert_eq!(CaveatSource::parse("https://example.com/a.json"), whole("https://example.com/a.json"));
        // Written back as the scenario wrote it.
        for text in ["azuredeploy.json:120:7", r"C:\t\main.json:3:9", "main.json", "main.json:x:7", "a:b"] {
            assert_eq!(CaveatSource::parse(text).map(|s| s.to_string()).as_deref(), Some(text));
        }
    }
}
