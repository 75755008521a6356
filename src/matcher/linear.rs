//! The linear reference matcher: scan rules in priority order, stop at the first match.
//!
//! This is the oracle every faster engine is tested against, so it stays as plain as possible.

use super::MatchRule;
use crate::net::Flow;

/// Scans rules in order; the first rule containing the flow wins.
#[derive(Clone, Debug, Default)]
pub struct LinearMatcher {
    rules: Vec<MatchRule>,
}

impl LinearMatcher {
    /// A matcher over `rules`, index 0 first.
    pub fn new(rules: Vec<MatchRule>) -> LinearMatcher {
        LinearMatcher { rules }
    }

    /// The index of the first rule that matches `flow`, if any.
    pub fn first_match(&self, flow: &Flow) -> Option<usize> {
        self.rules.iter().position(|rule| rule.contains(flow))
    }

    /// The indices of every rule that matches `flow`, in order.
    pub fn all_matches(&self, flow: &Flow) -> Vec<usize> {
        self.rules.iter().enumerate().filter(|(_, r)| r.contains(flow)).map(|(i, _)| i).collect()
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[MatchRule] {
        &self.rules
    }

    /// Inserts `rule` at position `index` (shifting later rules down).
    ///
    /// # Panics
    /// When `index > len`.
    pub fn insert(&mut self, index: usize, rule: MatchRule) {
        self.rules.insert(index, rule);
    }

    /// Removes and returns the rule at `index`.
    ///
    /// # Panics
    /// When `index >= len`.
    pub fn remove(&mut self, index: usize) -> MatchRule {
        self.rules.remove(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::MatchBox;
    use crate::net::{AddrSet, IpProtocol, PortRange, PortSet, ProtocolSet};

    fn flow(dst_port: u16) -> Flow {
        Flow::new(
            IpProtocol::TCP,
            "1.2.3.4".parse().expect("ip"),
            5000,
            "10.0.0.4".parse().expect("ip"),
            dst_port,
        )
    }

    #[test]
    fn first_match_wins_and_order_matters() {
        let port22 = MatchBox {
            dst_ports: PortSet::from_ranges([PortRange::single(22)]),
            protocols: ProtocolSet::single(IpProtocol::TCP),
            ..MatchBox::any()
        };
        let nothing = MatchBox { dst: AddrSet::empty(), ..MatchBox::any() };
        let m = LinearMatcher::new(vec![
            MatchRule::from_box(nothing),
            MatchRule::from_box(port22),
            MatchRule::from_box(MatchBox::any()),
        ]);
        assert_eq!(m.first_match(&flow(22)), Some(1));
        assert_eq!(m.first_match(&flow(23)), Some(2));
        assert_eq!(m.all_matches(&flow(22)), vec![1, 2]);
        assert_eq!(LinearMatcher::default().first_match(&flow(22)), None);
    }
}
