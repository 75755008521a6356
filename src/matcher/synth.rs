//! Seeded generators of NSG-like rule lists and of flows aimed at their corners, shared by the
//! benches and the tests.
//!
//! A real NSG is not a ClassBench set: it has tens to a few hundred rules (up to 1,000 with
//! augmented rules), most of them about management or application ports, and its address
//! conditions are service tags (long lists of public prefixes), the VirtualNetwork tag (private
//! ranges), ASG-resolved /32 lists, or `*`. Every rule here is compiled the way `nsg::resolve`
//! compiles one: a protocol `Any` rule with port conditions is two boxes (TCP/UDP with the ports,
//! every other protocol with any port), as nsgsim treats ports on portless protocols.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rand::seq::IndexedRandom;
use rand::{Rng, RngExt};

use super::{MatchBox, MatchRule};
use crate::net::{AddrSet, Flow, IpProtocol, PortRange, PortSet, ProtocolSet};

/// The management ports JIT opens: SSH, RDP, WinRM.
pub const MANAGEMENT_PORTS: [u16; 4] = [22, 3389, 5985, 5986];

/// A service-tag-like list of `count` public IPv4 prefixes (/16 to /28) and a few IPv6 ones.
fn service_tag<R: Rng + ?Sized>(rng: &mut R, count: usize) -> AddrSet {
    let mut v4 = Vec::with_capacity(count);
    for _ in 0..count {
        let len = rng.random_range(16..=28u32);
        let base = rng.random_range(20u32..200) << 24 | rng.random::<u32>() >> 8;
        let mask = u32::MAX << (32 - len);
        v4.push((base & mask, (base & mask) | !mask));
    }
    let mut v6 = Vec::new();
    for _ in 0..count / 8 {
        let base =
            (0x2603_1000u128 + rng.random_range(0..64u128)) << 96 | u128::from(rng.random::<u32>()) << 64;
        v6.push((base, base | (u128::MAX >> 64)));
    }
    AddrSet::from_ranges(v4, v6)
}

/// A VirtualNetwork-like set: a few private ranges.
fn virtual_network<R: Rng + ?Sized>(rng: &mut R) -> AddrSet {
    let mut v4 = vec![(0x0A00_0000 | rng.random_range(0..256u32) << 16, 0)];
    v4[0].1 = v4[0].0 | 0xFFFF;
    if rng.random_bool(0.5) {
        v4.push((0xAC10_0000, 0xAC1F_FFFF));
    }
    if rng.random_bool(0.3) {
        v4.push((0xC0A8_0000 | rng.random_range(0..256u32) << 8, 0));
        let last = v4.len() - 1;
        v4[last].1 = v4[last].0 | 0xFF;
    }
    AddrSet::from_ranges(v4, vec![(0xFD00u128 << 112, (0xFD00u128 << 112) | (u128::MAX >> 16))])
}

/// A list of 1–8 host addresses (an ASG or explicit VMs) inside 10.0.0.0/8.
fn hosts<R: Rng + ?Sized>(rng: &mut R) -> AddrSet {
    let n = rng.random_range(1..=8);
    let v4 = (0..n)
        .map(|_| {
            let a = 0x0A00_0000 | rng.random_range(0..1u32 << 24);
            (a, a)
        })
        .collect();
    AddrSet::from_ranges(v4, Vec::new())
}

/// The named address sets one NSG draws on: a handful of service tags, one virtual network and
/// some application security groups. Real NSGs reuse the same few tags and ASGs across many
/// rules, which is what keeps their elementary intervals few.
struct Pools {
    tags: Vec<AddrSet>,
    vnet: AddrSet,
    asgs: Vec<AddrSet>,
}

impl Pools {
    fn new<R: Rng + ?Sized>(rng: &mut R, rules: usize) -> Pools {
        let tags = (0..4 + rules / 100)
            .map(|_| {
                let count = rng.random_range(5..=150);
                service_tag(rng, count)
            })
            .collect();
        let asgs = (0..4 + rules / 20).map(|_| hosts(rng)).collect();
        Pools { tags, vnet: virtual_network(rng), asgs }
    }

    /// Any address condition an NSG rule has.
    fn addresses<R: Rng + ?Sized>(&self, rng: &mut R) -> AddrSet {
        match rng.random_range(0..10) {
            0..=2 => AddrSet::any(),
            3..=4 => self.vnet.clone(),
            5..=6 => self.asgs.choose(rng).expect("non-empty").clone(),
            7..=8 => self.tags.choose(rng).expect("non-empty").clone(),
            _ => {
                let a = rng.random::<u32>();
                AddrSet::from_ranges(vec![(a & 0xFFFF_FF00, a | 0xFF)], Vec::new())
            }
        }
    }
}

/// Any port condition an NSG rule has.
fn ports<R: Rng + ?Sized>(rng: &mut R) -> PortSet {
    let mut ranges = Vec::new();
    match rng.random_range(0..10) {
        0..=2 => return PortSet::any(),
        3..=5 => ranges.push(PortRange::single(*MANAGEMENT_PORTS.choose(rng).expect("non-empty"))),
        6 => ranges.extend(MANAGEMENT_PORTS.map(PortRange::single)),
        7 => {
            for _ in 0..rng.random_range(1..=5) {
                ranges.push(PortRange::single(
                    *[80u16, 443, 1433, 3306, 5432, 8080, 8443].choose(rng).expect("x"),
                ));
            }
        }
        _ => {
            let lo = rng.random_range(1024..60000u16);
            ranges.push(PortRange::new(lo, lo + rng.random_range(0..2000)).expect("lo <= hi"));
        }
    }
    PortSet::from_ranges(ranges)
}

/// `n` NSG-like rules in priority order, drawing addresses from a few shared service tags, one
/// VirtualNetwork set and a few ASGs (plus per-rule host lists and /24s); the last rule is a
/// catch-all like Azure's default rules.
pub fn nsg_rules<R: Rng + ?Sized>(rng: &mut R, n: usize) -> Vec<MatchRule> {
    let pools = Pools::new(rng, n);
    let mut rules = Vec::with_capacity(n);
    for _ in 0..n.saturating_sub(1) {
        let src = pools.addresses(rng);
        let dst = if rng.random_bool(0.6) { hosts(rng) } else { pools.addresses(rng) };
        let src_ports = if rng.random_bool(0.9) { PortSet::any() } else { ports(rng) };
        let dst_ports = ports(rng);
        let proto = match rng.random_range(0..4) {
            0 => None,
            1 | 2 => Some(IpProtocol::TCP),
            _ => Some(IpProtocol::UDP),
        };
        let boxes = match proto {
            Some(p) => {
                vec![MatchBox { protocols: ProtocolSet::single(p), src, src_ports, dst, dst_ports }]
            }
            None if src_ports.is_any() && dst_ports.is_any() => {
                vec![MatchBox { protocols: ProtocolSet::ALL, src, src_ports, dst, dst_ports }]
            }
            None => {
                let tcp_udp = ProtocolSet::of(&[IpProtocol::TCP, IpProtocol::UDP]);
                vec![
                    MatchBox { protocols: tcp_udp, src: src.clone(), src_ports, dst: dst.clone(), dst_ports },
                    MatchBox {
                        protocols: ProtocolSet::ALL.subtract(&tcp_udp),
                        src,
                        src_ports: PortSet::any(),
                        dst,
                        dst_ports: PortSet::any(),
                    },
                ]
            }
        };
        rules.push(MatchRule { boxes });
    }
    if n > 0 {
        rules.push(MatchRule::from_box(MatchBox::any()));
    }
    rules
}

/// A value of `ranges` near one of its edges (or anywhere, sometimes), or a uniform one.
fn pick<R: Rng + ?Sized>(rng: &mut R, ranges: &[(u128, u128)], max: u128) -> u128 {
    let Some(&(lo, hi)) = ranges.choose(rng) else { return rng.random::<u128>() & max };
    match rng.random_range(0..6) {
        0 => lo,
        1 => hi,
        2 => lo.saturating_sub(1),
        3 => hi.saturating_add(1).min(max),
        4 => lo + rng.random::<u128>() % (hi - lo).saturating_add(1).max(1),
        _ => rng.random::<u128>() & max,
    }
}

/// `count` flows, each aimed at a random box of a random rule: its fields near range edges
/// (just inside or just outside), sometimes anywhere. Ports are kept for every protocol.
pub fn flows<R: Rng + ?Sized>(rng: &mut R, rules: &[MatchRule], count: usize) -> Vec<Flow> {
    let boxes: Vec<&MatchBox> = rules.iter().flat_map(|r| &r.boxes).collect();
    (0..count)
        .map(|_| {
            let b = boxes.choose(rng).copied().cloned().unwrap_or_else(MatchBox::any);
            let protocols: Vec<u8> = b.protocols.iter().map(|p| p.0).collect();
            let protocol = match protocols.choose(rng) {
                Some(&p) if rng.random_bool(0.9) => p,
                _ => *[0u8, 1, 6, 17, 47, 255].choose(rng).expect("non-empty"),
            };
            let port = |rng: &mut R, set: &PortSet| {
                let r: Vec<(u128, u128)> =
                    set.as_pairs().iter().map(|&(l, h)| (l.into(), h.into())).collect();
                pick(rng, &r, 65535) as u16
            };
            let src_port = port(rng, &b.src_ports);
            let dst_port = port(rng, &b.dst_ports);
            let v6 = rng.random_bool(0.1);
            let addr = |rng: &mut R, set: &AddrSet| -> IpAddr {
                if v6 {
                    IpAddr::V6(Ipv6Addr::from(pick(rng, set.v6_ranges(), u128::MAX)))
                } else {
                    let r: Vec<(u128, u128)> =
                        set.v4_ranges().iter().map(|&(l, h)| (l.into(), h.into())).collect();
                    IpAddr::V4(Ipv4Addr::from(pick(rng, &r, u32::MAX.into()) as u32))
                }
            };
            let src = addr(rng, &b.src);
            let dst = addr(rng, &b.dst);
            Flow { protocol: IpProtocol(protocol), src, src_port, dst, dst_port }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn generated_sets_look_like_nsgs_and_are_reproducible() {
        let a = nsg_rules(&mut StdRng::seed_from_u64(1), 100);
        let b = nsg_rules(&mut StdRng::seed_from_u64(1), 100);
        assert_eq!(a, b);
        assert_eq!(a.len(), 100);
        assert!(a.last().expect("non-empty").boxes[0].src.is_any());
        assert!(a.iter().any(|r| r.boxes.len() == 2), "protocol Any with ports is two boxes");
        let flows = flows(&mut StdRng::seed_from_u64(2), &a, 500);
        assert!(flows.iter().any(|f| f.src.is_ipv6()) && flows.iter().any(|f| f.dst_port == 22));
    }
}
