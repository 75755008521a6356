//! Writing the scenario format: values of [`schema`](super::schema) as the RON text the loader
//! reads back, in the layout of the hand-written scenarios (one rule or step per line, optional
//! fields only when set).
//!
//! A printer of our own rather than `ron::ser`: the schema types stay `Deserialize`-only (the
//! loader's contract), and the output reads like the files in `scenarios/`, which is what people
//! edit. `import` writes whole scenarios with it; `serve` writes the steps a class took as a
//! timeline. The tests load every kind of step back through the loader.

use std::fmt::Write;

use super::schema::{
    AccessSpec, ActionSpec, DirectionSpec, ExpectSpec, JitPortSpec, JitProtocolSpec, JitStatusSpec,
    ProtocolSpec, RequestStatusSpec, RuleSpec, StepSpec,
};

/// A RON string literal: quotes and backslashes escaped, control characters as `\u{..}`.
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A RON list of string literals.
pub fn list(items: &[String]) -> String {
    format!("[{}]", items.iter().map(|i| string(i)).collect::<Vec<_>>().join(", "))
}

/// A rule's protocol as the scenario writes it (`Tcp`, `Udp`, `Icmp`, `Esp`, `Ah`, `Any`).
pub fn protocol(p: ProtocolSpec) -> &'static str {
    match p {
        ProtocolSpec::Tcp => "Tcp",
        ProtocolSpec::Udp => "Udp",
        ProtocolSpec::Icmp => "Icmp",
        ProtocolSpec::Esp => "Esp",
        ProtocolSpec::Ah => "Ah",
        ProtocolSpec::Any => "Any",
    }
}

fn access(a: AccessSpec) -> &'static str {
    match a {
        AccessSpec::Allow => "Allow",
        AccessSpec::Deny => "Deny",
    }
}

/// One rule as the single RON line the scenario holds.
pub fn rule_line(r: &RuleSpec) -> String {
    let direction = match r.direction {
        DirectionSpec::Inbound => "Inbound",
        DirectionSpec::Outbound => "Outbound",
    };
    let mut out = format!(
        "Rule(name: {}, priority: {}, direction: {direction}, access: {}, protocol: {}",
        string(&r.name),
        r.priority,
        access(r.access),
        protocol(r.protocol)
    );
    if let Some(v) = &r.source {
        let _ = write!(out, ", source: {}", string(v));
    }
    if !r.source_asgs.is_empty() {
        let _ = write!(out, ", source_asgs: {}", list(&r.source_asgs));
    }
    if let Some(v) = &r.source_ports {
        let _ = write!(out, ", source_ports: {}", string(v));
    }
    if let Some(v) = &r.destination {
        let _ = write!(out, ", destination: {}", string(v));
    }
    if !r.destination_asgs.is_empty() {
        let _ = write!(out, ", destination_asgs: {}", list(&r.destination_asgs));
    }
    let _ = write!(out, ", destination_ports: {}", string(&r.destination_ports));
    if !r.description.is_empty() {
        let _ = write!(out, ", description: {}", string(&r.description));
    }
    if let Some(origin) = &r.origin {
        let _ = write!(out, ", origin: {}", string(origin));
    }
    out.push(')');
    out
}

/// One JIT port of a policy: `Port(number: 22, protocol: Tcp, max_duration: "PT1H")`.
pub fn jit_port(p: &JitPortSpec) -> String {
    let mut out = format!("Port(number: {}", p.number);
    if let Some(proto) = p.protocol {
        let name = match proto {
            JitProtocolSpec::Tcp => "Tcp",
            JitProtocolSpec::Udp => "Udp",
            JitProtocolSpec::Any => "Any",
        };
        let _ = write!(out, ", protocol: {name}");
    }
    if let Some(sources) = &p.allowed_sources {
        let _ = write!(out, ", allowed_sources: {}", list(sources));
    }
    if let Some(d) = &p.max_duration {
        let _ = write!(out, ", max_duration: {}", string(d));
    }
    out.push(')');
    out
}

/// Appends `, name: value` for each field that is set.
fn fields(out: &mut String, set: &[(&str, Option<String>)]) {
    for (name, value) in set {
        if let Some(v) = value {
            let _ = write!(out, ", {name}: {v}");
        }
    }
}

/// `Name(first: value, …)` with the optional fields that are set.
fn call(name: &str, first: (&str, String), optional: &[(&str, Option<String>)]) -> String {
    let mut out = format!("{name}({}: {}", first.0, first.1);
    fields(&mut out, optional);
    out.push(')');
    out
}

fn quoted(v: &Option<String>) -> Option<String> {
    v.as_deref().map(string)
}

fn ports(ports: &Option<Vec<JitPortSpec>>) -> Option<String> {
    ports.as_ref().map(|p| format!("[{}]", p.iter().map(jit_port).collect::<Vec<_>>().join(", ")))
}

/// An action as the scenario writes it: `RequestJit(id: "r1", user: "alice", vm: "vm1", …)`.
pub fn action(a: &ActionSpec) -> String {
    match a {
        ActionSpec::AttachNsg { nsg, subnet, nic } => {
            call("AttachNsg", ("nsg", string(nsg)), &[("subnet", quoted(subnet)), ("nic", quoted(nic))])
        }
        ActionSpec::DetachNsg { subnet, nic } => {
            let mut out = "DetachNsg(".to_string();
            let set: Vec<String> = [("subnet", subnet), ("nic", nic)]
                .into_iter()
                .filter_map(|(n, v)| v.as_deref().map(|v| format!("{n}: {}", string(v))))
                .collect();
            out.push_str(&set.join(", "));
            out.push(')');
            out
        }
        ActionSpec::AddRule { nsg, rule } => {
            format!("AddRule(nsg: {}, rule: {})", string(nsg), rule_line(rule))
        }
        ActionSpec::RemoveRule { nsg, rule } => {
            format!("RemoveRule(nsg: {}, rule: {})", string(nsg), string(rule))
        }
        ActionSpec::SetPeeringAccess { vnet, remote, allow } => {
            format!("SetPeeringAccess(vnet: {}, remote: {}, allow: {allow})", string(vnet), string(remote))
        }
        ActionSpec::Connect { name, from, to, port, protocol: p } => call(
            "Connect",
            ("name", string(name)),
            &[
                ("from", Some(string(from))),
                ("to", Some(string(to))),
                ("port", Some(port.to_string())),
                ("protocol", p.map(|p| protocol(p).to_string())),
            ],
        ),
        ActionSpec::Disconnect { name } => format!("Disconnect(name: {})", string(name)),
        ActionSpec::DeployAdminConfiguration { configuration } => {
            format!("DeployAdminConfiguration(configuration: {})", string(configuration))
        }
        ActionSpec::UndeployAdminConfiguration { configuration } => {
            format!("UndeployAdminConfiguration(configuration: {})", string(configuration))
        }
        ActionSpec::EnableJit { vm, vms, by, ports: p, approvers } => {
            // One VM (`vm`), or several in one action (`vms`), or both as written.
            let (first, vms) = match vm {
                Some(vm) => (("vm", string(vm)), (!vms.is_empty()).then(|| list(vms))),
                None => (("vms", list(vms)), None),
            };
            call(
                "EnableJit",
                first,
                &[
                    ("vms", vms),
                    ("by", quoted(by)),
                    ("ports", ports(p)),
                    ("approvers", approvers.as_deref().map(list)),
                ],
            )
        }
        ActionSpec::EditJit { vm, by, ports: p, approvers } => call(
            "EditJit",
            ("vm", string(vm)),
            &[("by", quoted(by)), ("ports", ports(p)), ("approvers", approvers.as_deref().map(list))],
        ),
        ActionSpec::SetDefenderPlan2 { enabled, by } => {
            call("SetDefenderPlan2", ("enabled", enabled.to_string()), &[("by", quoted(by))])
        }
        ActionSpec::ConnectPageRequest { id, user, vm, enable, justification } => call(
            "ConnectPageRequest",
            ("id", string(id)),
            &[
                ("user", Some(string(user))),
                ("vm", Some(string(vm))),
                ("enable", enable.then(|| "true".to_string())),
                ("justification", quoted(justification)),
            ],
        ),
        ActionSpec::DisableJit { vm, by } => call("DisableJit", ("vm", string(vm)), &[("by", quoted(by))]),
        ActionSpec::RequestJit { id, user, vms, vm, ports: p, duration, source, justification } => call(
            "RequestJit",
            ("id", string(id)),
            &[
                ("user", Some(string(user))),
                ("vm", quoted(vm)),
                ("vms", (!vms.is_empty()).then(|| list(vms))),
                ("ports", Some(format!("[{}]", p.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")))),
                ("duration", Some(string(duration))),
                ("source", quoted(source)),
                ("justification", quoted(justification)),
            ],
        ),
        ActionSpec::ApproveJit { request, by } => {
            format!("ApproveJit(request: {}, by: {})", string(request), string(by))
        }
        ActionSpec::DenyJit { request, by, reason } => call(
            "DenyJit",
            ("request", string(request)),
            &[("by", Some(string(by))), ("reason", quoted(reason))],
        ),
        ActionSpec::RevokeJit { request, by } => {
            format!("RevokeJit(request: {}, by: {})", string(request), string(by))
        }
    }
}

/// An expectation as the scenario writes it: `Flow(from: "alice", to: "vm1", port: 22, verdict: Allow)`.
pub fn expectation(e: &ExpectSpec) -> String {
    match e {
        ExpectSpec::Flow { from, to, port, protocol: p, src_port, via, verdict, nsg, rule } => call(
            "Flow",
            ("from", string(from)),
            &[
                ("to", Some(string(to))),
                ("port", Some(port.to_string())),
                ("protocol", p.map(|p| protocol(p).to_string())),
                ("src_port", src_port.map(|p| p.to_string())),
                ("via", quoted(via)),
                ("verdict", Some(access(*verdict).to_string())),
                ("nsg", quoted(nsg)),
                ("rule", quoted(rule)),
            ],
        ),
        ExpectSpec::Reply { connection, verdict } => {
            format!("Reply(connection: {}, verdict: {})", string(connection), access(*verdict))
        }
        ExpectSpec::Connection { name, open } => format!("Connection(name: {}, open: {open})", string(name)),
        ExpectSpec::JitStatus { vm, status, reason } => {
            let status = match status {
                JitStatusSpec::Configured => "Configured",
                JitStatusSpec::NotConfigured => "NotConfigured",
                JitStatusSpec::Recommended => "Recommended",
                JitStatusSpec::Unsupported => "Unsupported",
            };
            call(
                "JitStatus",
                ("vm", string(vm)),
                &[("status", Some(status.into())), ("reason", quoted(reason))],
            )
        }
        ExpectSpec::JitRequest { request, status, reason } => call(
            "JitRequest",
            ("request", string(request)),
            &[("status", Some(request_status(*status).into())), ("reason", quoted(reason))],
        ),
        ExpectSpec::JitRules { vm, nsg, deny, allow } => call(
            "JitRules",
            ("vm", string(vm)),
            &[
                ("nsg", quoted(nsg)),
                ("deny", deny.map(|n| n.to_string())),
                ("allow", allow.map(|n| n.to_string())),
            ],
        ),
        ExpectSpec::BastionRules { bastion, missing } => {
            format!("BastionRules(bastion: {}, missing: {})", string(bastion), list(missing))
        }
        ExpectSpec::Rule { nsg, rule, exists } => {
            format!("Rule(nsg: {}, rule: {}, exists: {exists})", string(nsg), string(rule))
        }
    }
}

/// The scenario's name of a request status.
pub fn request_status(status: RequestStatusSpec) -> &'static str {
    match status {
        RequestStatusSpec::Refused => "Refused",
        RequestStatusSpec::Pending => "Pending",
        RequestStatusSpec::Denied => "Denied",
        RequestStatusSpec::Active => "Active",
        RequestStatusSpec::Expired => "Expired",
        RequestStatusSpec::Revoked => "Revoked",
        RequestStatusSpec::Superseded => "Superseded",
        RequestStatusSpec::Cancelled => "Cancelled",
    }
}

/// One timeline step on one line: `(at: "1h", action: …, expect: …, note: "…")`.
pub fn step(s: &StepSpec) -> String {
    let mut out = format!("(at: {}", string(&s.at));
    fields(
        &mut out,
        &[
            ("action", s.action.as_deref().map(action)),
            ("expect", s.expect.as_deref().map(expectation)),
            ("note", quoted(&s.note)),
        ],
    );
    out.push(')');
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::scenario::schema::ScenarioFile;

    /// Every action and expectation, written as the loader reads them.
    const STEPS: &str = r#"[
        (at: "0", note: "a \"quoted\" note\nwith a line break"),
        (at: "1m", action: AttachNsg(nsg: "n", nic: "a-nic")),
        (at: "1m", action: DetachNsg(nic: "a-nic")),
        (at: "1m", action: AttachNsg(nsg: "n", subnet: "v/a")),
        (at: "2m", action: AddRule(nsg: "n", rule: Rule(name: "x", priority: 200, direction: Inbound, access: Allow, protocol: Tcp, source: "10.0.0.0/8", source_ports: "*", destination_ports: "22", description: "d"))),
        (at: "2m", action: RemoveRule(nsg: "n", rule: "x")),
        (at: "3m", action: Connect(name: "c", from: "a", to: "b", port: 22, protocol: Tcp)),
        (at: "3m", action: Disconnect(name: "c")),
        (at: "4m", action: EnableJit(vm: "b", by: "alice", ports: [Port(number: 22, protocol: Tcp, allowed_sources: ["*"], max_duration: "PT1H"), Port(number: 3389)], approvers: ["Owner"])),
        (at: "5m", action: EditJit(vm: "b", approvers: [])),
        (at: "6m", action: RequestJit(id: "r1", user: "alice", vm: "b", ports: [22], duration: "30m", source: "203.0.113.0/24", justification: "fix")),
        (at: "6m", action: RequestJit(id: "r2", user: "alice", vms: ["a", "b"], ports: [22, 3389], duration: "1h")),
        (at: "7m", action: RevokeJit(request: "r1", by: "alice")),
        (at: "8m", action: DisableJit(vm: "b")),
        (at: "9m", expect: Flow(from: "alice", to: "b", port: 22, protocol: Tcp, src_port: 40000, verdict: Deny, nsg: "n", rule: "DenyAllInBound")),
        (at: "9m", expect: Reply(connection: "c", verdict: Deny)),
        (at: "9m", expect: Connection(name: "c", open: false)),
        (at: "9m", expect: JitStatus(vm: "b", status: Recommended)),
        (at: "9m", expect: JitRequest(request: "r1", status: Revoked, reason: "x")),
        (at: "9m", expect: JitRules(vm: "b", nsg: "n", deny: 0, allow: 0)),
        (at: "9m", expect: Rule(nsg: "n", rule: "x", exists: false), note: "both"),
    ]"#;

    fn base(timeline: &str) -> String {
        format!(
            r#"Scenario(name: "w", start: "2025-01-06T09:00:00Z",
                vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "a", prefix: "10.0.1.0/24", nsg: "n")])],
                nsgs: [Nsg(name: "n")],
                vms: [Vm(name: "a", os: Linux, nics: [Nic(name: "a-nic", subnet: "v/a", private_ip: "10.0.1.4")]),
                      Vm(name: "b", os: Windows, nics: [Nic(name: "b-nic", subnet: "v/a", private_ip: "10.0.1.5")])],
                users: [User(name: "alice", roles: ["Owner"], source_ip: "203.0.113.7")],
                timeline: {timeline})"#
        )
    }

    #[test]
    fn every_step_writes_as_the_loader_reads_it() {
        let options =
            ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
        let file: ScenarioFile = options.from_str(&base(STEPS)).expect("the base parses");
        let written: Vec<String> = file.timeline.iter().map(step).collect();
        let again_text = base(&format!("[\n{}\n]", written.join(",\n")));
        let again: ScenarioFile =
            options.from_str(&again_text).unwrap_or_else(|e| panic!("{e}\n{again_text}"));
        let rewritten: Vec<String> = again.timeline.iter().map(step).collect();
        assert_eq!(written, rewritten, "writing is a fixed point");
        assert_eq!(written.len(), 21);
        // Both texts mean the same scenario to the loader.
        let a = crate::scenario::load_str(&base(STEPS), Path::new("a.ron")).unwrap_or_else(|e| panic!("{e}"));
        let b = crate::scenario::load_str(&again_text, Path::new("b.ron")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            format!("{:?}", a.steps.iter().map(|s| &s.action).collect::<Vec<_>>()),
            format!("{:?}", b.steps.iter().map(|s| &s.action).collect::<Vec<_>>())
        );
        assert_eq!(written[0], r#"(at: "0", note: "a \"quoted\" note\nwith a line break")"#);
        assert_eq!(
            written[10],
            r#"(at: "6m", action: RequestJit(id: "r1", user: "alice", vm: "b", ports: [22], duration: "30m", source: "203.0.113.0/24", justification: "fix"))"#
        );
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(string("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(string("x\u{1}"), "\"x\\u{1}\"");
    }
}
