//! The peerings Azure refuses because the VNets one VNet is peered with would overlap
//! (`VnetAddressSpaceOverlapsWithAlreadyPeeredVnet`, docs/fidelity.md "Overlapping address
//! spaces"): the scenario loader refuses them too, so the import leaves such a peering out, in
//! the order the peerings are read, with a warning and a caveat (under `--strict`, an error),
//! rather than writing a scenario that does not load.

use ipnet::IpNet;

use crate::import::inventory::Inventory;
use crate::net::parse_prefix;

/// A peering kept so far: its two VNets and the prefixes each routes to the other.
pub(super) struct Kept {
    /// One VNet and the prefixes of it the peering carries.
    a: (String, Vec<IpNet>),
    /// The other.
    b: (String, Vec<IpNet>),
}

impl Inventory {
    /// The prefixes of `vnet` a peering carries: its address spaces, or for a subnet peering
    /// the prefixes of the subnets it names.
    pub(super) fn carried(&self, vnet: &str, subnets: Option<&[String]>) -> Vec<IpNet> {
        let Some(v) = self.vnets.iter().find(|v| v.name == vnet) else { return Vec::new() };
        let texts: Vec<&String> = match subnets {
            None => v.spaces.iter().collect(),
            Some(names) => v
                .subnets
                .iter()
                .filter(|s| names.iter().any(|n| n.eq_ignore_ascii_case(&s.name)))
                .map(|s| &s.prefix)
                .collect(),
        };
        texts.into_iter().filter_map(|t| parse_prefix(t).ok()).collect()
    }
}

/// Why Azure refuses a peering of `a` carrying `a_carried` and `b` carrying `b_carried` next to
/// the peerings in `kept`, or `None` when it does not; the peering is added to `kept` when not.
pub(super) fn refuse_or_keep(
    kept: &mut Vec<Kept>,
    (a, a_carried): (&str, Vec<IpNet>),
    (b, b_carried): (&str, Vec<IpNet>),
) -> Option<String> {
    for (from, to, carried) in [(a, b, &a_carried), (b, a, &b_carried)] {
        for k in kept.iter() {
            // A peering of `to` with a third VNet, and the prefixes of that VNet it carries.
            let (third, theirs) = match (&k.a, &k.b) {
                ((x, _), (y, p)) if x == to && y != from => (y, p),
                ((x, p), (y, _)) if y == to && x != from => (x, p),
                _ => continue,
            };
            for ours in carried {
                if let Some(t) =
                    theirs.iter().find(|t| t.contains(&ours.network()) || ours.contains(&t.network()))
                {
                    return Some(format!(
                        "virtual networks '{from}' and '{to}' cannot be peered: {ours} of '{from}' overlaps {t} of '{third}', which is already peered with '{to}' (Azure refuses it: VnetAddressSpaceOverlapsWithAlreadyPeeredVnet); the peering is not imported"
                    ));
                }
            }
        }
    }
    kept.push(Kept { a: (a.to_string(), a_carried), b: (b.to_string(), b_carried) });
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().expect("literal")).collect()
    }

    #[test]
    fn a_second_peering_whose_space_overlaps_a_peer_of_the_hub_is_refused() {
        let mut kept = Vec::new();
        assert_eq!(
            refuse_or_keep(&mut kept, ("hub", nets(&["10.0.0.0/16"])), ("spoke1", nets(&["10.1.0.0/16"]))),
            None
        );
        let why =
            refuse_or_keep(&mut kept, ("spoke2", nets(&["10.1.0.0/24"])), ("hub", nets(&["10.0.0.0/16"])))
                .expect("refused");
        assert!(
            why.contains(
                "10.1.0.0/24 of 'spoke2' overlaps 10.1.0.0/16 of 'spoke1', which is already peered with 'hub'"
            ),
            "{why}"
        );
        assert!(why.contains("VnetAddressSpaceOverlapsWithAlreadyPeeredVnet"), "{why}");
        assert_eq!(kept.len(), 1, "the refused peering is not kept");
        // Disjoint spaces peer; the same pair seen from the other side is no third VNet.
        assert_eq!(
            refuse_or_keep(&mut kept, ("spoke3", nets(&["10.3.0.0/16"])), ("hub", nets(&["10.0.0.0/16"]))),
            None
        );
        assert_eq!(
            refuse_or_keep(&mut kept, ("spoke1", nets(&["10.1.0.0/16"])), ("spoke3", nets(&["10.3.0.0/16"]))),
            None
        );
    }
}
