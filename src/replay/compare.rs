//! One record: map it onto the topology, evaluate it, and compare with what Azure logged or the
//! author expected.

use std::net::IpAddr;

use super::read::{FlowRecord, Logged, LoggedAt, LoggedRule};
use crate::model::{NsgId, SubnetId, Topology};
use crate::nsg::{Access, CompiledNsg, Direction, RuleRef};
use crate::path::{Destination, FlowRequest, Hop, HopKind, PolicyCache, Source, Trace, evaluate};
use crate::sim::Instant;

use super::{Check, Decision, Evaluation, Outcome, RuleHit, Unmapped};

/// Evaluates one record in the state given by `topology` and `cache`, at `at`: the reference
/// evaluation (the whole path, every time), which the batched evaluation must agree with.
pub(super) fn evaluate_record(
    topology: &Topology,
    cache: &PolicyCache,
    record: &FlowRecord,
    at: Instant,
) -> Outcome {
    evaluate_traced(topology, cache, record, at).0
}

/// [`evaluate_record`], with the trace of the path when one was evaluated.
pub(super) fn evaluate_traced(
    topology: &Topology,
    cache: &PolicyCache,
    record: &FlowRecord,
    at: Instant,
) -> (Outcome, Option<Trace>) {
    if let Some(outcome) = ambiguous(topology, record) {
        return (outcome, None);
    }
    match &record.logged {
        Some(logged) => logged_record(topology, cache, record, logged, at),
        None => plain_record(topology, cache, record, at),
    }
}

fn unmapped(reason: String, unknown: Vec<IpAddr>) -> (Outcome, Option<Trace>) {
    (Outcome::Unmapped(Unmapped { reason, unknown }), None)
}

/// A record with an address that VNets of separate routing domains share: a record gives
/// addresses only, so it is not mapped to one of them (never to the first VNet that holds it).
fn ambiguous(topology: &Topology, record: &FlowRecord) -> Option<Outcome> {
    [record.flow.src, record.flow.dst].into_iter().find_map(|ip| {
        let sites = topology.sites_of(ip);
        (sites.len() > 1).then(|| {
            let labels: Vec<String> = sites.iter().map(|s| topology.site_label(*s, ip)).collect();
            unmapped(
                format!(
                    "{ip} is in more than one routing domain ({}): the record does not say which one it is",
                    labels.join(", ")
                ),
                Vec::new(),
            )
            .0
        })
    })
}

/// The flow as a request: a NIC's private address is that NIC (so the Internet reaches it
/// through its public IP, as the logged private address implies), anything else an address.
fn request(topology: &Topology, record: &FlowRecord) -> FlowRequest {
    let f = &record.flow;
    let source = match topology.nic_by_private_ip(f.src) {
        Some(n) => Source::Nic(n),
        None => Source::Address(f.src),
    };
    let destination = match topology.nic_by_private_ip(f.dst) {
        Some(n) => Destination::Nic(n),
        None => Destination::Address(f.dst),
    };
    FlowRequest {
        source,
        destination,
        protocol: f.protocol,
        src_port: f.src_port,
        dst_port: f.dst_port,
        via: None,
    }
}

/// Whether `ip` belongs to the scenario: a NIC, a public IP, or a VNet's address space.
fn in_topology(topology: &Topology, ip: IpAddr) -> bool {
    !topology.nics_with_ip(ip).is_empty()
        || topology.public_ip_by_address(ip).is_some()
        || topology.vnets_holding(ip).next().is_some()
}

/// The NSG hops of a trace as rule hits, optionally only one direction's.
fn hits_of(trace: &Trace, direction: Option<Direction>) -> Vec<RuleHit> {
    trace
        .hops
        .iter()
        .filter(|h| h.kind == HopKind::Nsg && (direction.is_none() || h.direction == direction))
        .filter_map(|h| {
            Some(RuleHit { nsg: h.resource.clone(), direction: h.direction?, rule: h.rule.clone()? })
        })
        .collect()
}

fn decision_of(hop: Option<&Hop>, verdict: Access) -> Decision {
    match hop {
        Some(h) => Decision {
            access: verdict,
            nsg: matches!(h.kind, HopKind::Nsg | HopKind::Firewall).then(|| h.resource.clone()),
            rule: h.rule.clone(),
        },
        None => Decision { access: verdict, nsg: None, rule: None },
    }
}

/// A CSV row: the end-to-end verdict, compared with `expected` when given.
fn plain_record(
    topology: &Topology,
    cache: &PolicyCache,
    record: &FlowRecord,
    at: Instant,
) -> (Outcome, Option<Trace>) {
    let f = &record.flow;
    if !in_topology(topology, f.src) && !in_topology(topology, f.dst) {
        return unmapped(
            format!(
                "neither {} nor {} is in the scenario (a NIC's private IP, a public IP or a VNet's address space)",
                f.src, f.dst
            ),
            vec![f.src, f.dst],
        );
    }
    let trace = evaluate(topology, cache, &request(topology, record));
    let decided = trace.deciding_hop();
    let check = record.expected.map(|expected| {
        let agrees = expected == trace.verdict;
        Check {
            agrees,
            reference: Decision { access: expected, nsg: None, rule: None },
            logged_rule: None,
            nsgsim: decision_of(decided, trace.verdict),
            note: None,
            trace: (!agrees).then(|| trace.clone()),
        }
    });
    let outcome = Outcome::Evaluated(Evaluation {
        at,
        verdict: trace.verdict,
        direction: decided.and_then(|h| h.direction),
        hits: hits_of(&trace, None),
        check,
    });
    (outcome, Some(trace))
}

/// What one NSG decides on its own for the logged tuple, where it is applied (`subnet`).
fn alone(
    topology: &Topology,
    cache: &PolicyCache,
    nsg: NsgId,
    subnet: SubnetId,
    direction: Direction,
    record: &FlowRecord,
) -> (RuleHit, Access) {
    // `nsg` is one of the NSGs associated at the logging NIC or its subnet, and the cache holds
    // every association, so this always hits; compiling here is a fallback, not a hot path.
    let fresh;
    let compiled = match cache.get(topology, nsg, subnet, direction) {
        Some(c) => c,
        None => {
            fresh = CompiledNsg::compile(
                topology.nsg(nsg),
                direction,
                &topology.resolve_context_for_subnet(subnet),
            );
            &fresh
        }
    };
    let hit = compiled.evaluate(&record.flow);
    let name = topology.nsg(nsg).name.clone();
    (RuleHit { nsg: name, direction, rule: hit.rule.rule_ref() }, hit.rule.access)
}

/// A flow-log record: the decision where Azure logged it (see [`Check`]).
fn logged_record(
    topology: &Topology,
    cache: &PolicyCache,
    record: &FlowRecord,
    logged: &Logged,
    at: Instant,
) -> (Outcome, Option<Trace>) {
    let t = topology;
    if let LoggedRule::Other(name) = &logged.rule {
        return unmapped(
            format!(
                "rule '{name}' is not an NSG rule (neither UserRule_NAME nor DefaultRule_NAME): Virtual Network Manager admin rules and encryption drops are not modelled"
            ),
            Vec::new(),
        );
    }
    let direction = logged.direction;
    let (local, role) = match direction {
        Direction::Inbound => (record.flow.dst, "the destination of an inbound flow"),
        Direction::Outbound => (record.flow.src, "the source of an outbound flow"),
    };
    let nic = t.nic_by_private_ip(local);
    // `local` is in one routing domain at most (see `ambiguous`).
    let in_subnet = || t.vnets_holding(local).find_map(|v| t.subnet_in_vnet(v, local));
    let Some(subnet) = nic.map(|n| t.nic(n).subnet).or_else(in_subnet) else {
        return unmapped(
            format!(
                "{local} ({role}, where Azure logged it) is not a NIC's address or in a subnet of the scenario"
            ),
            vec![local],
        );
    };
    let nic_nsg = nic.and_then(|n| t.nic(n).nsg);
    let subnet_nsg = t.subnet(subnet).nsg;
    // The NSGs at the logging NIC, in the order Azure evaluates them.
    let chain: Vec<NsgId> = match direction {
        Direction::Inbound => [subnet_nsg, nic_nsg],
        Direction::Outbound => [nic_nsg, subnet_nsg],
    }
    .into_iter()
    .flatten()
    .collect();
    let where_local = match nic {
        Some(n) => format!("nic '{}' or its subnet", t.nic(n).name),
        None => {
            let s = t.subnet(subnet);
            format!("subnet '{}/{}'", t.vnet(s.vnet).name, s.name)
        }
    };
    let point: Vec<NsgId> = match &logged.at {
        LoggedAt::Nsg(name) => {
            let Some(id) = t.nsg_ids().find(|&id| t.nsg(id).name.eq_ignore_ascii_case(name)) else {
                return unmapped(
                    format!("NSG '{name}' (from the record's resourceId) is not in the scenario"),
                    Vec::new(),
                );
            };
            if !chain.contains(&id) {
                return unmapped(
                    format!("NSG '{}' is not on {where_local} ({local}, {role}) at {at}", t.nsg(id).name),
                    Vec::new(),
                );
            }
            vec![id]
        }
        LoggedAt::Acl(acl) => match chain.iter().find(|&&id| t.nsg(id).name.eq_ignore_ascii_case(acl)) {
            Some(&id) => vec![id],
            None => chain.clone(),
        },
    };
    let names: Vec<&str> = point.iter().map(|&id| t.nsg(id).name.as_str()).collect();
    let point_text = match (&logged.at, names.as_slice()) {
        (_, []) => format!("{where_local}, which has no NSG"),
        (_, [one]) => format!("NSG '{one}'"),
        (_, many) => format!("the NSGs of {where_local} ({})", many.join(", ")),
    };
    let reference = Decision {
        access: logged.access,
        nsg: match &logged.at {
            LoggedAt::Nsg(_) => names.first().map(|n| n.to_string()),
            LoggedAt::Acl(acl) => Some(acl.clone()),
        },
        rule: logged.rule.rule_ref(),
    };

    let trace = evaluate(t, cache, &request(t, record));
    let mut hits = hits_of(&trace, Some(direction));
    let on_point = |h: &&Hop| {
        h.kind == HopKind::Nsg
            && h.direction == Some(direction)
            && names.iter().any(|n| n.eq_ignore_ascii_case(&h.resource))
    };
    let path_hops: Vec<&Hop> = trace.hops.iter().filter(on_point).collect();
    // The point's NSGs on their own, in Azure's order, up to the first deny.
    let evaluate_alone = || {
        let mut out = Vec::new();
        for &id in &point {
            let (hit, access) = alone(t, cache, id, subnet, direction, record);
            out.push((hit, access));
            if access == Access::Deny {
                break;
            }
        }
        out
    };
    let matches_rule = |rule: &RuleRef| logged.rule.is(rule);
    let (verdict, nsgsim, agrees, note) = if !path_hops.is_empty() {
        let hop = path_hops.iter().find(|h| h.access == Access::Deny).or(path_hops.last()).copied();
        let nsgsim = decision_of(hop, hop.map_or(Access::Allow, |h| h.access));
        let same_rule = nsgsim.rule.as_ref().is_some_and(matches_rule)
            // With several NSGs at the point, Azure may log at either level.
            || (point.len() > 1
                && evaluate_alone_all(t, cache, &point, subnet, direction, record)
                    .iter()
                    .any(|(h, a)| *a == nsgsim.access && matches_rule(&h.rule)));
        let agrees = nsgsim.access == logged.access && same_rule;
        (nsgsim.access, nsgsim, agrees, None)
    } else if trace.verdict == Access::Deny {
        let denier = trace.deciding_hop();
        let nsgsim = decision_of(denier, Access::Deny);
        let by_itself = evaluate_alone();
        let alone_text = describe_alone(&by_itself);
        hits.extend(by_itself.iter().map(|(h, _)| h.clone()));
        let before = format!(
            "the flow is denied before it reaches {point_text}: {}",
            denier.map_or_else(|| "no hop".to_string(), |h| h.detail.to_string())
        );
        let agrees = logged.access == Access::Deny
            && by_itself.iter().any(|(h, a)| *a == Access::Deny && matches_rule(&h.rule));
        (Access::Deny, nsgsim, agrees, Some(format!("{before}; {point_text} alone: {alone_text}")))
    } else {
        let by_itself = evaluate_alone();
        let access =
            if by_itself.iter().any(|(_, a)| *a == Access::Deny) { Access::Deny } else { Access::Allow };
        let shown = by_itself.iter().find(|(_, a)| *a == Access::Deny).or(by_itself.last());
        let nsgsim = Decision {
            access,
            nsg: shown.map(|(h, _)| h.nsg.clone()),
            rule: shown.map(|(h, _)| h.rule.clone()),
        };
        let agrees = access == logged.access
            && by_itself.iter().any(|(h, a)| *a == logged.access && matches_rule(&h.rule));
        hits.extend(by_itself.iter().map(|(h, _)| h.clone()));
        let note = format!(
            "nsgsim's path does not pass {point_text} (it ends: {}); {point_text} evaluated alone on the logged tuple",
            trace.hops.last().map_or_else(|| "no hop".to_string(), |h| h.detail.to_string())
        );
        (access, nsgsim, agrees, Some(note))
    };
    let check = Check {
        agrees,
        reference,
        logged_rule: Some(logged.rule.logged_name()),
        nsgsim,
        note,
        trace: (!agrees).then(|| trace.clone()),
    };
    (
        Outcome::Evaluated(Evaluation { at, verdict, direction: Some(direction), hits, check: Some(check) }),
        Some(trace),
    )
}

/// Every NSG of the point on its own (not stopping at a deny).
fn evaluate_alone_all(
    topology: &Topology,
    cache: &PolicyCache,
    point: &[NsgId],
    subnet: SubnetId,
    direction: Direction,
    record: &FlowRecord,
) -> Vec<(RuleHit, Access)> {
    point.iter().map(|&id| alone(topology, cache, id, subnet, direction, record)).collect()
}

fn describe_alone(results: &[(RuleHit, Access)]) -> String {
    if results.is_empty() {
        return "no NSG".into();
    }
    let parts: Vec<String> = results
        .iter()
        .map(|(h, a)| format!("{} {} by {}", h.nsg, a.to_string().to_lowercase(), h.rule))
        .collect();
    parts.join(", then ")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::net::{Flow, IpProtocol};
    use crate::replay::read::FlowState;
    use crate::scenario::load_str;
    use crate::sim::{Duration, replay_until};

    const SCENARIO: &str = include_str!("../../scenarios/01-nsg-evaluation-order.ron");

    /// A version 2 NSG flow-log record, inbound TCP to `dst`:`port`, logged at `nsg` with `rule`.
    fn logged(src: &str, dst: &str, port: u16, nsg: &str, access: Access, rule: &str) -> FlowRecord {
        FlowRecord {
            origin: "test".into(),
            flow: Flow::new(IpProtocol::TCP, src.parse().expect("ip"), 50000, dst.parse().expect("ip"), port),
            time: None,
            at: None,
            logged: Some(Logged {
                at: LoggedAt::Nsg(nsg.into()),
                direction: Direction::Inbound,
                access,
                rule: LoggedRule::parse(rule),
                state: Some(FlowState::Begin),
            }),
            expected: None,
        }
    }

    fn outcome(record: &FlowRecord) -> Outcome {
        let scenario = load_str(SCENARIO, Path::new("01.ron")).expect("the scenario loads");
        let sim = replay_until(scenario.world(), &scenario.steps, Duration::from_secs(0)).expect("replays");
        evaluate_record(sim.topology(), sim.policies(), record, scenario.start)
    }

    fn check(outcome: &Outcome) -> &Check {
        match outcome {
            Outcome::Evaluated(Evaluation { check: Some(c), .. }) => c,
            other => panic!("not a compared evaluation: {other:?}"),
        }
    }

    #[test]
    fn the_logged_nsg_decides_and_its_rule_must_match() {
        let agree = outcome(&logged(
            "203.0.113.10",
            "10.0.1.4",
            22,
            "WEB-NIC-NSG",
            Access::Deny,
            "UserRule_deny-ssh",
        ));
        let c = check(&agree);
        assert!(c.agrees, "{c:?}");
        assert_eq!(c.nsgsim.rule, Some(RuleRef::Security { name: "deny-ssh".into() }));
        let other_rule = outcome(&logged(
            "203.0.113.10",
            "10.0.1.4",
            22,
            "web-nic-nsg",
            Access::Deny,
            "UserRule_block-ssh",
        ));
        assert!(!check(&other_rule).agrees);
        assert!(check(&other_rule).trace.is_some(), "a disagreement keeps its trace");
        // Logged at the subnet NSG, which allows SSH from the admin range: the same flow is then
        // an allow there (Azure may log at either level).
        let subnet = outcome(&logged(
            "203.0.113.10",
            "10.0.1.4",
            22,
            "web-subnet-nsg",
            Access::Allow,
            "UserRule_allow-ssh-admins",
        ));
        assert!(check(&subnet).agrees, "{subnet:?}");
    }

    #[test]
    fn records_outside_the_scenario_are_unmapped_with_their_unknown_addresses() {
        let unknown_nic =
            outcome(&logged("198.18.0.1", "172.16.0.4", 22, "web-nic-nsg", Access::Deny, "UserRule_x"));
        match unknown_nic {
            Outcome::Unmapped(u) => assert_eq!(u.unknown, vec!["172.16.0.4".parse::<IpAddr>().expect("ip")]),
            other => panic!("{other:?}"),
        }
        let unknown_nsg =
            outcome(&logged("198.18.0.1", "10.0.1.4", 22, "prod-nsg", Access::Deny, "UserRule_x"));
        match unknown_nsg {
            Outcome::Unmapped(u) => {
                assert!(u.reason.contains("NSG 'prod-nsg'"), "{}", u.reason);
                assert!(u.unknown.is_empty());
            }
            other => panic!("{other:?}"),
        }
        // app-subnet-nsg exists but is not where 10.0.1.4 is.
        let elsewhere =
            outcome(&logged("198.18.0.1", "10.0.1.4", 22, "app-subnet-nsg", Access::Deny, "UserRule_x"));
        assert!(matches!(elsewhere, Outcome::Unmapped(u) if u.reason.contains("is not on nic 'vm-web-nic'")));
        let admin_rule =
            outcome(&logged("198.18.0.1", "10.0.1.4", 22, "web-nic-nsg", Access::Deny, "unspecified"));
        assert!(matches!(admin_rule, Outcome::Unmapped(u) if u.reason.contains("not an NSG rule")));
    }
}
