//! Exact set algebra on flow boxes: intersection, subtraction, first-match partitions, merging.
//!
//! A [`MatchBox`] is a product of five sets (protocols, source addresses, source ports,
//! destination addresses, destination ports). The difference of two boxes is a union of at most
//! five disjoint boxes: peel off, field by field, the part of `a` outside `b` in that field while
//! keeping the earlier fields inside `b`. A [`Region`] is a union of pairwise-disjoint boxes, so
//! emptiness and membership are exact, and first-match evaluation of a rule list becomes a
//! [`partition`]: rule `i` decides `rule_i \ (rule_0 ∪ … ∪ rule_{i-1})`.
//!
//! Because every field is a *set* (not one interval), merging two boxes that agree on four fields
//! is a single union, which keeps reported regions small ([`merge`]).

use std::collections::HashMap;

use crate::matcher::{MatchBox, MatchRule};
use crate::net::{AddrSet, Flow, PortSet, ProtocolSet};

/// The intersection of two boxes, `None` when empty.
pub fn intersect(a: &MatchBox, b: &MatchBox) -> Option<MatchBox> {
    if !a.overlaps(b) {
        return None;
    }
    let out = MatchBox {
        protocols: a.protocols.intersect(&b.protocols),
        src: a.src.intersect(&b.src),
        src_ports: a.src_ports.intersect(&b.src_ports),
        dst: a.dst.intersect(&b.dst),
        dst_ports: a.dst_ports.intersect(&b.dst_ports),
    };
    (!out.is_empty()).then_some(out)
}

/// `a \ b` as at most five pairwise-disjoint non-empty boxes.
///
/// Each piece copies only the fields it keeps from `a`, and a field of `a` inside `b`'s (its
/// part outside `b` is empty, as with `*` ports) is borrowed rather than intersected: lint runs
/// this millions of times on the 10,000-VM scenario, where the copies were most of the
/// allocator's work. The pieces are exactly those of peeling field by field (see
/// `subtract_reference` in the tests, which checks it).
pub fn subtract(a: &MatchBox, b: &MatchBox) -> Vec<MatchBox> {
    use std::borrow::Cow;
    if !a.overlaps(b) {
        return vec![a.clone()];
    }
    let mut out = Vec::with_capacity(5);
    // Field by field: the part of `a` outside `b` in this field (earlier fields inside `b`), then
    // the field narrowed to `b` for the pieces after it.
    let protocols = a.protocols.subtract(&b.protocols);
    if !protocols.is_empty() {
        out.push(MatchBox { protocols, ..a.clone() });
    }
    let protocols = a.protocols.intersect(&b.protocols);
    let outside = a.src.subtract(&b.src);
    let src = if outside.is_empty() {
        Cow::Borrowed(&a.src)
    } else {
        out.push(MatchBox {
            protocols,
            src: outside,
            src_ports: a.src_ports.clone(),
            dst: a.dst.clone(),
            dst_ports: a.dst_ports.clone(),
        });
        Cow::Owned(a.src.intersect(&b.src))
    };
    let outside = a.src_ports.subtract(&b.src_ports);
    let src_ports = if outside.is_empty() {
        Cow::Borrowed(&a.src_ports)
    } else {
        out.push(MatchBox {
            protocols,
            src: src.clone().into_owned(),
            src_ports: outside,
            dst: a.dst.clone(),
            dst_ports: a.dst_ports.clone(),
        });
        Cow::Owned(a.src_ports.intersect(&b.src_ports))
    };
    let outside = a.dst.subtract(&b.dst);
    let dst = if outside.is_empty() {
        Cow::Borrowed(&a.dst)
    } else {
        out.push(MatchBox {
            protocols,
            src: src.clone().into_owned(),
            src_ports: src_ports.clone().into_owned(),
            dst: outside,
            dst_ports: a.dst_ports.clone(),
        });
        Cow::Owned(a.dst.intersect(&b.dst))
    };
    let outside = a.dst_ports.subtract(&b.dst_ports);
    if !outside.is_empty() {
        out.push(MatchBox {
            protocols,
            src: src.into_owned(),
            src_ports: src_ports.into_owned(),
            dst: dst.into_owned(),
            dst_ports: outside,
        });
    }
    out
}

/// A union of pairwise-disjoint, non-empty boxes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Region {
    boxes: Vec<MatchBox>,
}

impl Region {
    /// No flow.
    pub fn empty() -> Region {
        Region::default()
    }

    /// Every flow.
    pub fn all() -> Region {
        Region::from_box(MatchBox::any())
    }

    /// One box (empty boxes give the empty region).
    pub fn from_box(b: MatchBox) -> Region {
        if b.is_empty() { Region::empty() } else { Region { boxes: vec![b] } }
    }

    /// The flows a rule matches (its boxes may overlap; the region's do not).
    pub fn from_rule(rule: &MatchRule) -> Region {
        let mut out = Region::empty();
        for b in &rule.boxes {
            out = out.union(&Region::from_box(b.clone()));
        }
        out
    }

    /// The disjoint boxes.
    pub fn boxes(&self) -> &[MatchBox] {
        &self.boxes
    }

    /// Whether the region holds no flow.
    pub fn is_empty(&self) -> bool {
        self.boxes.is_empty()
    }

    /// Whether `flow` is in the region.
    pub fn contains(&self, flow: &Flow) -> bool {
        self.boxes.iter().any(|b| b.contains(flow))
    }

    /// Whether some flow of the region lies in `b`.
    pub fn overlaps_box(&self, b: &MatchBox) -> bool {
        self.boxes.iter().any(|a| a.overlaps(b))
    }

    /// Removes `b` from the region in place. Boxes that miss `b` are kept as they are, not
    /// copied: `partition` removes every rule's boxes from a region of hundreds of boxes, most of
    /// which each rule misses.
    pub fn remove_box(&mut self, b: &MatchBox) {
        if !self.overlaps_box(b) {
            return;
        }
        let old = std::mem::take(&mut self.boxes);
        self.boxes.reserve(old.len());
        for a in old {
            if a.overlaps(b) {
                self.boxes.extend(subtract(&a, b));
            } else {
                self.boxes.push(a);
            }
        }
    }

    /// `self \ other`.
    pub fn subtract(&self, other: &Region) -> Region {
        let mut out = self.clone();
        for b in &other.boxes {
            if out.is_empty() {
                break;
            }
            out.remove_box(b);
        }
        out
    }

    /// `self ∩ b`.
    pub fn intersect_box(&self, b: &MatchBox) -> Region {
        Region { boxes: self.boxes.iter().filter_map(|a| intersect(a, b)).collect() }
    }

    /// `self ∩ other` (disjoint, since both sides are).
    pub fn intersect(&self, other: &Region) -> Region {
        let mut boxes = Vec::new();
        for a in &self.boxes {
            for b in &other.boxes {
                boxes.extend(intersect(a, b));
            }
        }
        Region { boxes }
    }

    /// `self ∪ other`.
    pub fn union(&self, other: &Region) -> Region {
        let mut boxes = self.boxes.clone();
        boxes.extend(other.subtract(self).boxes);
        Region { boxes }
    }

    /// The same region with adjacent boxes merged (see [`merge`]).
    pub fn merged(&self) -> Region {
        Region { boxes: merge(self.boxes.clone()) }
    }
}

/// First-match partition of `universe` by `rules` (index 0 first): element `i` is the part of
/// the universe that rule `i` decides. The part no rule matches is returned last.
pub fn partition(rules: &[MatchRule], universe: &Region) -> (Vec<Region>, Region) {
    let mut remaining = universe.clone();
    let mut out = Vec::with_capacity(rules.len());
    for rule in rules {
        let mut decided = Region::empty();
        for b in &rule.boxes {
            if remaining.is_empty() {
                break;
            }
            // Most rules of an NSG miss a narrow universe (one NIC's flows) entirely; skipping
            // them here spares cloning the remaining region once per rule.
            if !remaining.overlaps_box(b) {
                continue;
            }
            decided.boxes.extend(remaining.intersect_box(b).boxes);
            remaining.remove_box(b);
        }
        out.push(decided);
    }
    (out, remaining)
}

fn blank(b: &MatchBox, field: usize) -> MatchBox {
    let mut k = b.clone();
    match field {
        0 => k.protocols = ProtocolSet::EMPTY,
        1 => k.src = AddrSet::empty(),
        2 => k.src_ports = PortSet::empty(),
        3 => k.dst = AddrSet::empty(),
        _ => k.dst_ports = PortSet::empty(),
    }
    k
}

fn absorb(into: &mut MatchBox, from: &MatchBox, field: usize) {
    match field {
        0 => into.protocols = into.protocols.union(&from.protocols),
        1 => into.src = into.src.union(&from.src),
        2 => into.src_ports = into.src_ports.union(&from.src_ports),
        3 => into.dst = into.dst.union(&from.dst),
        _ => into.dst_ports = into.dst_ports.union(&from.dst_ports),
    }
}

/// Merges boxes that agree on four fields into one (the union of the fifth), until no two do.
/// The union of the boxes is unchanged; disjoint inputs stay disjoint.
pub fn merge(mut boxes: Vec<MatchBox>) -> Vec<MatchBox> {
    loop {
        let before = boxes.len();
        for field in 0..5 {
            let mut index: HashMap<MatchBox, usize> = HashMap::new();
            let mut out: Vec<MatchBox> = Vec::with_capacity(boxes.len());
            for b in boxes {
                let k = blank(&b, field);
                match index.get(&k) {
                    Some(&i) => absorb(&mut out[i], &b, field),
                    None => {
                        index.insert(k, out.len());
                        out.push(b);
                    }
                }
            }
            boxes = out;
        }
        if boxes.len() == before {
            return boxes;
        }
    }
}

/// A set of addresses for people: `*`, `Internet`-style names are the caller's; here prefixes,
/// cut after `limit` with a count of the rest.
pub fn describe_addrs(set: &AddrSet, limit: usize) -> String {
    if set.is_any() {
        return "*".into();
    }
    let prefixes = set.to_prefixes();
    let shown: Vec<String> = prefixes.iter().take(limit).map(crate::nsg::display_net).collect();
    let more = prefixes.len().saturating_sub(limit);
    if more > 0 { format!("{} (+{more} more)", shown.join(",")) } else { shown.join(",") }
}

/// A protocol set for people: `Tcp`, `Tcp,Udp`, `Any`, or `Any except Tcp,Udp`.
pub fn describe_protocols(set: &ProtocolSet) -> String {
    let count = set.iter().count();
    if count > 128 && !set.is_all() {
        let missing = ProtocolSet::ALL.subtract(set);
        return format!("Any except {missing}");
    }
    set.to_string()
}

/// One box in one line: `Tcp from 203.0.113.0/24 to 10.0.1.4 ports 22`.
pub fn describe_box(b: &MatchBox) -> String {
    let mut out = format!("{} from {}", describe_protocols(&b.protocols), describe_addrs(&b.src, 4));
    if !b.src_ports.is_any() {
        out.push_str(&format!(" ports {}", b.src_ports));
    }
    out.push_str(&format!(" to {}", describe_addrs(&b.dst, 4)));
    if !b.dst_ports.is_any() {
        out.push_str(&format!(" ports {}", b.dst_ports));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{IpProtocol, PortRange};
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    fn small_box(rng: &mut StdRng) -> MatchBox {
        let mut range = |max: u32| {
            let a = rng.random_range(0..max);
            let b = rng.random_range(a..max);
            (a, b)
        };
        let (p0, p1) = range(4);
        let protocols = ProtocolSet::of(&(p0..=p1).map(|p| IpProtocol(p as u8)).collect::<Vec<_>>());
        let (s0, s1) = range(16);
        let (d0, d1) = range(16);
        let (q0, q1) = range(8);
        MatchBox {
            protocols,
            src: AddrSet::from_ranges(vec![(s0, s1)], vec![]),
            src_ports: PortSet::any(),
            dst: AddrSet::from_ranges(vec![(d0, d1)], vec![]),
            dst_ports: PortSet::from_ranges([PortRange::new(q0 as u16, q1 as u16).expect("ordered")]),
        }
    }

    /// `a \ b` peeled field by field with whole copies, as `subtract` was first written: the
    /// reference the faster `subtract` must equal piece for piece.
    fn subtract_reference(a: &MatchBox, b: &MatchBox) -> Vec<MatchBox> {
        if !a.overlaps(b) {
            return vec![a.clone()];
        }
        let mut out = Vec::with_capacity(5);
        let mut rest = a.clone();
        let protocols = rest.protocols.subtract(&b.protocols);
        if !protocols.is_empty() {
            out.push(MatchBox { protocols, ..rest.clone() });
        }
        rest.protocols = rest.protocols.intersect(&b.protocols);
        let src = rest.src.subtract(&b.src);
        if !src.is_empty() {
            out.push(MatchBox { src, ..rest.clone() });
        }
        rest.src = rest.src.intersect(&b.src);
        let src_ports = rest.src_ports.subtract(&b.src_ports);
        if !src_ports.is_empty() {
            out.push(MatchBox { src_ports, ..rest.clone() });
        }
        rest.src_ports = rest.src_ports.intersect(&b.src_ports);
        let dst = rest.dst.subtract(&b.dst);
        if !dst.is_empty() {
            out.push(MatchBox { dst, ..rest.clone() });
        }
        rest.dst = rest.dst.intersect(&b.dst);
        let dst_ports = rest.dst_ports.subtract(&b.dst_ports);
        if !dst_ports.is_empty() {
            out.push(MatchBox { dst_ports, ..rest });
        }
        out
    }

    /// A box whose every field is sometimes `*`, sometimes a part (both address families).
    fn varied_box(rng: &mut StdRng) -> MatchBox {
        let mut box_ = small_box(rng);
        if rng.random_range(0..3) == 0 {
            box_.src = AddrSet::any();
        }
        if rng.random_range(0..3) == 0 {
            box_.dst = AddrSet::from_ranges(vec![(0, 9)], vec![(5, 70)]);
        }
        if rng.random_range(0..2) == 0 {
            let a = rng.random_range(0..60u16);
            box_.src_ports = PortSet::from_ranges([PortRange::new(a, a + 9).expect("ordered")]);
        }
        if rng.random_range(0..3) == 0 {
            box_.dst_ports = PortSet::any();
        }
        if rng.random_range(0..3) == 0 {
            box_.protocols = ProtocolSet::ALL;
        }
        box_
    }

    #[test]
    fn subtract_gives_the_pieces_of_whole_copy_peeling() {
        let mut rng = StdRng::seed_from_u64(25);
        let mut split = 0;
        for _ in 0..20_000 {
            let (a, b) = (varied_box(&mut rng), varied_box(&mut rng));
            let fast = subtract(&a, &b);
            assert_eq!(fast, subtract_reference(&a, &b), "{a:?} \\ {b:?}");
            split += usize::from(fast.len() > 1);
        }
        assert!(split > 1_000, "{split}: the boxes must often cut each other");
    }

    fn flows() -> Vec<Flow> {
        let mut out = Vec::new();
        for p in 0..4u8 {
            for s in 0..16u32 {
                for d in 0..16u32 {
                    for q in 0..8u16 {
                        out.push(Flow {
                            protocol: IpProtocol(p),
                            src: std::net::IpAddr::V4(s.into()),
                            src_port: 1,
                            dst: std::net::IpAddr::V4(d.into()),
                            dst_port: q,
                        });
                    }
                }
            }
        }
        out
    }

    #[test]
    fn subtraction_partition_and_merge_are_exact() {
        let mut rng = StdRng::seed_from_u64(7);
        let universe = flows();
        for _ in 0..40 {
            let rules: Vec<MatchRule> = (0..rng.random_range(1..6))
                .map(|_| MatchRule {
                    boxes: (0..rng.random_range(1..3)).map(|_| small_box(&mut rng)).collect(),
                })
                .collect();
            let (parts, rest) = partition(&rules, &Region::all());
            let merged: Vec<Region> = parts.iter().map(Region::merged).collect();
            for f in &universe {
                let first = rules.iter().position(|r| r.contains(f));
                for (i, part) in parts.iter().enumerate() {
                    assert_eq!(part.contains(f), first == Some(i), "rule {i} flow {f}");
                    assert_eq!(merged[i].contains(f), first == Some(i));
                }
                assert_eq!(rest.contains(f), first.is_none());
            }
            let a = Region::from_rule(&rules[0]);
            let b = Region::from_rule(&rules[rules.len() - 1]);
            let (diff, inter, uni) = (a.subtract(&b), a.intersect(&b), a.union(&b));
            for f in &universe {
                let (x, y) = (a.contains(f), b.contains(f));
                assert_eq!(diff.contains(f), x && !y);
                assert_eq!(inter.contains(f), x && y);
                assert_eq!(uni.contains(f), x || y);
            }
            // Disjointness: no flow is in two boxes of a region.
            for f in &universe {
                assert!(uni.boxes().iter().filter(|b| b.contains(f)).count() <= 1);
            }
        }
    }

    #[test]
    fn overlap_tests_and_narrow_partitions_agree_with_brute_force() {
        let mut rng = StdRng::seed_from_u64(11);
        let universe = flows();
        for _ in 0..200 {
            let (a, b) = (small_box(&mut rng), small_box(&mut rng));
            let shared = universe.iter().any(|f| a.contains(f) && b.contains(f));
            assert_eq!(a.overlaps(&b), shared, "{a:?} {b:?}");
            assert_eq!(intersect(&a, &b).is_some(), shared);
        }
        // A universe of one destination address (one NIC's inbound flows): most rules miss it
        // and are skipped without touching the remaining region.
        for _ in 0..40 {
            let rules: Vec<MatchRule> =
                (0..rng.random_range(1..8)).map(|_| MatchRule { boxes: vec![small_box(&mut rng)] }).collect();
            let own = rng.random_range(0..16u32);
            let narrow = Region::from_box(MatchBox {
                dst: AddrSet::from_ranges(vec![(own, own)], vec![]),
                ..MatchBox::any()
            });
            let (parts, rest) = partition(&rules, &narrow);
            for f in &universe {
                let inside = narrow.contains(f);
                let first = rules.iter().position(|r| r.contains(f)).filter(|_| inside);
                for (i, part) in parts.iter().enumerate() {
                    assert_eq!(part.contains(f), first == Some(i), "rule {i} flow {f}");
                }
                assert_eq!(rest.contains(f), inside && first.is_none());
            }
        }
    }

    #[test]
    fn merge_joins_neighbours() {
        let a = MatchBox { dst_ports: PortSet::from_ranges([PortRange::single(22)]), ..MatchBox::any() };
        let b = MatchBox { dst_ports: PortSet::from_ranges([PortRange::single(23)]), ..MatchBox::any() };
        let merged = merge(vec![a, b]);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].dst_ports.to_string(), "22-23");
        assert!(describe_box(&merged[0]).contains("ports 22-23"));
    }
}
