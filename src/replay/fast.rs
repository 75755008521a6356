//! The batched evaluation: what the reference evaluation ([`super::compare`]) would answer for a
//! tuple, without walking the whole path for every tuple.
//!
//! Two things make it fast, and neither changes an answer:
//! - **Shared evaluations.** Tuples that the path cannot tell apart get one evaluation: the same
//!   state of the timeline, addresses, protocol, destination port, logged place, decision and rule
//!   (and source port, when some NSG rule of that state restricts source ports). Internal traffic
//!   repeats such keys all the time.
//! - **The logging NIC's NSG chain per tuple.** For a flow-log tuple whose remote address (the
//!   source of an inbound flow, the destination of an outbound one) is outside everything the
//!   scenario places (no NIC, public IP, VNet or on-premises space, not the host platform address
//!   168.63.129.16, IMDS or a platform service), the
//!   path up to the logging NIC cannot depend on which such address it is: it is the same Internet
//!   ingress or egress. One evaluation of the whole path per (state, logging NIC, ports, protocol,
//!   logged decision, and for outbound flows the user-defined route the destination takes) gives
//!   the path's *shape*: whether it reaches the NIC's NSGs or is stopped before them, and that no
//!   other NSG, firewall or Bastion hop on the way could depend on the address. Every tuple is then
//!   decided by its own walk through the NIC's compiled NSG chain (subnet then NIC inbound, NIC
//!   then subnet outbound), exactly as the path evaluates those hops. A shape is kept only if the
//!   walk gives, for the tuple the shape was learnt from, exactly the reference's answer;
//!   otherwise that key is evaluated tuple by tuple.
//!
//! The tables are per worker and bounded ([`MAX_MEMO`]): when full they are cleared, which costs
//! time, never correctness. `tests/integration/replay.rs` checks the result against the reference
//! evaluation on every fixture and on generated logs.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use crate::hash::FastMap;
use crate::model::{NicId, NsgId, PLATFORM_HOST_ADDRESS, SubnetId, Topology};
use crate::net::Flow;
use crate::nsg::{Access, CompiledNsg, Direction};
use crate::path::{HopKind, Trace, platform};
use crate::sim::Instant;

use super::compare::evaluate_traced;
use super::read::{FlowRecord, Group, LoggedAt, LoggedRule, Tuple};
use super::states::{Snapshot, States};
use super::{Outcome, RuleHit};

/// Entries a worker's tables hold before they are cleared.
pub(crate) const MAX_MEMO: usize = 1 << 14;

/// A rule hit, numbered by its worker ([`HitTable`]).
pub(crate) type HitId = u32;

/// What became of one tuple, compactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Fact {
    /// Not placed in the scenario; the addresses it does not know.
    Unmapped { unknown: Vec<IpAddr> },
    /// Evaluated.
    Evaluated {
        /// nsgsim's verdict as counted in the totals.
        verdict: Access,
        /// The direction of the totals.
        direction: Option<Direction>,
        /// The NSG rules that decided it (may repeat).
        hits: Vec<HitId>,
        /// The comparison, when the record has a reference answer.
        compared: Option<Compared>,
    },
}

/// A comparison's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Compared {
    /// Whether nsgsim agrees.
    pub agrees: bool,
    /// The reference's decision.
    pub reference: Access,
    /// Whether the reference is Azure's log (not a CSV expectation).
    pub logged: bool,
}

/// Rule hits and their numbers.
#[derive(Debug, Default)]
pub(crate) struct HitTable {
    ids: FastMap<RuleHit, HitId>,
    hits: Vec<RuleHit>,
}

impl HitTable {
    /// The number of `hit`.
    pub fn id(&mut self, hit: &RuleHit) -> HitId {
        if let Some(&id) = self.ids.get(hit) {
            return id;
        }
        self.hits.push(hit.clone());
        let id = (self.hits.len() - 1) as HitId;
        self.ids.insert(hit.clone(), id);
        id
    }

    /// The hit numbered `id`.
    pub fn get(&self, id: HitId) -> &RuleHit {
        &self.hits[id as usize]
    }
}

/// What an evaluation is shared by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key {
    state: u32,
    flow: Flow,
    /// Place, direction, decision, rule (all numbered by the catalog).
    logged: Option<(u32, Direction, Access, u32)>,
    expected: Option<Access>,
    /// For a shape: the user-defined route an outbound flow's destination takes (its index + 1,
    /// 0 for none).
    route: u32,
}

/// An address as one word (IPv6 folded): equal addresses give equal words.
fn address_word(ip: IpAddr) -> u64 {
    match ip {
        IpAddr::V4(a) => u64::from(a.to_bits()),
        IpAddr::V6(a) => {
            let bits = a.to_bits();
            (bits as u64) ^ ((bits >> 64) as u64).rotate_left(29) ^ (1 << 63)
        }
    }
}

/// Five words per key rather than a write per field and per octet (the derived hash): the
/// tables are looked up once or twice for every tuple. Equal keys give equal words, as `Hash`
/// requires; the words mix fields without keeping them apart, which costs only a rare collision.
impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let f = &self.flow;
        let expected = self.expected.map_or(0, |a| a as u64 + 1);
        let (logged, place, rule) = match self.logged {
            None => (0, 0, 0),
            Some((place, direction, access, rule)) => (1 + direction as u64 * 2 + access as u64, place, rule),
        };
        state
            .write_u64(u64::from(self.state) | u64::from(f.protocol.0) << 32 | expected << 40 | logged << 44);
        state.write_u64(address_word(f.src) ^ u64::from(f.src_port) << 32);
        state.write_u64(address_word(f.dst) ^ u64::from(f.dst_port) << 48);
        state.write_u64(u64::from(place) | u64::from(rule) << 32);
        state.write_u32(self.route);
    }
}

/// Whether the path reaches the logging NIC's NSGs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Upstream {
    Reached,
    DeniedBefore,
}

/// One NSG of a logging NIC's chain, compiled where it applies.
#[derive(Clone, Copy, Debug)]
struct Link<'s> {
    nsg: NsgId,
    compiled: &'s CompiledNsg,
    /// Whether Azure logged the flow at this NSG.
    point: bool,
}

/// A path's shape, for tuples whose remote address is outside the scenario.
#[derive(Clone, Debug)]
struct Shape<'s> {
    /// The NSGs at the logging NIC, in the order Azure evaluates them.
    chain: Vec<Link<'s>>,
    /// How many of them are the point.
    points: usize,
    upstream: Upstream,
    direction: Direction,
    logged_access: Access,
    /// The logged rule.
    logged_rule: LoggedRule,
}

#[derive(Clone, Debug)]
enum Memo<'s> {
    Fact(Fact),
    Shape(Arc<Shape<'s>>),
    /// The key's tuples must be evaluated one by one.
    PerTuple,
}

/// Counts of how tuples were evaluated, for the bench and the docs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvaluationCounts {
    /// Answered from a shared evaluation.
    pub shared: u64,
    /// Answered by walking the logging NIC's NSG chain.
    pub chain: u64,
    /// Evaluated end to end.
    pub full: u64,
}

/// A rule of a compiled NSG chain in a state: (state, NSG, direction, the rule's index).
type ChainKey = (u32, NsgId, Direction, u32);

/// One worker's evaluator.
#[derive(Debug)]
pub(crate) struct Evaluator<'s> {
    states: &'s States,
    memo: FastMap<Key, Memo<'s>>,
    /// (state, NSG, direction, rule index) → hit.
    chain_hits: FastMap<ChainKey, HitId>,
    /// The last few of `chain_hits`' answers, by the rule's index: consecutive tuples mostly
    /// meet the same rules, and hashing the key was a few percent of a replay (sixth round).
    /// A key always gets the same hit number, so a copy is never stale.
    recent_hits: [Option<(ChainKey, HitId)>; 4],
    /// The rules numbered so far.
    pub hits: HitTable,
    scratch: Fact,
    /// How tuples were evaluated.
    pub counts: EvaluationCounts,
    /// The logging NIC of the tuple before: (state, its local address, the NIC). A flow log
    /// writes a NIC's tuples together, so nearly every tuple asks for the NIC the one before it
    /// asked for, and the topology's table (keyed with SipHash) was a few percent of a replay.
    last_nic: Option<(usize, IpAddr, Option<NicId>)>,
    /// The shape the tuple before was decided by, with its key: the tuples a flow log writes
    /// together mostly share one (the same NIC, port, decision and rule, another remote
    /// address), and looking it up in `memo` (hashing a key of some 60 bytes) was a few percent
    /// of a replay. Exactly what `memo` holds for that key (entries are never replaced; it is
    /// forgotten when `memo` is cleared), so nothing but the time changes.
    last_shape: Option<(Key, Arc<Shape<'s>>)>,
}

/// The unspecified address of `ip`'s family: what an outside address becomes in a key.
fn unspecified(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

/// The user-defined route of `subnet` that `dst` takes (its index + 1), 0 for none.
fn udr_index(t: &Topology, subnet: SubnetId, dst: IpAddr) -> u32 {
    let Some(table) = t.subnet(subnet).route_table else { return 0 };
    let routes = &t.route_table(table).routes;
    routes
        .iter()
        .enumerate()
        .filter(|(_, r)| r.prefix.contains(&dst))
        .max_by_key(|(i, r)| (r.prefix.prefix_len(), std::cmp::Reverse(*i)))
        .map_or(0, |(i, _)| i as u32 + 1)
}

/// The record the reference evaluates (its origin is not needed to evaluate it).
pub(crate) fn record_of(group: Option<&Group>, t: &Tuple) -> FlowRecord {
    FlowRecord::of(String::new(), group, t)
}

impl<'s> Evaluator<'s> {
    /// An evaluator over the states of a replay.
    pub fn new(states: &'s States) -> Evaluator<'s> {
        Evaluator {
            states,
            memo: FastMap::default(),
            chain_hits: FastMap::default(),
            recent_hits: [None; 4],
            hits: HitTable::default(),
            scratch: Fact::Unmapped { unknown: Vec::new() },
            counts: EvaluationCounts::default(),
            last_nic: None,
            last_shape: None,
        }
    }

    /// What the reference evaluation answers for `t` in state `state`, at `at`. `rule_id`
    /// numbers the group's rule.
    pub fn evaluate(&mut self, state: usize, group: Option<(&Group, u32)>, t: &Tuple, at: Instant) -> &Fact {
        let snap = &self.states.snapshots[state];
        let mut flow = t.flow;
        if !snap.source_ports_matter {
            flow.src_port = 0;
        }
        let logged = t.logged.zip(group).map(|(l, (g, rule))| (g.place, l.direction, l.access, rule));
        let key = Key { state: state as u32, flow, logged, expected: t.expected, route: 0 };
        if self.memo.len() >= MAX_MEMO {
            self.memo.clear();
            self.last_shape = None;
        }
        if self.chain_hits.len() >= MAX_MEMO {
            self.chain_hits.clear();
        }
        if let (Some(l), Some((g, _))) = (t.logged, group)
            && let Some(shape_key) = self.shape_key(state, key, l.direction, t)
        {
            let last = self.last_shape.take().filter(|(k, _)| *k == shape_key);
            let shape = match last {
                Some(last) => Some(last),
                None => match self.memo.get(&shape_key) {
                    Some(Memo::Shape(shape)) => Some((shape_key, Arc::clone(shape))),
                    Some(Memo::Fact(_)) => {
                        self.counts.shared += 1;
                        let Some(Memo::Fact(f)) = self.memo.get(&shape_key) else { unreachable!() };
                        return f;
                    }
                    Some(Memo::PerTuple) => None,
                    None => {
                        let (fact, trace) = self.reference(snap, Some(g), t, at);
                        self.counts.full += 1;
                        let memo = match &fact {
                            Fact::Unmapped { .. } => Memo::Fact(fact.clone()),
                            Fact::Evaluated { .. } => match self.learn(state, g, t, trace.as_ref(), &fact) {
                                Some(shape) => Memo::Shape(Arc::new(shape)),
                                None => Memo::PerTuple,
                            },
                        };
                        self.memo.insert(shape_key, memo);
                        self.scratch = fact;
                        return &self.scratch;
                    }
                },
            };
            if let Some((k, shape)) = shape {
                self.counts.chain += 1;
                let decided = self.apply(state, snap, &shape, &t.flow);
                self.last_shape = Some((k, shape));
                if decided {
                    return &self.scratch;
                }
            }
        }
        if self.memo.contains_key(&key) {
            self.counts.shared += 1;
            let Some(Memo::Fact(f)) = self.memo.get(&key) else { unreachable!("exact keys hold facts") };
            return f;
        }
        self.counts.full += 1;
        let (fact, _) = self.reference(snap, group.map(|g| g.0), t, at);
        self.memo.insert(key, Memo::Fact(fact));
        let Some(Memo::Fact(f)) = self.memo.get(&key) else { unreachable!("just inserted") };
        f
    }

    /// The key of the shape `t` would share, when its remote address is outside the scenario.
    fn shape_key(&mut self, state: usize, key: Key, direction: Direction, t: &Tuple) -> Option<Key> {
        let snap: &'s Snapshot = &self.states.snapshots[state];
        let topology = &snap.topology;
        let (remote, local) = match direction {
            Direction::Inbound => (t.flow.src, t.flow.dst),
            Direction::Outbound => (t.flow.dst, t.flow.src),
        };
        // The host platform address is a source of its own kind (the load balancer's probes),
        // and platform services are destinations of their own.
        if !snap.is_outside(remote)
            || remote == PLATFORM_HOST_ADDRESS
            || remote == platform::IMDS_ADDRESS
            || platform::service_of(&t.flow, topology).is_some()
        {
            return None;
        }
        let nic = match self.last_nic {
            Some((s, ip, nic)) if s == state && ip == local => nic,
            _ => {
                let nic = topology.nic_by_private_ip(local);
                self.last_nic = Some((state, local, nic));
                nic
            }
        }?;
        let mut shape_key = key;
        shape_key.route = u32::MAX;
        match direction {
            Direction::Inbound => shape_key.flow.src = unspecified(remote),
            Direction::Outbound => {
                shape_key.flow.dst = unspecified(remote);
                shape_key.route = udr_index(topology, topology.nic(nic).subnet, remote);
            }
        }
        Some(shape_key)
    }

    /// The reference evaluation of `t`, as a fact with this worker's hit numbers.
    fn reference(
        &mut self,
        snap: &Snapshot,
        group: Option<&Group>,
        t: &Tuple,
        at: Instant,
    ) -> (Fact, Option<Trace>) {
        let record = record_of(group, t);
        let (outcome, trace) = evaluate_traced(&snap.topology, &snap.cache, &record, at);
        let fact = match outcome {
            Outcome::BeforeStart => Fact::Unmapped { unknown: Vec::new() },
            Outcome::Unmapped(u) => Fact::Unmapped { unknown: u.unknown },
            Outcome::Evaluated(e) => Fact::Evaluated {
                verdict: e.verdict,
                direction: e.direction,
                hits: e.hits.iter().map(|h| self.hits.id(h)).collect(),
                compared: e.check.as_ref().map(|c| Compared {
                    agrees: c.agrees,
                    reference: c.reference.access,
                    logged: c.logged_rule.is_some(),
                }),
            },
        };
        (fact, trace)
    }

    /// Learns a shape from the reference evaluation of one tuple; `None` when the path could
    /// depend on the remote address, or when walking the chain does not give the reference's
    /// answer for this very tuple.
    fn learn(
        &mut self,
        state: usize,
        group: &Group,
        t: &Tuple,
        trace: Option<&Trace>,
        reference: &Fact,
    ) -> Option<Shape<'s>> {
        let snap: &'s Snapshot = &self.states.snapshots[state];
        let topology = &snap.topology;
        let trace = trace?;
        let l = t.logged?;
        if matches!(group.rule, LoggedRule::Other(_)) {
            return None;
        }
        let logged_rule = group.rule.clone();
        let local = match l.direction {
            Direction::Inbound => t.flow.dst,
            Direction::Outbound => t.flow.src,
        };
        let nic = topology.nic_by_private_ip(local)?;
        let subnet = topology.nic(nic).subnet;
        let (nic_nsg, subnet_nsg) = (topology.nic(nic).nsg, topology.subnet(subnet).nsg);
        let chain: Vec<NsgId> = match l.direction {
            Direction::Inbound => [subnet_nsg, nic_nsg],
            Direction::Outbound => [nic_nsg, subnet_nsg],
        }
        .into_iter()
        .flatten()
        .collect();
        let point: Vec<NsgId> = match &group.at {
            LoggedAt::Nsg(name) => chain
                .iter()
                .copied()
                .filter(|&id| topology.nsg(id).name.eq_ignore_ascii_case(name))
                .take(1)
                .collect(),
            LoggedAt::Acl(acl) => {
                match chain.iter().find(|&&id| topology.nsg(id).name.eq_ignore_ascii_case(acl)) {
                    Some(&id) => vec![id],
                    None => chain.clone(),
                }
            }
        };
        if point.is_empty() {
            return None;
        }
        let in_chain = |name: &str| chain.iter().any(|&id| topology.nsg(id).name.eq_ignore_ascii_case(name));
        let mut reached = false;
        for hop in &trace.hops {
            match hop.kind {
                HopKind::Nsg => {
                    if hop.direction != Some(l.direction) || !in_chain(&hop.resource) {
                        return None;
                    }
                    reached = true;
                }
                HopKind::PublicIp | HopKind::Route | HopKind::NoNsg => {}
                // After the chain of an outbound flow, a firewall decides the path's verdict,
                // which the logged decision does not depend on.
                HopKind::Firewall if l.direction == Direction::Outbound && reached => {}
                HopKind::Firewall
                | HopKind::Bastion
                | HopKind::Platform
                | HopKind::AdminRule
                | HopKind::LoadBalancer
                | HopKind::NatGateway => return None,
            }
        }
        let upstream = match (reached, trace.verdict) {
            (true, _) => Upstream::Reached,
            (false, Access::Deny) => Upstream::DeniedBefore,
            (false, Access::Allow) => return None,
        };
        // The point first in the chain's order is all `apply` needs: keep the chain's order and
        // mark the point.
        let mut links = Vec::new();
        for &nsg in &chain {
            let compiled = snap.cache.get(topology, nsg, subnet, l.direction)?;
            links.push(Link { nsg, compiled, point: point.contains(&nsg) });
        }
        let shape = Shape {
            chain: links,
            points: point.len(),
            upstream,
            direction: l.direction,
            logged_access: l.access,
            logged_rule,
        };
        (self.apply(state, snap, &shape, &t.flow) && self.scratch == *reference).then_some(shape)
    }

    /// One NSG of the chain on `flow`: its hit and access.
    fn chain_hit(
        &mut self,
        state: usize,
        snap: &Snapshot,
        link: &Link<'_>,
        direction: Direction,
        flow: &Flow,
    ) -> (HitId, Access) {
        let hit = link.compiled.evaluate(flow);
        let key = (state as u32, link.nsg, direction, hit.index as u32);
        let slot = (hit.index ^ link.nsg.0 as usize) & 3;
        if let Some((k, id)) = self.recent_hits[slot]
            && k == key
        {
            return (id, hit.rule.access);
        }
        let id = match self.chain_hits.get(&key) {
            Some(&id) => id,
            None => {
                let rule = RuleHit {
                    nsg: snap.topology.nsg(link.nsg).name.clone(),
                    direction,
                    rule: hit.rule.rule_ref(),
                };
                let id = self.hits.id(&rule);
                self.chain_hits.insert(key, id);
                id
            }
        };
        self.recent_hits[slot] = Some((key, id));
        (id, hit.rule.access)
    }

    fn is_logged_rule(&self, shape: &Shape<'_>, id: HitId) -> bool {
        shape.logged_rule.is(&self.hits.get(id).rule)
    }

    /// Decides `flow` with `shape` into `self.scratch`, as `compare::logged_record` would;
    /// false if the shape does not apply (the caller then evaluates in full).
    fn apply(&mut self, state: usize, snap: &Snapshot, shape: &Shape<'_>, flow: &Flow) -> bool {
        let direction = shape.direction;
        // The chain's walk, up to the first deny: (hit, access, on the point).
        let mut walk: [(HitId, Access, bool); 2] = [(0, Access::Allow, false); 2];
        let mut walked = 0;
        if shape.upstream == Upstream::Reached {
            for link in shape.chain.iter().take(2) {
                let (id, access) = self.chain_hit(state, snap, link, direction, flow);
                walk[walked] = (id, access, link.point);
                walked += 1;
                if access == Access::Deny {
                    break;
                }
            }
        }
        let walk = &walk[..walked];
        let mut hits = match std::mem::replace(&mut self.scratch, Fact::Unmapped { unknown: Vec::new() }) {
            Fact::Evaluated { mut hits, .. } => {
                hits.clear();
                hits
            }
            Fact::Unmapped { .. } => Vec::new(),
        };
        hits.extend(walk.iter().map(|w| w.0));
        let hop = walk.iter().filter(|w| w.2).find(|w| w.1 == Access::Deny).or(walk.iter().rfind(|w| w.2));
        let (verdict, agrees) = if let Some(&(id, access, _)) = hop {
            let mut same_rule = self.is_logged_rule(shape, id);
            if !same_rule && shape.points > 1 {
                for link in shape.chain.iter().filter(|l| l.point) {
                    let (id, a) = self.chain_hit(state, snap, link, direction, flow);
                    same_rule |= a == access && self.is_logged_rule(shape, id);
                }
            }
            (access, access == shape.logged_access && same_rule)
        } else {
            // Denied before the point (upstream, or by an NSG of the chain that is not the
            // point): the point's NSGs alone, up to the first deny.
            if walk.last().is_some_and(|w| w.1 == Access::Allow) {
                return false;
            }
            let mut denies_with_rule = false;
            for link in shape.chain.iter().filter(|l| l.point) {
                let (id, a) = self.chain_hit(state, snap, link, direction, flow);
                hits.push(id);
                if a == Access::Deny {
                    denies_with_rule = self.is_logged_rule(shape, id);
                    break;
                }
            }
            (Access::Deny, shape.logged_access == Access::Deny && denies_with_rule)
        };
        self.scratch = Fact::Evaluated {
            verdict,
            direction: Some(direction),
            hits,
            compared: Some(Compared { agrees, reference: shape.logged_access, logged: true }),
        };
        true
    }
}

#[cfg(test)]
mod tests {
    //! The batched evaluation against the reference, tuple by tuple, on generated tuples over
    //! scenarios with NIC and subnet NSGs, ASGs, public IPs, a firewall with UDRs, Bastion and
    //! JIT: every answer must be the reference's.
    use std::path::Path;

    use super::*;
    use crate::replay::read::{LoggedRule, Origin, TupleLog};
    use crate::scenario::load_str;

    /// SplitMix64, seeded: the tuples are the same every run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
            &items[(self.next() % items.len() as u64) as usize]
        }
    }

    fn oracle(
        file: &str,
        text: &str,
        locals: &[&str],
        remotes: &[&str],
        rules: &[&str],
        places: &[LoggedAt],
    ) {
        let scenario = load_str(text, Path::new(file)).expect("the scenario loads");
        let states = States::build(&scenario.world(), &scenario.steps).expect("the timeline plays");
        let mut evaluator = Evaluator::new(&states);
        let mut reference_hits = HitTable::default();
        let mut rng = Rng(7);
        let groups: Vec<Group> = places
            .iter()
            .flat_map(|p| rules.iter().map(move |r| (p.clone(), LoggedRule::parse(r))))
            .enumerate()
            .map(|(i, (at, rule))| Group {
                at,
                rule,
                place: i as u32 / rules.len() as u32,
                rule_id: i as u32,
            })
            .collect();
        let ports = [22u16, 25, 80, 443, 3389, 8080, 8085, 53, 1688];
        let mut shapes = 0;
        for i in 0..6000 {
            let local: IpAddr = rng.pick(locals).parse().expect("ip");
            let remote: IpAddr = match rng.next() % 3 {
                0 => IpAddr::from([
                    20 + (rng.next() % 60) as u8,
                    rng.next() as u8,
                    rng.next() as u8,
                    1 + (rng.next() % 250) as u8,
                ]),
                _ => rng.pick(remotes).parse().expect("ip"),
            };
            let direction =
                if rng.next().is_multiple_of(2) { Direction::Inbound } else { Direction::Outbound };
            let (src, dst) = match direction {
                Direction::Inbound => (remote, local),
                Direction::Outbound => (local, remote),
            };
            let protocol = *rng.pick(&[crate::net::IpProtocol::TCP, crate::net::IpProtocol::UDP]);
            let flow = Flow::new(protocol, src, 1024 + (rng.next() % 60000) as u16, dst, *rng.pick(&ports));
            let g = (rng.next() % groups.len() as u64) as usize;
            let access = if rng.next().is_multiple_of(2) { Access::Allow } else { Access::Deny };
            let state = (rng.next() % states.snapshots.len() as u64) as usize;
            let at = states.snapshots[state].from;
            let t = Tuple {
                flow,
                time: Some(at),
                at: None,
                expected: None,
                logged: Some(TupleLog { group: g as u32, direction, access, state: None }),
                origin: Origin::Json { record: 0, outer: 0, inner: 0, tuple: i, spelling: 0 },
            };
            let group = &groups[g];
            let fast = evaluator.evaluate(state, Some((group, group.rule_id)), &t, at).clone();
            let fast = named(&fast, &evaluator.hits);
            let snap = &states.snapshots[state];
            let outcome = super::super::compare::evaluate_record(
                &snap.topology,
                &snap.cache,
                &record_of(Some(group), &t),
                at,
            );
            let reference = match outcome {
                Outcome::Evaluated(e) => Fact::Evaluated {
                    verdict: e.verdict,
                    direction: e.direction,
                    hits: e.hits.iter().map(|h| reference_hits.id(h)).collect(),
                    compared: e.check.map(|c| Compared {
                        agrees: c.agrees,
                        reference: c.reference.access,
                        logged: c.logged_rule.is_some(),
                    }),
                },
                Outcome::Unmapped(u) => Fact::Unmapped { unknown: u.unknown },
                Outcome::BeforeStart => Fact::Unmapped { unknown: Vec::new() },
            };
            assert_eq!(
                fast,
                named(&reference, &reference_hits),
                "{file}: tuple {i}: {flow} {direction} at {at}, {group:?}"
            );
            shapes = evaluator.counts.chain;
        }
        assert!(shapes > 0, "{file}: no tuple took the NSG chain: the test tests nothing fast");
    }

    /// A fact with rule names instead of numbers.
    fn named(fact: &Fact, hits: &HitTable) -> (String, Vec<RuleHit>) {
        match fact {
            Fact::Evaluated { hits: ids, verdict, direction, compared } => (
                format!("{verdict:?} {direction:?} {compared:?}"),
                ids.iter().map(|&id| hits.get(id).clone()).collect(),
            ),
            Fact::Unmapped { unknown } => (format!("unmapped {unknown:?}"), Vec::new()),
        }
    }

    #[test]
    fn batched_answers_are_the_reference_answers_in_scenario_01() {
        oracle(
            "01.ron",
            include_str!("../../scenarios/01-nsg-evaluation-order.ron"),
            &["10.0.1.4", "10.0.1.5", "10.0.2.4", "10.0.3.4", "10.0.1.77"],
            &["203.0.113.10", "198.51.100.7", "10.0.1.4", "10.0.2.4", "168.63.129.16", "20.50.60.70"],
            &[
                "UserRule_allow-https",
                "UserRule_deny-ssh",
                "DefaultRule_DenyAllInBound",
                "DefaultRule_AllowInternetOutBound",
                "UserRule_allow-web-to-app",
                "UserRule_deny-vnet-in",
                "UserRule_deny-smtp-out",
            ],
            &[
                LoggedAt::Nsg("web-nic-nsg".into()),
                LoggedAt::Nsg("WEB-SUBNET-NSG".into()),
                LoggedAt::Nsg("app-subnet-nsg".into()),
                LoggedAt::Acl("00000000-0000-0000-0000-000000000001".into()),
            ],
        );
    }

    #[test]
    fn batched_answers_are_the_reference_answers_behind_a_firewall_and_with_jit() {
        oracle(
            "20.ron",
            include_str!("../../scenarios/20-hub-spoke-firewall-bastion.ron"),
            &["10.1.1.4", "10.1.2.4", "10.2.1.4"],
            &["10.0.2.4", "10.1.1.4", "10.2.1.4", "10.0.1.4"],
            &[
                "DefaultRule_DenyAllInBound",
                "DefaultRule_AllowVnetInBound",
                "DefaultRule_AllowInternetOutBound",
                "UserRule_allow-https",
            ],
            &[LoggedAt::Nsg("spoke1-nsg".into()), LoggedAt::Nsg("dmz-nsg".into()), LoggedAt::Acl("x".into())],
        );
        oracle(
            "10.ron",
            include_str!("../../scenarios/10-jit-lifecycle.ron"),
            &["10.1.1.4", "10.1.1.9"],
            &["203.0.113.10", "198.51.100.20"],
            &[
                "DefaultRule_DenyAllInBound",
                "UserRule_SecurityCenter-JITRule-1",
                "DefaultRule_AllowInternetOutBound",
            ],
            &[LoggedAt::Acl("x".into())],
        );
    }
}
