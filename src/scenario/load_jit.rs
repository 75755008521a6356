//! Converting the JIT parts of a scenario: options, scoped policies, JIT actions and
//! expectations.

use super::load::{Fault, Loader, Scenario, fault, in_range};
use super::schema::{
    ActionSpec, ExpectSpec, JitPolicySpec, JitPortSpec, JitProtocolSpec, JitStatusSpec, NsgLevelsSpec,
    OptionsSpec, RequestStatusSpec, ScopeSpec,
};
use crate::jit::{
    AllowedSources, DEFAULT_MAX_DURATION, JitOptions, JitPolicy, JitProtocol, MAX_MAX_DURATION,
    MIN_MAX_DURATION, NsgLevels, PolicyChange, PolicyScope, PortPolicy, PortRequest, RequestStatus, RoleBook,
    ScopedPolicy,
};
use crate::model::{Topology, VmId};
use crate::net::parse_prefix;
use crate::sim::{Action, Duration, Expectation, SETUP_PRINCIPAL};

impl Loader<'_> {
    pub(super) fn options(&self, o: &OptionsSpec, t: &Topology) -> Result<JitOptions, Fault> {
        let mut disabled = Vec::new();
        for (i, s) in o.jit_disabled_scopes.iter().enumerate() {
            disabled.push(self.scope(s, t, &format!("options.jit_disabled_scopes[{i}]"))?);
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

    fn scope(&self, s: &ScopeSpec, t: &Topology, field: &str) -> Result<PolicyScope, Fault> {
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
            let field = format!("jit_policies[{i}]");
            let scope = self.scope(&p.scope, t, &format!("{field}.scope"))?;
            let policy = self.policy(p.ports.as_deref(), Some(&p.approvers), roles, &field)?;
            out.push(ScopedPolicy {
                name: p.name.clone(),
                scope,
                policy,
                enable_at_start: p.enable_at_start,
            });
        }
        Ok(out)
    }

    /// A policy from port specs; `None` ports = Defender's defaults.
    fn policy(
        &self,
        ports: Option<&[JitPortSpec]>,
        approvers: Option<&Vec<String>>,
        roles: &RoleBook,
        field: &str,
    ) -> Result<JitPolicy, Fault> {
        let ports = match ports {
            None => crate::jit::default_ports(),
            Some(list) => {
                let mut out: Vec<PortPolicy> = Vec::new();
                for (i, p) in list.iter().enumerate() {
                    let pf = format!("{field}.ports[{i}]");
                    let port = self.port(p, &pf)?;
                    if let Some(first) = out.iter().position(|x| x.number == port.number) {
                        return Err(fault(
                            format!("{pf}.number"),
                            p.number.to_string(),
                            format!(
                                "port {} is listed twice (also {field}.ports[{first}]); a policy lists each port once",
                                p.number
                            ),
                        ));
                    }
                    out.push(port);
                }
                if out.is_empty() {
                    return Err(fault(
                        format!("{field}.ports"),
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
                    format!("{field}.approvers[{i}]"),
                    r,
                    format!("unknown role '{r}'; valid: {}", known.join(", ")),
                ));
            }
        }
        Ok(JitPolicy { ports, approver_roles })
    }

    fn port(&self, p: &JitPortSpec, field: &str) -> Result<PortPolicy, Fault> {
        let number = in_range(p.number, 0u16, u16::MAX).ok_or_else(|| {
            fault(
                format!("{field}.number"),
                p.number.to_string(),
                format!("port {} is outside 0..=65535", p.number),
            )
        })?;
        let max_duration = match &p.max_duration {
            None => DEFAULT_MAX_DURATION,
            Some(text) => {
                let d = Duration::parse(text).map_err(|m| fault(format!("{field}.max_duration"), text, m))?;
                if d < MIN_MAX_DURATION || d > MAX_MAX_DURATION {
                    return Err(fault(
                        format!("{field}.max_duration"),
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
                        format!("{field}.allowed_sources"),
                        "*",
                        "'*' cannot be combined with prefixes (allowedSourceAddressPrefix and allowedSourceAddressPrefixes are exclusive)",
                    ));
                }
                AllowedSources::Any
            }
            Some(list) if list.is_empty() => {
                return Err(fault(
                    format!("{field}.allowed_sources"),
                    "allowed_sources",
                    "give '*' or at least one IP/CIDR",
                ));
            }
            Some(list) => AllowedSources::Prefixes(
                list.iter()
                    .enumerate()
                    .map(|(i, s)| {
                        parse_prefix(s)
                            .map_err(|e| fault(format!("{field}.allowed_sources[{i}]"), s, e.to_string()))
                    })
                    .collect::<Result<_, _>>()?,
            ),
        };
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

    fn vm(&self, t: &Topology, name: &str, field: &str) -> Result<VmId, Fault> {
        t.vm_by_name(name).ok_or_else(|| {
            let names: Vec<String> = t.vm_ids().map(|v| t.vm(v).name.clone()).collect();
            fault(field, name, format!("unknown vm '{name}'; valid: {}", names.join(", ")))
        })
    }

    fn user(&self, sc: &Scenario, name: &str, field: &str) -> Result<String, Fault> {
        if name == SETUP_PRINCIPAL || sc.users.iter().any(|u| u.name == name) {
            return Ok(name.to_string());
        }
        let names: Vec<&str> = sc.users.iter().map(|u| u.name.as_str()).collect();
        Err(fault(field, name, format!("unknown user '{name}'; valid: {}", names.join(", "))))
    }

    pub(super) fn jit_action(&self, sc: &Scenario, a: &ActionSpec, field: &str) -> Result<Action, Fault> {
        let t = &sc.topology;
        Ok(match a {
            ActionSpec::EnableJit { vm, by, ports, approvers }
            | ActionSpec::EditJit { vm, by, ports, approvers } => {
                let id = self.vm(t, vm, &format!("{field}.vm"))?;
                let actor = by.as_ref().map(|b| self.user(sc, b, &format!("{field}.by"))).transpose()?;
                // Validate what is given; leave out what is not, so an edit keeps it.
                let parsed = self.policy(ports.as_deref(), approvers.as_ref(), sc.jit.roles(), field)?;
                let change = PolicyChange {
                    ports: ports.as_ref().map(|_| parsed.ports.clone()),
                    approver_roles: approvers.as_ref().map(|_| parsed.approver_roles.clone()),
                };
                Action::EnableJit { vm: id, actor, change }
            }
            ActionSpec::DisableJit { vm, by } => Action::DisableJit {
                vm: self.vm(t, vm, &format!("{field}.vm"))?,
                actor: by.as_ref().map(|b| self.user(sc, b, &format!("{field}.by"))).transpose()?,
            },
            ActionSpec::RequestJit { id, user, vms, vm, ports, duration, source, justification } => {
                let user = self.user(sc, user, &format!("{field}.user"))?;
                let mut names: Vec<(&String, String)> =
                    vms.iter().enumerate().map(|(i, v)| (v, format!("{field}.vms[{i}]"))).collect();
                names.extend(vm.iter().map(|v| (v, format!("{field}.vm"))));
                if names.is_empty() {
                    return Err(fault(field, id, "a request names at least one VM (vm or vms)"));
                }
                let mut numbers = Vec::new();
                for (i, &number) in ports.iter().enumerate() {
                    let port = in_range(number, 0u16, u16::MAX).ok_or_else(|| {
                        fault(
                            format!("{field}.ports[{i}]"),
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
                    Duration::parse(duration).map_err(|m| fault(format!("{field}.duration"), duration, m))?;
                let source = match source {
                    Some(s) if s.trim() == "*" => Some(ipnet::IpNet::V4(ipnet::Ipv4Net::default())),
                    Some(s) => Some(
                        parse_prefix(s).map_err(|e| fault(format!("{field}.source"), s, e.to_string()))?,
                    ),
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
                approver: self.user(sc, by, &format!("{field}.by"))?,
            },
            ActionSpec::DenyJit { request, by, reason } => Action::DenyJit {
                request: request.clone(),
                approver: self.user(sc, by, &format!("{field}.by"))?,
                reason: reason.clone().unwrap_or_else(|| "denied".into()),
            },
            ActionSpec::RevokeJit { request, by } => Action::RevokeJit {
                request: request.clone(),
                actor: self.user(sc, by, &format!("{field}.by"))?,
            },
            _ => return Err(fault(field, "action", "internal: not a JIT action")),
        })
    }

    pub(super) fn jit_expectation(
        &self,
        sc: &Scenario,
        e: &ExpectSpec,
        field: &str,
    ) -> Result<Expectation, Fault> {
        let t = &sc.topology;
        Ok(match e {
            ExpectSpec::JitStatus { vm, status, reason } => Expectation::JitStatus {
                vm: self.vm(t, vm, &format!("{field}.vm"))?,
                status: match status {
                    JitStatusSpec::Configured => "Configured",
                    JitStatusSpec::Recommended => "Recommended",
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
                },
                reason: reason.clone(),
            },
            ExpectSpec::JitRules { vm, nsg, deny, allow } => Expectation::JitRules {
                vm: self.vm(t, vm, &format!("{field}.vm"))?,
                nsg: nsg.as_ref().map(|n| self.nsg(t, n, &format!("{field}.nsg"))).transpose()?,
                deny: count(*deny, &format!("{field}.deny"))?,
                allow: count(*allow, &format!("{field}.allow"))?,
            },
            _ => return Err(fault(field, "expect", "internal: not a JIT expectation")),
        })
    }
}

/// An expected number of rules: 0 or more.
fn count(value: Option<i64>, field: &str) -> Result<Option<usize>, Fault> {
    value
        .map(|n| {
            usize::try_from(n).map_err(|_| {
                fault(field, n.to_string(), format!("{n} is negative; valid: a count of 0 or more"))
            })
        })
        .transpose()
}
