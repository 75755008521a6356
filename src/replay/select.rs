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

    /// A hash that does not depend on the process (to shard keys the same way every run; std's
    /// default hasher is keyed at random).
    pub fn shard_hash(&self) -> u64 {
        let mut h = FastHasher::default();
        self.hash(&mut h);
        h.finish()
    }
}

/// The open connections of one shard, in two generations: when the young one is full, the old
/// one is forgotten and the young one becomes old (a cheap stand-in for least recently opened).
#[derive(Debug, Default)]
pub(crate) struct Connections {
    /// Open connection → how many are open with this key (a 5-tuple reused while an earlier
    /// connection's end is still to come).
    young: FastMap<ConnectionKey, u32>,
    old: FastMap<ConnectionKey, u32>,
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
        self.young.contains_key(key) || (!self.old.is_empty() && self.old.contains_key(key))
    }

    /// Closes one connection with `key`; false if none is open.
    fn close(&mut self, key: &ConnectionKey) -> bool {
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

    fn open_key(&mut self, key: ConnectionKey) {
        // A connection still open in the old generation moves to the young one.
        let earlier = if self.old.is_empty() { 0 } else { self.old.remove(&key).unwrap_or(0) };
        *self.young.entry(key).or_insert(earlier) += 1;
        if self.young.len() >= MAX_OPEN / 2 {
            self.forgotten += self.old.len() as u64;
            // The old generation's table is emptied and kept for the young one: a new table
            // would grow again, rehashing at every doubling.
            std::mem::swap(&mut self.old, &mut self.young);
            self.young.clear();
        }
    }

    /// Connections open now.
    #[cfg(test)]
    fn open(&self) -> usize {
        self.young.len() + self.old.len()
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
    fn shard_hashes_are_stable() {
        assert_eq!(key(1).shard_hash(), key(1).shard_hash());
        assert_ne!(key(1).shard_hash(), key(2).shard_hash());
    }
}
