//! Fixtures the JIT engine's unit tests share (one VM with NSGs on its subnet and NIC, users,
//! policies, a request helper, and the checks every refusal must pass).

use std::net::IpAddr;

use crate::model::{NsgId, Os, Topology, User, VmId};
use crate::nsg::{Access, AddressSpec, Direction, Nsg, PortSpec, SecurityRule};
use crate::time::{Duration, Instant};

use super::{
    AllowedSources, JitEngine, JitError, JitOptions, JitOutcome, JitPolicy, JitProtocol, LogStatus,
    PortPolicy, PortRequest, RequestSource, RequestState, RequestStatus, RoleBook, is_jit_rule,
};

pub(super) fn ip(s: &str) -> IpAddr {
    s.parse().expect("valid literal")
}

pub(super) struct Fixture {
    pub(super) topology: Topology,
    pub(super) vm: VmId,
    pub(super) subnet_nsg: NsgId,
    pub(super) nic_nsg: NsgId,
    pub(super) t0: Instant,
}

/// One VM with NSGs on both its subnet and its NIC.
pub(super) fn fixture() -> Fixture {
    let mut t = Topology::new();
    let v = t.add_vnet("v", vec!["10.0.0.0/16".parse().expect("net")]).expect("vnet");
    let s = t.add_subnet(v, "s", "10.0.1.0/24".parse().expect("net")).expect("subnet");
    let subnet_nsg = t.add_nsg(Nsg { name: "subnet-nsg".into(), rules: vec![] }).expect("nsg");
    let nic_nsg = t.add_nsg(Nsg { name: "nic-nsg".into(), rules: vec![] }).expect("nsg");
    t.set_subnet_nsg(s, Some(subnet_nsg)).expect("the subnet takes an NSG");
    let vm = t.add_vm("vm1", Os::Linux, false, ("sub", "rg")).expect("vm");
    let nic = t.add_nic("nic1", s, ip("10.0.1.4"), Some(vm)).expect("nic");
    t.set_nic_nsg(nic, Some(nic_nsg));
    Fixture {
        topology: t,
        vm,
        subnet_nsg,
        nic_nsg,
        t0: Instant::parse("2025-01-01T00:00:00Z").expect("valid"),
    }
}

pub(super) fn user(name: &str, roles: &[&str], source: &str) -> User {
    User { name: name.into(), roles: roles.iter().map(|r| r.to_string()).collect(), source_ip: ip(source) }
}

/// SSH only, from 203.0.113.0/24, for at most `max_secs`.
pub(super) fn ssh_policy(max_secs: i64, approvers: &[&str]) -> JitPolicy {
    JitPolicy {
        ports: vec![PortPolicy {
            number: 22,
            protocol: JitProtocol::Tcp,
            allowed_sources: AllowedSources::Prefixes(vec!["203.0.113.0/24".parse().expect("net")]),
            max_duration: Duration::from_secs(max_secs),
        }],
        approver_roles: approvers.iter().map(|r| r.to_string()).collect(),
    }
}

/// How many JIT rules of `access` `nsg` holds.
pub(super) fn jit_rules(t: &Topology, nsg: NsgId, access: Access) -> usize {
    t.nsg(nsg).rules.iter().filter(|r| is_jit_rule(&r.name) && r.access == access).count()
}

/// An inbound TCP rule for one port.
pub(super) fn rule(
    name: &str,
    priority: u16,
    access: Access,
    port: u16,
    source: AddressSpec,
) -> SecurityRule {
    SecurityRule {
        access,
        source,
        destination_ports: PortSpec::single(port),
        ..SecurityRule::ssh_for_tests(name, priority, Direction::Inbound)
    }
}

pub(super) fn at(t0: Instant, secs: i64) -> Instant {
    t0.plus(Duration::from_secs(secs))
}

/// Requests port `port` of the fixture's VM for `secs` seconds, `at_secs` after the start.
#[expect(clippy::too_many_arguments, reason = "a request's fields, spelt out in each test")]
pub(super) fn ask(
    jit: &mut JitEngine,
    f: &mut Fixture,
    name: &str,
    who: &User,
    port: u16,
    secs: i64,
    source: Option<RequestSource>,
    at_secs: i64,
) -> JitOutcome {
    let now = f.t0.plus(Duration::from_secs(at_secs));
    jit.request(
        &mut f.topology,
        name,
        who,
        vec![PortRequest { vm: f.vm, number: port }],
        Duration::from_secs(secs),
        source,
        None,
        now,
    )
}

pub(super) fn status_of(jit: &JitEngine, name: &str) -> RequestStatus {
    jit.request_status(jit.request_by_name(name).expect("request made"))
}

/// The sources of the JIT allow rules in `nsg`.
pub(super) fn allow_sources(t: &Topology, nsg: NsgId) -> Vec<AddressSpec> {
    t.nsg(nsg)
        .rules
        .iter()
        .filter(|r| is_jit_rule(&r.name) && r.access == Access::Allow)
        .map(|r| r.source.clone())
        .collect()
}

pub(super) fn net(s: &str) -> RequestSource {
    RequestSource::Prefixes(vec![s.parse().expect("valid literal")])
}

/// An engine with the fixture's VM enabled for SSH (max one hour, sources 203.0.113.0/24).
pub(super) fn enabled(options: JitOptions, approvers: &[&str]) -> (Fixture, JitEngine, User) {
    let mut f = fixture();
    let mut jit = JitEngine::new(options, RoleBook::default(), vec![]);
    let owner = user("o", &["Owner"], "203.0.113.1");
    let out = jit.enable(&mut f.topology, f.vm, ssh_policy(3600, approvers).into(), &owner, f.t0);
    assert!(out.accepted(), "{}", out.event);
    (f, jit, owner)
}

/// A refused request writes nothing, is Refused with the reason `is` expects, and is logged as
/// Failed with that reason.
#[track_caller]
pub(super) fn assert_refused(
    jit: &JitEngine,
    f: &Fixture,
    name: &str,
    out: &JitOutcome,
    is: impl Fn(&JitError) -> bool,
) {
    let Some(reason) = out.refusal() else { panic!("not refused: {}", out.event) };
    assert!(is(reason), "unexpected reason {reason:?}");
    assert!(out.new_grants.is_empty() && out.changed_nsgs.is_empty() && out.changes.is_empty());
    assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Allow), 0);
    assert_eq!(status_of(jit, name), RequestStatus::Refused);
    let r = jit.request_by_name(name).expect("recorded");
    assert_eq!(r.state, RequestState::Refused(reason.clone()));
    let last = jit.log().entries().last().expect("logged");
    assert_eq!(
        (last.status, last.operation.as_str()),
        (LogStatus::Failed, "Initiate JIT Network Access Policy")
    );
    assert_eq!(last.detail, reason.to_string());
}
