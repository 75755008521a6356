//! One flow per connection, decided as the records stream by.
//!
//! A flow log that carries flow states writes a connection when it begins (`B`), while it
//! continues (`C`) and when it ends (`E`), all with the same 5-tuple, decision and rule. The `B`
//! record stands for the connection; its `C` and `E` records are dropped. A connection whose `B`
//! is not in the inputs (it began before the logs start) is represented by its first `C` or `E`
//! record. A denied flow (`D` in virtual network flow logs, a `B` with decision `D` in NSG flow
//! logs) counts every time: each is an attempt that was dropped, and no connection is kept for it. Records without a state (version 1, CSV) all count. Connections are told
//! apart by where they were logged, the direction, the protocol and both addresses and ports.
//!
//! Streaming needs only the connections open now: a `B` (or an orphan `C`) opens one, its `E`
//! closes and forgets it. The records of a connection must come in time order, as Network
//! Watcher writes them (a `C` read before its own `B` would count twice). A log in which
//! connections never end would grow the set without bound, so it is capped at about
//! [`MAX_OPEN`] connections per shard: past that the older half is forgotten (their later `C` or
//! `E` records then count as flows), and the number forgotten is reported.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use crate::hash::{FastHasher, FastMap};
use crate::net::IpProtocol;
use crate::nsg::{Access, Direction};

use super::read::{FlowState, Group, Tuple};

/// Open connections kept per shard before the oldest are forgotten.
pub(crate) const MAX_OPEN: usize = 1 << 16;

/// What tells connections apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConnectionKey {
    /// Where it was logged ([`super::read::Catalog::place`]).
    pub place: u32,
    /// The direction at the logging NIC.
    pub direction: Direction,
    /// The protocol.
    pub protocol: IpProtocol,
    /// Source address and port.
    pub src: (IpAddr, u16),
    /// Destination address and port.
    pub dst: (IpAddr, u16),
}

/// Three words per key rather than a write per field and per octet (the derived hash): the
/// connection table is looked up once or twice for every flow tuple. Equal keys give equal
/// words, as `Hash` requires; the words mix the fields without keeping them apart, which costs
/// only a rare collision.
impl Hash for ConnectionKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        fn word(ip: IpAddr) -> u64 {
            match ip {
                IpAddr::V4(a) => u64::from(a.to_bits()),
                IpAddr::V6(a) => {
                    let bits = a.to_bits();
                    (bits as u64) ^ ((bits >> 64) as u64).rotate_left(29) ^ (1 << 63)
                }
            }
        }
        state.write_u64(
            u64::from(self.place) | (self.direction as u64) << 32 | u64::from(self.protocol.0) << 40,
        );
        state.write_u64(word(self.src.0) ^ u64::from(self.src.1) << 32);
        state.write_u64(word(self.dst.0) ^ u64::from(self.dst.1) << 48);
    }
}

impl ConnectionKey {
    /// The connection of flow-log tuple `t` of `group` (its direction is the tuple's own; a tuple
    /// without one is taken as inbound, which only a hand-made record can be).
    pub fn of(group: &Group, t: &Tuple) -> ConnectionKey {
        ConnectionKey {
            place: group.place,
            direction: t.logged.map_or(Direction::Inbound, |l| l.direction),
            protocol: t.flow.protocol,
            src: (t.flow.src, t.flow.src_port),
            dst: (t.flow.dst, t.flow.dst_port),
        }
    }

    /// The key in one word, when both addresses are IPv4 and the place fits in 23 bits (every
    /// log nsgsim has seen): place, direction, protocol, both addresses and both ports, each in
    /// bits of its own, so two keys are equal exactly when their words are.
    pub fn narrow(&self) -> Option<u128> {
        let (IpAddr::V4(src), IpAddr::V4(dst)) = (self.src.0, self.dst.0) else { return None };
        if self.place >= 1 << 23 {
            return None;
        }
        let head = self.place << 9 | (self.direction as u32) << 8 | u32::from(self.protocol.0);
        Some(
            u128::from(head) << 96
                | u128::from(src.to_bits()) << 64
                | u128::from(dst.to_bits()) << 32
                | u128::from(self.src.1) << 16
                | u128::from(self.dst.1),
        )
    }

    /// A hash that does not depend on the process (to shard keys the same way every run; std's
    /// default hasher is keyed at random).
    pub fn shard_hash(&self) -> u64 {
        let mut h = FastHasher::default();
        self.hash(&mut h);
        h.finish()
    }
}

/// Open connection → how many are open with this key (a 5-tuple reused while an earlier
/// connection's end is still to come), in two generations.
#[derive(Debug)]
struct Generations<K> {
    young: FastMap<K, u32>,
    old: FastMap<K, u32>,
}

impl<K> Default for Generations<K> {
    fn default() -> Self {
        Generations { young: FastMap::default(), old: FastMap::default() }
    }
}

impl<K: Hash + Eq + Copy> Generations<K> {
    fn is_open(&self, key: &K) -> bool {
        self.young.contains_key(key) || (!self.old.is_empty() && self.old.contains_key(key))
    }

    /// Closes one connection with `key`; false if none is open.
    fn close(&mut self, key: &K) -> bool {
        use std::collections::hash_map::Entry;
        for map in [&mut self.young, &mut self.old] {
            if map.is_empty() {
                continue;
            }
            if let Entry::Occupied(mut open) = map.entry(*key) {
                if *open.get() > 1 {
                    *open.get_mut() -= 1;
                } else {
                    open.remove();
                }
                return true;
            }
        }
        false
    }

    fn open(&mut self, key: K) {
        // A connection still open in the old generation moves to the young one.
        let earlier = if self.old.is_empty() { 0 } else { self.old.remove(&key).unwrap_or(0) };
        *self.young.entry(key).or_insert(earlier) += 1;
    }

    /// The young generation becomes the old one; the old one's table is emptied and kept for
    /// the young one (a new table would grow again, rehashing at every doubling).
    fn age(&mut self) {
        std::mem::swap(&mut self.old, &mut self.young);
        self.young.clear();
    }
}

/// The open connections of one shard, in two generations: when the young one is full, the old
/// one is forgotten and the young one becomes old (a cheap stand-in for least recently opened).
///
/// Keys that fit in one word ([`ConnectionKey::narrow`]: IPv4 flows) are kept in tables of their
/// own, 32 bytes an entry rather than 52: the tables are looked up once or twice for every flow
/// tuple, and at tens of thousands of open connections per shard they do not fit in the cache
/// (`perf record`, 2026-12-07: the connection table was ~12 % of a replay). A key is always in
/// the same table, so this is the one set, split in two; the generations age together.
#[derive(Debug, Default)]
pub(crate) struct Connections {
    narrow: Generations<u128>,
    wide: Generations<ConnectionKey>,
    /// Connections forgotten because too many were open.
    pub forgotten: u64,
}

impl Connections {
    /// Whether a record with this key, state and decision counts as a flow.
    pub fn counts(&mut self, key: ConnectionKey, state: Option<FlowState>, access: Access) -> bool {
        match state {
            // A denied attempt opens no connection: each counts, and none is remembered.
            None | Some(FlowState::Denied) => true,
            Some(_) if access == Access::Deny => true,
            Some(FlowState::Begin) => {
                self.open_key(key);
                true
            }
            Some(FlowState::Continuing) => {
                if self.is_open(&key) {
                    false
                } else {
                    self.open_key(key);
                    true
                }
            }
            Some(FlowState::End) => !self.close(&key),
        }
    }

    fn is_open(&self, key: &ConnectionKey) -> bool {
        match key.narrow() {
            Some(n) => self.narrow.is_open(&n),
            None => self.wide.is_open(key),
        }
    }

    /// Closes one connection with `key`; false if none is open.
    fn close(&mut self, key: &ConnectionKey) -> bool {
        match key.narrow() {
            Some(n) => self.narrow.close(&n),
            None => self.wide.close(key),
        }
    }

    fn open_key(&mut self, key: ConnectionKey) {
        match key.narrow() {
            Some(n) => self.narrow.open(n),
            None => self.wide.open(key),
        }
        if self.narrow.young.len() + self.wide.young.len() >= MAX_OPEN / 2 {
            self.forgotten += (self.narrow.old.len() + self.wide.old.len()) as u64;
            self.narrow.age();
            self.wide.age();
        }
    }

    /// Connections open now.
    #[cfg(test)]
    fn open(&self) -> usize {
        self.narrow.young.len() + self.narrow.old.len() + self.wide.young.len() + self.wide.old.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(src_port: u16) -> ConnectionKey {
        ConnectionKey {
            place: 0,
            direction: Direction::Outbound,
            protocol: IpProtocol::TCP,
            src: ("10.0.0.4".parse().expect("ip"), src_port),
            dst: ("203.0.113.1".parse().expect("ip"), 443),
        }
    }

    #[test]
    fn begin_records_stand_for_their_connection_and_orphans_keep_their_first_record() {
        use FlowState::*;
        let records = [
            (1, Some(Begin)),
            (1, Some(Continuing)),
            (1, Some(End)),
            // Began before the log: its first C stands for it, its E is dropped.
            (2, Some(Continuing)),
            (2, Some(End)),
            // Only an E.
            (3, Some(End)),
            // Denied attempts all count.
            (4, Some(Denied)),
            (4, Some(Denied)),
            // No state (version 1): every record counts.
            (5, None),
            (5, None),
            // The same 5-tuple again after its end: a new connection.
            (1, Some(Begin)),
            (1, Some(End)),
            // Two connections on one 5-tuple at once: each begin counts, no end does.
            (6, Some(Begin)),
            (6, Some(Begin)),
            (6, Some(End)),
            (6, Some(Continuing)),
            (6, Some(End)),
        ];
        let mut c = Connections::default();
        let kept: Vec<u16> =
            records.iter().filter(|(p, s)| c.counts(key(*p), *s, Access::Allow)).map(|(p, _)| *p).collect();
        assert_eq!(kept, vec![1, 2, 3, 4, 4, 5, 5, 1, 6, 6]);
        assert_eq!(c.open(), 0);
    }

    #[test]
    fn too_many_open_connections_forget_the_oldest() {
        let mut c = Connections::default();
        let n = MAX_OPEN as u32 + 10;
        for i in 0..n {
            let mut k = key(0);
            k.src.1 = (i % 65_536) as u16;
            k.place = i / 65_536;
            assert!(c.counts(k, Some(FlowState::Begin), Access::Allow));
        }
        assert!(c.open() <= MAX_OPEN, "{} open", c.open());
        assert_eq!(c.forgotten as usize + c.open(), n as usize);
        // The first connection was forgotten: its end counts as a flow of its own.
        assert!(c.counts(key(0), Some(FlowState::End), Access::Allow));
        // The last one is still open.
        let mut last = key(0);
        last.src.1 = ((n - 1) % 65_536) as u16;
        last.place = (n - 1) / 65_536;
        assert!(!c.counts(last, Some(FlowState::End), Access::Allow));
        // A denied attempt is not remembered.
        let mut d = Connections::default();
        assert!(d.counts(key(9), Some(FlowState::Begin), Access::Deny));
        assert_eq!(d.open(), 0);
    }

    #[test]
    fn narrow_keys_are_equal_exactly_when_the_keys_are_and_ipv6_or_large_places_stay_wide() {
        let base = key(1);
        let mut variants = vec![base];
        let mut k = base;
        k.place = (1 << 23) - 1;
        variants.push(k);
        let mut k = base;
        k.direction = Direction::Inbound;
        variants.push(k);
        let mut k = base;
        k.protocol = IpProtocol::UDP;
        variants.push(k);
        let mut k = base;
        k.src = ("10.0.0.5".parse().expect("ip"), 1);
        variants.push(k);
        let mut k = base;
        k.dst = ("203.0.113.1".parse().expect("ip"), 444);
        variants.push(k);
        let mut k = base;
        k.src.1 = 65_535;
        variants.push(k);
        // Swapped addresses and ports are another connection.
        let mut k = base;
        (k.src, k.dst) = (base.dst, base.src);
        variants.push(k);
        for (i, a) in variants.iter().enumerate() {
            for (j, b) in variants.iter().enumerate() {
                assert_eq!(a.narrow().is_some_and(|x| Some(x) == b.narrow()), i == j, "{a:?} {b:?}");
            }
        }
        let mut six = base;
        six.src.0 = "2001:db8::1".parse().expect("ip");
        assert_eq!(six.narrow(), None);
        let mut far = base;
        far.place = 1 << 23;
        assert_eq!(far.narrow(), None);
        // Both kinds in one set, each found again.
        let mut c = Connections::default();
        for k in [base, six, far] {
            assert!(c.counts(k, Some(FlowState::Begin), Access::Allow));
            assert!(!c.counts(k, Some(FlowState::Continuing), Access::Allow));
        }
        assert_eq!(c.open(), 3);
        for k in [base, six, far] {
            assert!(!c.counts(k, Some(FlowState::End), Access::Allow));
        }
        assert_eq!(c.open(), 0);
    }

    #[test]
    fn shard_hashes_are_stable() {
        assert_eq!(key(1).shard_hash(), key(1).shard_hash());
        assert_ne!(key(1).shard_hash(), key(2).shard_hash());
    }
}
