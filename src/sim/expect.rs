//! Checking a step's expectation against the simulation at that instant: a flow's verdict and
//! deciding rule, a reply of a tracked connection, a JIT status or request, rule counts, Bastion's
//! required rules. What was found is data ([`Found`]); its `Display` is the sentence every output
//! shows.

use std::fmt;

use crate::jit::{RequestState, RequestStatus, Supportability, is_jit_rule};
use crate::model::{NsgId, VmId};
use crate::nsg::{Access, AddressSpec};
use crate::path::{Destination, FlowRequest, Hop, HopKind, Source, Trace};

use super::{Expectation, Simulator};

/// What an expectation found.
#[derive(Clone, Debug)]
pub struct ExpectationOutcome {
    /// The expectation in words.
    pub description: String,
    /// Whether it held.
    pub passed: bool,
    /// What was expected, in words.
    pub expected: String,
    /// What was found.
    pub actual: Found,
    /// The flow trace behind the answer, when a flow was evaluated.
    pub trace: Option<Trace>,
}

/// How a reply of a tracked connection fared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyFound {
    /// The connection is open: its replies pass without a rule (NSGs are stateful).
    Stateful,
    /// The connection was closed: the reply was evaluated as a new flow, with this verdict.
    NewFlow(Access),
    /// The connection was never opened: there is no reply.
    NeverOpened,
}

impl ReplyFound {
    /// Whether the reply gets through.
    pub fn verdict(self) -> Access {
        match self {
            ReplyFound::Stateful => Access::Allow,
            ReplyFound::NewFlow(verdict) => verdict,
            ReplyFound::NeverOpened => Access::Deny,
        }
    }
}

/// What an expectation found, by kind of expectation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// A flow's verdict and the hop that decided it.
    Flow {
        /// The verdict.
        verdict: Access,
        /// The deciding hop, if any hop decided (boxed: a hop with its detail is large beside the
        /// other outcomes).
        decided: Option<Box<Hop>>,
    },
    /// A reply of a tracked connection.
    Reply(ReplyFound),
    /// Whether a tracked connection is open.
    Connection {
        /// Open or closed.
        open: bool,
    },
    /// A VM's JIT status.
    JitStatus(Supportability),
    /// No request of the expected name has been made.
    NoSuchRequest,
    /// A request's status and state (its reason, when refused, denied or cancelled).
    JitRequest {
        /// Its status.
        status: RequestStatus,
        /// Its state.
        state: RequestState,
    },
    /// How many JIT deny and allow rules name the VM.
    JitRules {
        /// Deny rules.
        deny: usize,
        /// Allow rules.
        allow: usize,
    },
    /// The Bastion subnet rules the NSG misses, by name.
    BastionRules {
        /// The missing rules.
        missing: Vec<String>,
    },
    /// Whether a rule is in an NSG.
    Rule {
        /// Present or absent.
        present: bool,
    },
}

impl Found {
    /// Why a request ended as it did (refused, denied or cancelled), in words; empty otherwise.
    fn request_reason(state: &RequestState) -> String {
        match state {
            RequestState::Refused(why) => why.to_string(),
            RequestState::Denied { by, reason } => format!("{by}: {reason}"),
            RequestState::Cancelled(why) => why.to_string(),
            RequestState::Pending | RequestState::Granted => String::new(),
        }
    }
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Found::Flow { verdict, decided } => {
                write!(f, "{verdict}")?;
                match decided {
                    Some(h) if h.rule.is_some() => {
                        let what = match h.kind {
                            HopKind::Firewall => "Azure Firewall",
                            HopKind::AdminRule => "security admin configuration",
                            HopKind::LoadBalancer => "load balancer",
                            HopKind::NatGateway => "NAT gateway",
                            _ => "NSG",
                        };
                        write!(f, " by {what} '{}' rule {}", h.resource, h.rule_name().unwrap_or_default())
                    }
                    Some(h) => write!(f, " ({})", h.detail),
                    None => Ok(()),
                }
            }
            Found::Reply(ReplyFound::Stateful) => {
                f.write_str("Allow (stateful: replies of an established connection need no rule)")
            }
            Found::Reply(ReplyFound::NewFlow(verdict)) => {
                write!(f, "{verdict} (no established connection: evaluated as a new flow)")
            }
            Found::Reply(ReplyFound::NeverOpened) => f.write_str("Deny (connection was never opened)"),
            Found::Connection { open } => f.write_str(if *open { "open" } else { "closed" }),
            Found::JitStatus(status) => write!(f, "{status}"),
            Found::NoSuchRequest => f.write_str("no such request has been made"),
            Found::JitRequest { status, state } => {
                let why = Found::request_reason(state);
                if why.is_empty() { write!(f, "{status}") } else { write!(f, "{status}: {why}") }
            }
            Found::JitRules { deny, allow } => write!(f, "{deny} deny, {allow} allow"),
            Found::BastionRules { missing } => {
                if missing.is_empty() {
                    f.write_str("none missing")
                } else {
                    write!(f, "missing {}", missing.join(", "))
                }
            }
            Found::Rule { present } => f.write_str(if *present { "present" } else { "absent" }),
        }
    }
}

impl Simulator {
    /// Checks one expectation against the current state.
    pub fn check(&self, expectation: &Expectation) -> ExpectationOutcome {
        match expectation {
            Expectation::Flow { request, endpoints, verdict, nsg, rule } => {
                let trace = self.evaluate(request);
                // A flow through Bastion is not the same flow as the direct one (it arrives from the
                // Bastion subnet): the line says so, or Allow then Deny would read as a contradiction.
                let via = request
                    .via
                    .map(|b| format!(" via bastion '{}'", self.topology.bastion(b).name))
                    .unwrap_or_default();
                let description = format!(
                    "{} -> {} {} port {}{via}",
                    endpoints.from, endpoints.to, request.protocol, request.dst_port
                );
                let decided = trace.deciding_hop().cloned();
                let by_rule = decided.as_ref().filter(|h| h.rule.is_some());
                let mut expected = verdict.to_string();
                let mut passed = trace.verdict == *verdict;
                if let Some(nsg) = nsg {
                    let want = &self.topology.nsg(*nsg).name;
                    expected.push_str(&format!(" by NSG '{want}'"));
                    passed &= by_rule.is_some_and(|h| h.resource == *want);
                }
                if let Some(rule) = rule {
                    expected.push_str(&format!(" by rule {rule}"));
                    passed &=
                        by_rule.and_then(|h| h.rule.as_ref()).is_some_and(|actual| actual.answers_to(rule));
                }
                let actual = Found::Flow { verdict: trace.verdict, decided: decided.map(Box::new) };
                ExpectationOutcome { description, passed, expected, actual, trace: Some(trace) }
            }
            Expectation::Reply { connection, verdict } => {
                let description = format!("reply traffic of connection '{connection}'");
                let (found, trace) = match self.connections.get(connection) {
                    Some(c) if c.open => (ReplyFound::Stateful, None),
                    // No flow record: the reply is a new flow from the destination back.
                    _ => match self.reply_as_new_flow(connection) {
                        Some(t) => (ReplyFound::NewFlow(t.verdict), Some(t)),
                        None => (ReplyFound::NeverOpened, None),
                    },
                };
                ExpectationOutcome {
                    description,
                    passed: found.verdict() == *verdict,
                    expected: verdict.to_string(),
                    actual: Found::Reply(found),
                    trace,
                }
            }
            Expectation::Connection { name, open } => {
                let is_open = self.connections.get(name).is_some_and(|c| c.open);
                ExpectationOutcome {
                    description: format!("connection '{name}'"),
                    passed: is_open == *open,
                    expected: Found::Connection { open: *open }.to_string(),
                    actual: Found::Connection { open: is_open },
                    trace: None,
                }
            }
            Expectation::JitStatus { vm, status, reason } => {
                let actual = self.jit.status(&self.topology, *vm);
                let mut passed = actual.label().eq_ignore_ascii_case(status);
                let mut expected = status.clone();
                if let Some(text) = reason {
                    // The scenario's text is matched against the reason as every output shows it.
                    expected.push_str(&format!(" (reason containing '{text}')"));
                    passed &= actual.to_string().to_lowercase().contains(&text.to_lowercase());
                }
                ExpectationOutcome {
                    description: format!("JIT status of vm '{}'", self.topology.vm(*vm).name),
                    passed,
                    expected,
                    actual: Found::JitStatus(actual),
                    trace: None,
                }
            }
            Expectation::JitRequest { request, status, reason } => {
                let description = format!("JIT request '{request}'");
                let Some(r) = self.jit.request_by_name(request) else {
                    return ExpectationOutcome {
                        description,
                        passed: false,
                        expected: status.to_string(),
                        actual: Found::NoSuchRequest,
                        trace: None,
                    };
                };
                let actual_status = self.jit.request_status(r);
                let mut passed = actual_status == *status;
                let mut expected = status.to_string();
                if let Some(text) = reason {
                    // As for a JIT status: the reason as every output shows it.
                    expected.push_str(&format!(" (reason containing '{text}')"));
                    passed &= Found::request_reason(&r.state).to_lowercase().contains(&text.to_lowercase());
                }
                let actual = Found::JitRequest { status: actual_status, state: r.state.clone() };
                ExpectationOutcome { description, passed, expected, actual, trace: None }
            }
            Expectation::JitRules { vm, nsg, deny, allow } => {
                let (denies, allows) = self.count_jit_rules(*vm, *nsg);
                let mut expected = Vec::new();
                let mut passed = true;
                if let Some(d) = deny {
                    expected.push(format!("{d} deny"));
                    passed &= denies == *d;
                }
                if let Some(a) = allow {
                    expected.push(format!("{a} allow"));
                    passed &= allows == *a;
                }
                let scope = match nsg {
                    Some(n) => format!("NSG '{}'", self.topology.nsg(*n).name),
                    None => "all NSGs".into(),
                };
                ExpectationOutcome {
                    description: format!("JIT rules for vm '{}' in {scope}", self.topology.vm(*vm).name),
                    passed,
                    expected: expected.join(", "),
                    actual: Found::JitRules { deny: denies, allow: allows },
                    trace: None,
                }
            }
            Expectation::BastionRules { bastion, missing } => {
                let found: Vec<String> = crate::path::missing_bastion_rules(&self.topology, *bastion)
                    .into_iter()
                    .map(|m| m.rule.to_string())
                    .collect();
                let mut want = missing.clone();
                want.sort();
                let mut got = found.clone();
                got.sort();
                ExpectationOutcome {
                    description: format!(
                        "required rules of the NSG on the subnet of Bastion '{}'",
                        self.topology.bastion(*bastion).name
                    ),
                    passed: want == got,
                    expected: Found::BastionRules { missing: want }.to_string(),
                    actual: Found::BastionRules { missing: found },
                    trace: None,
                }
            }
            Expectation::Rule { nsg, name, exists } => {
                let n = self.topology.nsg(*nsg);
                let found = n.rule(name).is_some();
                ExpectationOutcome {
                    description: format!("rule '{name}' in NSG '{}'", n.name),
                    passed: found == *exists,
                    expected: Found::Rule { present: *exists }.to_string(),
                    actual: Found::Rule { present: found },
                    trace: None,
                }
            }
        }
    }

    /// Counts the JIT deny and allow rules whose destination is one of `vm`'s addresses.
    fn count_jit_rules(&self, vm: VmId, nsg: Option<NsgId>) -> (usize, usize) {
        let ips: Vec<std::net::IpAddr> =
            self.topology.vm(vm).nics.iter().map(|n| self.topology.nic(*n).private_ip).collect();
        let nsgs: Vec<NsgId> = match nsg {
            Some(n) => vec![n],
            None => self.topology.nsg_ids().collect(),
        };
        let mut counts = (0, 0);
        for id in nsgs {
            for r in &self.topology.nsg(id).rules {
                let for_vm = matches!(&r.destination, AddressSpec::Prefixes(p) if p.iter().any(|n| ips.contains(&n.addr())));
                if is_jit_rule(&r.name) && for_vm {
                    match r.access {
                        Access::Deny => counts.0 += 1,
                        Access::Allow => counts.1 += 1,
                    }
                }
            }
        }
        counts
    }

    fn reply_as_new_flow(&self, connection: &str) -> Option<Trace> {
        // Only connections that were attempted have a known flow; a closed one is replayed backwards.
        let c = self.connections.get(connection)?;
        let source = crate::path::reply_source(&self.topology, &c.request)?;
        let destination = match c.request.source {
            Source::Nic(n) => Destination::Nic(n),
            Source::Address(a) | Source::AddressAt(a, _) => Destination::Address(a),
        };
        let reply = FlowRequest {
            source,
            destination,
            protocol: c.request.protocol,
            src_port: c.request.dst_port,
            dst_port: c.request.src_port,
            via: None,
        };
        Some(self.evaluate(&reply))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nsg::RuleRef;
    use crate::sim::testing::{outcomes, play};

    #[test]
    fn flow_expectations_check_the_verdict_the_nsg_and_the_rule() {
        let report = play(
            r#"(at: "0", expect: Flow(from: "vm2", to: "vm1", port: 22, verdict: Allow, nsg: "nsg-a", rule: "allow-ssh")),
               (at: "0", expect: Flow(from: "vm2", to: "vm1", port: 22, verdict: Allow, rule: "securityRules/allow-ssh")),
               (at: "0", expect: Flow(from: "vm2", to: "vm1", port: 22, verdict: Allow, rule: "defaultSecurityRules/allow-ssh")),
               (at: "0", expect: Flow(from: "vm2", to: "vm1", port: 22, verdict: Deny)),
               (at: "0", expect: Flow(from: "alice", to: "vm1", port: 22, verdict: Deny, rule: "DenyAllInBound")),
               (at: "0", expect: Flow(from: "vm1", to: "vm2", port: 22, verdict: Allow, nsg: "nsg-a"))"#,
        );
        let got = outcomes(&report);
        assert!(got[0].0 && got[1].0, "{got:?}");
        assert!(!got[2].0, "a default-rule name must not match a user rule: {got:?}");
        let decided = |found: &Found| match found {
            Found::Flow { verdict, decided } => {
                (*verdict, decided.as_ref().map(|h| (h.resource.clone(), h.rule.clone(), h.kind)))
            }
            other => panic!("not a flow: {other:?}"),
        };
        assert_eq!((got[3].0, got[3].1.as_str()), (false, "Deny"));
        assert_eq!(
            decided(&got[3].2),
            (
                Access::Allow,
                Some(("nsg-a".into(), Some(RuleRef::Security { name: "allow-ssh".into() }), HopKind::Nsg))
            )
        );
        assert_eq!(got[3].2.to_string(), "Allow by NSG 'nsg-a' rule securityRules/allow-ssh");
        // No NSG decided (no route from the Internet to a VM without a public IP): an expectation
        // that names a rule fails even though the verdict matches.
        let (verdict, hop) = decided(&got[4].2);
        assert!(!got[4].0 && verdict == Access::Deny, "{got:?}");
        assert!(hop.is_some_and(|(_, rule, _)| rule.is_none()), "{got:?}");
        assert!(got[4].2.to_string().contains("not routable from the Internet"), "{}", got[4].2);
        // vm1 -> vm2: nsg-a decides outbound (vm2 has no NSG), by AllowVnetOutBound.
        assert_eq!((got[5].0, got[5].1.as_str()), (true, "Allow by NSG 'nsg-a'"));
        assert_eq!(
            decided(&got[5].2).1,
            Some(("nsg-a".into(), Some(RuleRef::Default { name: "AllowVnetOutBound".into() }), HopKind::Nsg))
        );
        assert_eq!(report.tally(), (3, 3));
    }

    /// Issue 19 item 3: Microsoft's articles spell the default rules `DenyAllInbound`,
    /// `AllowVNetInBound` and `AllowInternetOutbound` (the API `DenyAllInBound`, …), and "Resource
    /// names are case-insensitive": every name in an expectation matches in any case, and the
    /// outcome prints the definition's spelling.
    #[test]
    fn names_in_expectations_match_without_regard_to_case() {
        let report = play(
            r#"(at: "0", expect: Flow(from: "VM2", to: "Vm1", port: 22, verdict: Allow, nsg: "NSG-A", rule: "Allow-SSH")),
               (at: "0", expect: Flow(from: "vm1", to: "vm2", port: 23, verdict: Allow, rule: "AllowVNetOutBound")),
               (at: "0", expect: Flow(from: "vm1", to: "203.0.113.9", port: 443, verdict: Allow, rule: "AllowInternetOutbound")),
               (at: "0", expect: Flow(from: "vm2", to: "vm1", port: 23, verdict: Allow, rule: "allowvnetinbound")),
               (at: "0", expect: Flow(from: "ALICE", to: "VM1", port: 80, verdict: Deny)),
               (at: "0", expect: Rule(nsg: "Nsg-A", rule: "ALLOW-ssh", exists: true)),
               (at: "0", expect: Flow(from: "vm1", to: "vm2", port: 23, verdict: Allow, rule: "AllowVNetOutBound2"))"#,
        );
        let got = outcomes(&report);
        assert!(got[..6].iter().all(|g| g.0), "{got:?}");
        assert!(!got[6].0, "a different name still fails: {got:?}");
        assert_eq!(got[0].1, "Allow by NSG 'nsg-a' by rule Allow-SSH");
        assert_eq!(got[0].2.to_string(), "Allow by NSG 'nsg-a' rule securityRules/allow-ssh");
    }

    #[test]
    fn replies_need_no_rule_while_the_connection_is_open() {
        let report = play(
            r#"(at: "0", action: Connect(name: "ssh", from: "vm2", to: "vm1", port: 22)),
               (at: "1m", action: RemoveRule(nsg: "nsg-a", rule: "allow-ssh")),
               (at: "1m", expect: Flow(from: "vm2", to: "vm1", port: 22, verdict: Allow, rule: "AllowVnetInBound")),
               (at: "1m", expect: Reply(connection: "ssh", verdict: Allow)),
               (at: "2m", action: Disconnect(name: "ssh")),
               (at: "2m", expect: Reply(connection: "ssh", verdict: Allow)),
               (at: "2m", expect: Reply(connection: "never", verdict: Deny)),
               (at: "2m", expect: Connection(name: "never", open: false))"#,
        );
        let got = outcomes(&report);
        assert!(got.iter().all(|g| g.0), "{got:?}");
        assert_eq!(got[1].2, Found::Reply(ReplyFound::Stateful));
        assert_eq!(got[2].2, Found::Reply(ReplyFound::NewFlow(Access::Allow)));
        assert_eq!(got[3].2, Found::Reply(ReplyFound::NeverOpened));
        assert_eq!(
            got[1].2.to_string(),
            "Allow (stateful: replies of an established connection need no rule)"
        );
        assert_eq!(got[2].2.to_string(), "Allow (no established connection: evaluated as a new flow)");
        assert_eq!(got[3].2.to_string(), "Deny (connection was never opened)");
    }

    #[test]
    fn jit_expectations_find_statuses_requests_and_rule_counts() {
        let report = play(
            r#"(at: "0", action: EnableJit(vm: "vm1", ports: [Port(number: 22)])),
               (at: "0", expect: JitStatus(vm: "vm1", status: Configured)),
               (at: "0", expect: JitRules(vm: "vm1", deny: 1, allow: 0)),
               (at: "1m", action: RequestJit(id: "r1", user: "alice", vm: "vm1", ports: [22], duration: "1h")),
               (at: "1m", expect: JitRequest(request: "r1", status: Active)),
               (at: "1m", expect: JitRules(vm: "vm1", nsg: "nsg-a", allow: 1)),
               (at: "1m", expect: JitRequest(request: "nope", status: Active)),
               (at: "1m", action: RequestJit(id: "r2", user: "alice", vm: "vm2", ports: [22], duration: "1h")),
               (at: "1m", expect: JitRequest(request: "r2", status: Refused, reason: "NOT CONFIGURED")),
               (at: "1h1m", expect: JitRules(vm: "vm1", allow: 0)),
               (at: "1h1m", expect: JitRequest(request: "r1", status: Expired)),
               (at: "1h1m", expect: Rule(nsg: "nsg-a", rule: "allow-ssh", exists: true))"#,
        );
        let got = outcomes(&report);
        assert_eq!(got.iter().filter(|g| !g.0).count(), 1, "{got:?}");
        assert_eq!(got[0].2, Found::JitStatus(Supportability::Configured));
        assert_eq!(got[1].2, Found::JitRules { deny: 1, allow: 0 });
        assert!(matches!(
            got[2].2,
            Found::JitRequest { status: RequestStatus::Active, state: RequestState::Granted }
        ));
        assert_eq!(got[4].2, Found::NoSuchRequest);
        assert_eq!(got[4].2.to_string(), "no such request has been made");
        assert!(got[5].0, "the reason is matched as shown, case aside: {:?}", got[5]);
        assert!(
            matches!(&got[5].2, Found::JitRequest {
                status: RequestStatus::Refused,
                state: RequestState::Refused(crate::jit::JitError::NotConfigured {
                    vm,
                    status: Supportability::Unsupported(crate::jit::UnsupportedReason::NoNsgOrFirewall),
                }),
            } if vm == "vm2"),
            "{:?}",
            got[5].2
        );
        assert_eq!(got[6].2.to_string(), "1 deny, 0 allow");
        assert_eq!(
            got[7].2,
            Found::JitRequest { status: RequestStatus::Expired, state: RequestState::Granted }
        );
        assert_eq!(got[8].2, Found::Rule { present: true });
    }
}
