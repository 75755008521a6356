//! Converting the JIT parts of a scenario: options, scoped policies, JIT actions and
//! expectations.

use super::FieldPath;
use super::load::{Fault, Loader, Scenario, dependent, fault, in_range};
use super::schema::{
    ActionSpec, ExpectSpec, JitPolicySpec, JitPortSpec, JitProtocolSpec, JitStatusSpec, NsgLevelsSpec,
    OptionsSpec, RequestStatusSpec, ScopeSpec,
};
use crate::jit::{
    ActiveGrant, AllowedSources, DEFAULT_MAX_DURATION, JitOptions, JitPolicy, JitProtocol, MAX_MAX_DURATION,
    MIN_MAX_DURATION, NsgLevels, PolicyChange, PolicyScope, PortPolicy, PortRequest, RequestSource,
    RequestStatus, RoleBook, ScopedPolicy,
};
use crate::model::{Topology, VmId};
use crate::net::parse_prefix;
use crate::sim::{Action, Duration, Expectation, Instant, SETUP_PRINCIPAL};

impl Loader<'_> {
    pub(super) fn options(&self, o: &OptionsSpec, t: &Topology) -> Result<JitOptions, Fault> {
        let mut disabled = Vec::new();
        for (i, s) in o.jit_disabled_scopes.iter().enumerate() {
            disabled.push(self.scope(
                s,
                t,
                &FieldPath::root("options").field("jit_disabled_scopes").index(i),
            )?);
        }
        Ok(JitOptions {
            levels: match o.jit_nsg_levels {
                Some(NsgLevelsSpec::Both) | None => NsgLevels::Both,
                Some(NsgLevelsSpec::NicOnly) => NsgLevels::NicOnly,
                Some(NsgLevelsSpec::SubnetOnly) => NsgLevels::SubnetOnly,
            },
            strict_deny_placement: o.jit_strict_deny_placement,
            keep_deny_rules_on_disable: o.jit_keep_deny_rules_on_disable,
            expiry_drops_sessions: o.jit_expiry_drops_sessions,
            defender_plan2: o.defender_for_servers_plan2.unwrap_or(true),
            disabled_scopes: disabled,
            allow_self_approval: o.jit_allow_self_approval,
        })
    }

    fn scope(&self, s: &ScopeSpec, t: &Topology, field: &FieldPath) -> Result<PolicyScope, Fault> {
        Ok(match s {
            ScopeSpec::Subscription(name) => PolicyScope::Subscription(name.clone()),
            ScopeSpec::ResourceGroup(name) => PolicyScope::ResourceGroup(name.clone()),
            ScopeSpec::Vm(name) => {
                self.vm(t, name, field)?;
                PolicyScope::Vm(name.clone())
            }
        })
    }

    pub(super) fn scoped_policies(
        &self,
        specs: &[JitPolicySpec],
        t: &Topology,
        roles: &RoleBook,
    ) -> Result<Vec<ScopedPolicy>, Fault> {
        let mut out = Vec::new();
        for (i, p) in specs.iter().enumerate() {
            let field = FieldPath::root("jit_policies").index(i);
            let scope = self.scope(&p.scope, t, &field.field("scope"))?;
            let policy = self.policy(p.ports.as_deref(), Some(&p.approvers), roles, &field)?;
            let active_grants = self.active_grants(p, &scope, &policy, t, &field)?;
            if let Some(from) = &p.in_force_from
                && !p.enable_at_start
            {
                return Err(fault(
                    field.field("in_force_from"),
                    from,
                    "a policy in force is taken over at the start; add enable_at_start: true",
                ));
            }
            out.push(ScopedPolicy {
                name: p.name.clone(),
                scope,
                policy,
                enable_at_start: p.enable_at_start,
                in_force_from: p.in_force_from.clone(),
                active_grants,
            });
        }
        Ok(out)
    }

    /// The grants open at the start of a scoped policy: each names a VM of the policy's scope
    /// and a port of the policy, a source, and its end; they need `enable_at_start`.
    fn active_grants(
        &self,
        p: &JitPolicySpec,
        scope: &PolicyScope,
        policy: &JitPolicy,
        t: &Topology,
        field: &FieldPath,
    ) -> Result<Vec<ActiveGrant>, Fault> {
        let mut out = Vec::new();
        for (i, g) in p.active_grants.iter().enumerate() {
            let gf = field.field("active_grants").index(i);
            if !p.enable_at_start {
                return Err(fault(
                    &gf,
                    &g.vm,
                    "grants open at the start are taken over when JIT is enabled at the start; add enable_at_start: true",
                ));
            }
            let vm = self.vm(t, &g.vm, &gf.field("vm"))?;
            if !scope.covers(t.vm(vm)) {
                return Err(fault(
                    gf.field("vm"),
                    &g.vm,
                    format!("vm '{}' is not in the policy's scope ({scope})", g.vm),
                ));
            }
            let port =
                in_range(g.port, 0u16, u16::MAX).filter(|n| policy.port(*n).is_some()).ok_or_else(|| {
                    let listed: Vec<String> = policy.ports.iter().map(|x| x.number.to_string()).collect();
                    fault(
                        gf.field("port"),
                        g.port.to_string(),
                        format!("port {} is not in the policy; valid: {}", g.port, listed.join(", ")),
                    )
                })?;
            let source = if g.source.trim() == "*" {
                RequestSource::Any
            } else {
                let mut nets = Vec::new();
                for part in g.source.split(',') {
                    nets.push(
                        parse_prefix(part.trim())
                            .map_err(|e| fault(gf.field("source"), &g.source, e.to_string()))?,
                    );
                }
                RequestSource::Prefixes(nets)
            };
            let ends_at =
                Instant::parse(&g.ends_at).map_err(|m| fault(gf.field("ends_at"), &g.ends_at, m))?;
            out.push(ActiveGrant { vm: g.vm.clone(), port, source, requester: g.requestor.clone(), ends_at });
        }
        Ok(out)
    }

    /// A policy from port specs; `None` ports = Defender's defaults.
    fn policy(
        &self,
        ports: Option<&[JitPortSpec]>,
        approvers: Option<&Vec<String>>,
        roles: &RoleBook,
        field: &FieldPath,
    ) -> Result<JitPolicy, Fault> {
        let ports = match ports {
            None => crate::jit::default_ports(),
            Some(list) => {
                let mut out: Vec<PortPolicy> = Vec::new();
                for (i, p) in list.iter().enumerate() {
                    let pf = field.field("ports").index(i);
                    let port = self.port(p, &pf)?;
                    if let Some(first) = out.iter().position(|x| x.number == port.number) {
                        return Err(fault(
                            pf.field("number"),
                            p.number.to_string(),
                            format!(
                                "port {} is listed twice (also {field}.ports[{first}]); valid: each port once in a policy",
                                p.number
                            ),
                        ));
                    }
                    out.push(port);
                }
                if out.is_empty() {
                    return Err(fault(
                        field.field("ports"),
                        "ports",
                        "a JIT policy needs at least one port (omit `ports` for the defaults 22, 3389, 5985, 5986)",
                    ));
                }
                out
            }
        };
        let approver_roles = approvers.cloned().unwrap_or_default();
        for (i, r) in approver_roles.iter().enumerate() {
            if !roles.has(r) {
                let known: Vec<&str> = roles.names().collect();
                return Err(fault(
                    field.field("approvers").index(i),
                    r,
                    format!("unknown role '{r}'; valid: {}", known.join(", ")),
                ));
            }
        }
        Ok(JitPolicy { ports, approver_roles })
    }

    fn port(&self, p: &JitPortSpec, field: &FieldPath) -> Result<PortPolicy, Fault> {
        let number = in_range(p.number, 0u16, u16::MAX).ok_or_else(|| {
            fault(
                field.field("number"),
                p.number.to_string(),
                format!("port {} is outside 0..=65535", p.number),
            )
        })?;
        let max_duration = match &p.max_duration {
            None => DEFAULT_MAX_DURATION,
            Some(text) => {
                let d = Duration::parse(text).map_err(|m| fault(field.field("max_duration"), text, m))?;
                if d < MIN_MAX_DURATION || d > MAX_MAX_DURATION {
                    return Err(fault(
                        field.field("max_duration"),
                        text,
                        format!("maximum request duration {text} is outside PT5M..P1D (5 minutes to 1 day)"),
                    ));
                }
                d
            }
        };
        let allowed_sources = match &p.allowed_sources {
            None => AllowedSources::Any,
            Some(list) if list.iter().any(|s| s.trim() == "*") => {
                if list.len() > 1 {
                    return Err(fault(
                        field.field("allowed_sources"),
                        "*",
                        "'*' cannot be combined with prefixes (allowedSourceAddressPrefix and allowedSourceAddressPrefixes are exclusive)",
                    ));
                }
                AllowedSources::Any
            }
            Some(list) if list.is_empty() => {
                return Err(fault(
                    field.field("allowed_sources"),
                    "allowed_sources",
                    "give '*' or at least one IP/CIDR",
                ));
            }
            Some(list) => AllowedSources::Prefixes(
                list.iter()
                    .enumerate()
                    .map(|(i, s)| {
                        parse_prefix(s)
                            .map_err(|e| fault(field.field("allowed_sources").index(i), s, e.to_string()))
                    })
                    .collect::<Result<_, _>>()?,
            ),
        };
        if number == 5989 {
            // A training text's list of default ports reads 5989 for WinRM over HTTPS; Azure
            // accepts any port, so this is a warning, not an error.
            self.warn(fault(
                field.field("number"),
                "5989",
                "port 5989 is not a WinRM port (WinRM uses 5985 for HTTP and 5986 for HTTPS, the ports Defender for Cloud pre-lists with 22 and 3389); a training text's typo: did you mean 5986?",
            ));
        }
        Ok(PortPolicy {
            number,
            protocol: match p.protocol {
                Some(JitProtocolSpec::Tcp) => JitProtocol::Tcp,
                Some(JitProtocolSpec::Udp) => JitProtocol::Udp,
                Some(JitProtocolSpec::Any) | None => JitProtocol::Any,
            },
            allowed_sources,
            max_duration,
        })
    }

    fn vm(&self, t: &Topology, name: &str, field: &FieldPath) -> Result<VmId, Fault> {
        if self.is_skipped(name) {
            return Err(dependent(field));
        }
        t.vm_by_name(name).ok_or_else(|| {
            let names: Vec<String> = t.vm_ids().map(|v| t.vm(v).name.clone()).collect();
            fault(field, name, format!("unknown vm '{name}'; valid: {}", names.join(", ")))
        })
    }

    fn user(&self, sc: &Scenario, name: &str, field: &FieldPath) -> Result<String, Fault> {
        if self.is_skipped(name) {
            return Err(dependent(field));
        }
        if name == SETUP_PRINCIPAL || sc.users.iter().any(|u| crate::name::same_name(&u.name, name)) {
            return Ok(name.to_string());
        }
        let names: Vec<&str> = sc.users.iter().map(|u| u.name.as_str()).collect();
        Err(fault(field, name, format!("unknown user '{name}'; valid: {}", names.join(", "))))
    }

    /// What an enable or edit sets: what is given, validated; what is left out stays `None`, so
    /// that an edit keeps it.
    fn policy_change(
        &self,
        sc: &Scenario,
        ports: Option<&[JitPortSpec]>,
        approvers: Option<&Vec<String>>,
        field: &FieldPath,
    ) -> Result<PolicyChange, Fault> {
        let parsed = self.policy(ports, approvers, sc.jit.roles(), field)?;
        Ok(PolicyChange {
            ports: ports.map(|_| parsed.ports.clone()),
            approver_roles: approvers.map(|_| parsed.approver_roles.clone()),
        })
    }

    pub(super) fn jit_action(
        &self,
        sc: &Scenario,
        a: &ActionSpec,
        field: &FieldPath,
    ) -> Result<Action, Fault> {
        let t = &sc.topology;
        Ok(match a {
            ActionSpec::EnableJit { vm, vms, by, ports, approvers } => {
                let actor = by.as_ref().map(|b| self.user(sc, b, &field.field("by"))).transpose()?;
                let change = self.policy_change(sc, ports.as_deref(), approvers.as_ref(), field)?;
                match (vm, vms.is_empty()) {
                    (Some(vm), true) => {
                        let id = self.vm(t, vm, &field.field("vm"))?;
                        Action::EnableJit { vm: id, actor, change, edit: false }
                    }
                    (None, false) => {
                        let mut ids = Vec::new();
                        for (i, name) in vms.iter().enumerate() {
                            let id = self.vm(t, name, &field.field("vms").index(i))?;
                            if ids.contains(&id) {
                                return Err(fault(
                                    field.field("vms").index(i),
                                    name,
                                    format!("vm '{name}' is listed twice"),
                                ));
                            }
                            ids.push(id);
                        }
                        Action::EnableJitOnVms { vms: ids, actor, change }
                    }
                    (Some(vm), false) => {
                        return Err(fault(
                            field.field("vm"),
                            vm,
                            "give either vm (one VM) or vms (Enable JIT on n VMs), not both",
                        ));
                    }
                    (None, true) => {
                        return Err(fault(
                            field,
                            "",
                            "EnableJit names a VM: vm: \"name\" or vms: [\"a\", \"b\"]",
                        ));
                    }
                }
            }
            ActionSpec::EditJit { vm, by, ports, approvers } => {
                let id = self.vm(t, vm, &field.field("vm"))?;
                let actor = by.as_ref().map(|b| self.user(sc, b, &field.field("by"))).transpose()?;
                let change = self.policy_change(sc, ports.as_deref(), approvers.as_ref(), field)?;
                Action::EnableJit { vm: id, actor, change, edit: true }
            }
            ActionSpec::SetDefenderPlan2 { enabled, by } => Action::SetDefenderPlan2 {
                enabled: *enabled,
                actor: by.as_ref().map(|b| self.user(sc, b, &field.field("by"))).transpose()?,
            },
            ActionSpec::ConnectPageRequest { id, user, vm, enable, justification } => {
                Action::ConnectPageRequest {
                    name: id.clone(),
                    user: self.user(sc, user, &field.field("user"))?,
                    vm: self.vm(t, vm, &field.field("vm"))?,
                    enable: *enable,
                    justification: justification.clone(),
                }
            }
            ActionSpec::DisableJit { vm, by } => Action::DisableJit {
                vm: self.vm(t, vm, &field.field("vm"))?,
                actor: by.as_ref().map(|b| self.user(sc, b, &field.field("by"))).transpose()?,
            },
            ActionSpec::RequestJit { id, user, vms, vm, ports, duration, source, justification } => {
                let user = self.user(sc, user, &field.field("user"))?;
                let mut names: Vec<(&String, FieldPath)> =
                    vms.iter().enumerate().map(|(i, v)| (v, field.field("vms").index(i))).collect();
                names.extend(vm.iter().map(|v| (v, field.field("vm"))));
                if names.is_empty() {
                    return Err(fault(field, "", "a request names at least one VM (vm or vms)"));
                }
                if ports.is_empty() {
                    return Err(fault(
                        field.field("ports"),
                        "",
                        "a request names at least one port; valid: ports of the VM's JIT policy, e.g. [22]",
                    ));
                }
                let mut numbers = Vec::new();
                for (i, &number) in ports.iter().enumerate() {
                    let port = in_range(number, 0u16, u16::MAX).ok_or_else(|| {
                        fault(
                            field.field("ports").index(i),
                            number.to_string(),
                            format!("port {number} is outside 0..=65535"),
                        )
                    })?;
                    numbers.push(port);
                }
                let mut requested = Vec::new();
                for (name, vm_field) in names {
                    let vm = self.vm(t, name, &vm_field)?;
                    requested.extend(numbers.iter().map(|&number| PortRequest { vm, number }));
                }
                let duration =
                    Duration::parse(duration).map_err(|m| fault(field.field("duration"), duration, m))?;
                let source = match source {
                    Some(s) if s.trim() == "*" => Some(crate::jit::RequestSource::Any),
                    Some(s) => Some(crate::jit::RequestSource::Prefixes(vec![
                        parse_prefix(s).map_err(|e| fault(field.field("source"), s, e.to_string()))?,
                    ])),
                    None => None,
                };
                Action::RequestJit {
                    name: id.clone(),
                    user,
                    ports: requested,
                    duration,
                    source,
                    justification: justification.clone(),
                }
            }
            ActionSpec::ApproveJit { request, by } => Action::ApproveJit {
                request: request.clone(),
                approver: self.user(sc, by, &field.field("by"))?,
            },
            ActionSpec::DenyJit { request, by, reason } => Action::DenyJit {
                request: request.clone(),
                approver: self.user(sc, by, &field.field("by"))?,
                reason: reason.clone().unwrap_or_else(|| "denied".into()),
            },
            ActionSpec::RevokeJit { request, by } => {
                Action::RevokeJit { request: request.clone(), actor: self.user(sc, by, &field.field("by"))? }
            }
            _ => return Err(fault(field, "action", "internal: not a JIT action")),
        })
    }

    pub(super) fn jit_expectation(
        &self,
        sc: &Scenario,
        e: &ExpectSpec,
        field: &FieldPath,
    ) -> Result<Expectation, Fault> {
        let t = &sc.topology;
        Ok(match e {
            ExpectSpec::JitStatus { vm, status, reason } => Expectation::JitStatus {
                vm: self.vm(t, vm, &field.field("vm"))?,
                status: match status {
                    JitStatusSpec::Configured => "Configured",
                    // The portal's tab says "Not configured"; "Recommended" is the older keyword.
                    JitStatusSpec::NotConfigured | JitStatusSpec::Recommended => "NotConfigured",
                    JitStatusSpec::Unsupported => "Unsupported",
                }
                .into(),
                reason: reason.clone(),
            },
            ExpectSpec::JitRequest { request, status, reason } => Expectation::JitRequest {
                request: request.clone(),
                status: match status {
                    RequestStatusSpec::Refused => RequestStatus::Refused,
                    RequestStatusSpec::Pending => RequestStatus::Pending,
                    RequestStatusSpec::Denied => RequestStatus::Denied,
                    RequestStatusSpec::Active => RequestStatus::Active,
                    RequestStatusSpec::Expired => RequestStatus::Expired,
                    RequestStatusSpec::Revoked => RequestStatus::Revoked,
                    RequestStatusSpec::Superseded => RequestStatus::Superseded,
                    RequestStatusSpec::Cancelled => RequestStatus::Cancelled,
                },
                reason: reason.clone(),
            },
            ExpectSpec::JitRules { vm, nsg, deny, allow } => Expectation::JitRules {
                vm: self.vm(t, vm, &field.field("vm"))?,
                nsg: nsg.as_ref().map(|n| self.nsg(t, n, &field.field("nsg"))).transpose()?,
                deny: count(*deny, &field.field("deny"))?,
                allow: count(*allow, &field.field("allow"))?,
            },
            _ => return Err(fault(field, "expect", "internal: not a JIT expectation")),
        })
    }
}

/// An expected number of rules: 0 or more.
fn count(value: Option<i64>, field: &FieldPath) -> Result<Option<usize>, Fault> {
    value
        .map(|n| {
            usize::try_from(n).map_err(|_| {
                fault(field, n.to_string(), format!("{n} is negative; valid: a count of 0 or more"))
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::super::testing::{self, Case};
    use super::super::{LoadError, Scenario};
    use crate::jit::{AllowedSources, JitProtocol, NsgLevels, PolicyScope, RequestStatus};
    use crate::sim::{Action, Duration, Expectation};

    const BASE: &str = r#"Scenario(
    name: "jit",
    start: "2025-01-06T09:00:00Z",
    vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "s", prefix: "10.0.1.0/24", nsg: "n")])],
    nsgs: [Nsg(name: "n")],
    vms: [
        Vm(name: "vm1", os: Linux, resource_group: "rg1", nics: [Nic(name: "vm1-nic", subnet: "v/s", private_ip: "10.0.1.4")]),
        Vm(name: "vm2", os: Windows, nics: [Nic(name: "vm2-nic", subnet: "v/s", private_ip: "10.0.1.5")]),
    ],
    roles: {"Jit Requester": ["Microsoft.Security/locations/jitNetworkAccessPolicies/*", "*/read"]},
    users: [
        User(name: "alice", roles: ["Owner"], source_ip: "203.0.113.10"),
        User(name: "bob", roles: ["Jit Requester"], source_ip: "198.51.100.7"),
    ],
    jit_policies: [
        JitPolicy(name: "rg1-policy", scope: ResourceGroup("rg1"), approvers: ["Owner"], enable_at_start: true,
            ports: [Port(number: 22, protocol: Tcp, allowed_sources: ["203.0.113.0/24"], max_duration: "PT1H")]),
        JitPolicy(name: "vm2-policy", scope: Vm("vm2")),
    ],
    options: Options(jit_nsg_levels: NicOnly, jit_strict_deny_placement: true, defender_for_servers_plan2: false,
                     jit_disabled_scopes: [Subscription("lab")], jit_allow_self_approval: true),
    timeline: [
        (at: "0", action: EnableJit(vm: "vm2", by: "alice", ports: [Port(number: 3389, allowed_sources: ["*"])], approvers: ["Owner"])),
        (at: "1m", action: EditJit(vm: "vm2", by: "alice", approvers: [])),
        (at: "2m", action: RequestJit(id: "r1", user: "bob", vms: ["vm1", "vm2"], ports: [22, 3389], duration: "PT30M",
                                      source: "198.51.100.0/24", justification: "patching")),
        (at: "3m", action: ApproveJit(request: "r1", by: "alice")),
        (at: "4m", action: DenyJit(request: "r1", by: "alice")),
        (at: "5m", action: RevokeJit(request: "r1", by: "alice")),
        (at: "6m", action: DisableJit(vm: "vm2")),
        (at: "6m", expect: JitStatus(vm: "vm1", status: Configured, reason: "x")),
        (at: "6m", expect: JitRequest(request: "r1", status: Revoked)),
        (at: "6m", expect: JitRules(vm: "vm1", nsg: "n", deny: 1, allow: 0)),
    ],
)
"#;

    const FILE: &str = "j.ron";

    fn load(text: &str) -> Result<Scenario, LoadError> {
        testing::load(text, FILE)
    }

    #[test]
    fn loads_options_and_scoped_policies() {
        let s = load(BASE).unwrap_or_else(|e| panic!("{e}"));
        let o = s.jit.options();
        assert_eq!(o.levels, NsgLevels::NicOnly);
        assert!(o.strict_deny_placement && o.allow_self_approval && !o.defender_plan2);
        assert!(!o.keep_deny_rules_on_disable && !o.expiry_drops_sessions);
        assert_eq!(o.disabled_scopes, [PolicyScope::Subscription("lab".into())]);
        assert!(s.jit.roles().has("Jit Requester"));
        let scoped = s.jit.scoped_policies();
        assert_eq!(scoped.len(), 2);
        assert_eq!(
            (scoped[0].scope.clone(), scoped[0].enable_at_start),
            (PolicyScope::ResourceGroup("rg1".into()), true)
        );
        assert_eq!(scoped[0].policy.approver_roles, ["Owner"]);
        let p = &scoped[0].policy.ports[0];
        assert_eq!((p.number, p.protocol, p.max_duration), (22, JitProtocol::Tcp, Duration::from_secs(3600)));
        assert_eq!(p.allowed_sources, AllowedSources::Prefixes(vec!["203.0.113.0/24".parse().expect("net")]));
        // Left out: Defender's defaults, any protocol, any source, PT3H.
        let defaults: Vec<u16> = scoped[1].policy.ports.iter().map(|p| p.number).collect();
        assert_eq!(defaults, [22, 3389, 5985, 5986]);
        assert_eq!(scoped[1].policy.ports[0].protocol, JitProtocol::Any);
        assert_eq!(scoped[1].policy.ports[0].max_duration, Duration::from_secs(3 * 3600));
        assert_eq!(scoped[1].scope, PolicyScope::Vm("vm2".into()));
    }

    #[test]
    fn loads_every_jit_action_and_expectation() {
        let s = load(BASE).unwrap_or_else(|e| panic!("{e}"));
        let t = &s.topology;
        let (vm1, vm2) = (t.vm_by_name("vm1").expect("vm1"), t.vm_by_name("vm2").expect("vm2"));
        let actions: Vec<&Action> = s.steps.iter().filter_map(|st| st.action.as_deref()).collect();
        let Action::EnableJit { vm, actor, change, edit } = actions[0] else { panic!("{:?}", actions[0]) };
        assert_eq!((*vm, actor.as_deref(), *edit), (vm2, Some("alice"), false));
        let ports = change.ports.as_ref().expect("ports given");
        assert_eq!((ports[0].number, &ports[0].allowed_sources), (3389, &AllowedSources::Any));
        assert_eq!(change.approver_roles.as_deref(), Some(&["Owner".to_string()][..]));
        // An edit changes only what it gives.
        let Action::EnableJit { change, edit, .. } = actions[1] else { panic!("{:?}", actions[1]) };
        assert_eq!((change.ports.is_none(), change.approver_roles.as_deref()), (true, Some(&[][..])));
        assert!(*edit, "EditJit is an edit");
        let Action::RequestJit { name, user, ports, duration, source, justification } = actions[2] else {
            panic!("{:?}", actions[2])
        };
        assert_eq!((name.as_str(), user.as_str(), *duration), ("r1", "bob", Duration::from_secs(1800)));
        let asked: Vec<(bool, u16)> = ports.iter().map(|p| (p.vm == vm1, p.number)).collect();
        assert_eq!(asked, [(true, 22), (true, 3389), (false, 22), (false, 3389)]);
        let net = "198.51.100.0/24".parse().expect("net");
        assert_eq!(*source, Some(crate::jit::RequestSource::Prefixes(vec![net])));
        assert_eq!(justification.as_deref(), Some("patching"));
        assert!(
            matches!(actions[3], Action::ApproveJit { request, approver } if request == "r1" && approver == "alice")
        );
        assert!(matches!(actions[4], Action::DenyJit { reason, .. } if reason == "denied"));
        assert!(matches!(actions[5], Action::RevokeJit { actor, .. } if actor == "alice"));
        assert!(matches!(actions[6], Action::DisableJit { vm, actor: None } if *vm == vm2));
        let expects: Vec<&Expectation> = s.steps.iter().filter_map(|st| st.expect.as_deref()).collect();
        assert!(
            matches!(expects[0], Expectation::JitStatus { vm, status, reason: Some(r) } if *vm == vm1 && status == "Configured" && r == "x")
        );
        assert!(matches!(expects[1], Expectation::JitRequest { status: RequestStatus::Revoked, .. }));
        assert!(matches!(
            expects[2],
            Expectation::JitRules { nsg: Some(_), deny: Some(1), allow: Some(0), .. }
        ));
    }

    #[test]
    fn each_error_names_its_field_and_position() {
        let cases: &[Case] = &[
            (
                r#"scope: Vm("vm2")"#,
                r#"scope: Vm("vm3")"#,
                "jit_policies[1].scope",
                (r#""vm3""#, 0),
                "unknown vm 'vm3'; valid: vm1, vm2",
            ),
            (
                r#"max_duration: "PT1H""#,
                r#"max_duration: "PT2D""#,
                "jit_policies[0].ports[0].max_duration",
                (r#""PT2D""#, 0),
                "outside PT5M..P1D",
            ),
            (
                r#"allowed_sources: ["203.0.113.0/24"]"#,
                r#"allowed_sources: ["203.0.113.0/24", "*"]"#,
                "jit_policies[0].ports[0].allowed_sources",
                (r#""*""#, 0),
                "'*' cannot be combined",
            ),
            (
                r#"allowed_sources: ["203.0.113.0/24"]"#,
                r#"allowed_sources: []"#,
                "jit_policies[0].ports[0].allowed_sources",
                ("[]", 0),
                "give '*' or at least one IP/CIDR",
            ),
            (
                r#"allowed_sources: ["203.0.113.0/24"]"#,
                r#"allowed_sources: ["203.0.113.1/24"]"#,
                "jit_policies[0].ports[0].allowed_sources[0]",
                (r#""203.0.113.1/24""#, 0),
                "host bits are set",
            ),
            (
                r#"Port(number: 22, protocol: Tcp"#,
                r#"Port(number: 65536, protocol: Tcp"#,
                "jit_policies[0].ports[0].number",
                ("65536", 0),
                "port 65536 is outside 0..=65535",
            ),
            (
                r#"approvers: ["Owner"], enable"#,
                r#"approvers: ["Owners"], enable"#,
                "jit_policies[0].approvers[0]",
                (r#""Owners""#, 0),
                "unknown role 'Owners'",
            ),
            (
                r#"vm2-policy", scope: Vm("vm2"))"#,
                r#"vm2-policy", scope: Vm("vm2"), in_force_from: "jit.json:3:5")"#,
                "jit_policies[1].in_force_from",
                (r#""jit.json:3:5""#, 0),
                "a policy in force is taken over at the start; add enable_at_start: true",
            ),
            (
                r#"vm2-policy", scope: Vm("vm2"))"#,
                r#"vm2-policy", scope: Vm("vm2"), ports: [])"#,
                "jit_policies[1].ports",
                ("[]", 0),
                "at least one port",
            ),
            (
                r#"jit_disabled_scopes: [Subscription("lab")]"#,
                r#"jit_disabled_scopes: [Vm("lab")]"#,
                "options.jit_disabled_scopes[0]",
                (r#""lab""#, 0),
                "unknown vm 'lab'",
            ),
            (
                r#"allowed_sources: ["*"])], approvers"#,
                r#"allowed_sources: ["*"]), Port(number: 3389)], approvers"#,
                "timeline[0].action.ports[1].number",
                ("3389", 1),
                "port 3389 is listed twice (also timeline[0].action.ports[0])",
            ),
            (
                r#"EnableJit(vm: "vm2", by: "alice""#,
                r#"EnableJit(vm: "vm2", by: "carol""#,
                "timeline[0].action.by",
                (r#""carol""#, 0),
                "unknown user 'carol'; valid: alice, bob",
            ),
            (
                r#"vms: ["vm1", "vm2"]"#,
                r#"vms: ["vm1", "vm9"]"#,
                "timeline[2].action.vms[1]",
                (r#""vm9""#, 0),
                "unknown vm 'vm9'",
            ),
            (
                r#"vms: ["vm1", "vm2"]"#,
                r#"vms: []"#,
                "timeline[2].action",
                ("RequestJit", 0),
                "at least one VM",
            ),
            (
                r#"ports: [22, 3389], duration"#,
                r#"ports: [22, 70000], duration"#,
                "timeline[2].action.ports[1]",
                ("70000", 0),
                "port 70000 is outside 0..=65535",
            ),
            (
                r#"duration: "PT30M""#,
                r#"duration: "half an hour""#,
                "timeline[2].action.duration",
                (r#""half an hour""#, 0),
                "is not a duration",
            ),
            (
                r#"source: "198.51.100.0/24""#,
                r#"source: "bob""#,
                "timeline[2].action.source",
                (r#""bob""#, 2),
                "is not an IP address",
            ),
            (
                r#"ApproveJit(request: "r1", by: "alice")"#,
                r#"ApproveJit(request: "r1", by: "eve")"#,
                "timeline[3].action.by",
                (r#""eve""#, 0),
                "unknown user 'eve'",
            ),
            (
                r#"JitStatus(vm: "vm1""#,
                r#"JitStatus(vm: "vm0""#,
                "timeline[7].expect.vm",
                (r#""vm0""#, 0),
                "unknown vm 'vm0'",
            ),
            (
                r#"nsg: "n", deny: 1"#,
                r#"nsg: "m", deny: 1"#,
                "timeline[9].expect.nsg",
                (r#""m""#, 0),
                "unknown nsg 'm'; valid: n",
            ),
            (
                r#"deny: 1, allow: 0"#,
                r#"deny: 1, allow: -2"#,
                "timeline[9].expect.allow",
                ("-2", 0),
                "-2 is negative; valid: a count of 0 or more",
            ),
        ];
        testing::assert_cases(BASE, FILE, cases);
    }
}
