//! One NSG, one direction, one context: its rules in evaluation order and a matcher over them.

use crate::matcher::{Engine, MatchRule, Matcher};
use crate::net::AddrSet;
use crate::net::Flow;

use super::{Direction, Nsg, ResolveContext, SecurityRule, resolve_rule};

/// The rule that decided a flow in one NSG.
#[derive(Clone, Copy, Debug)]
pub struct RuleHit<'a> {
    /// Position of the rule in evaluation order.
    pub index: usize,
    /// The rule.
    pub rule: &'a SecurityRule,
}

/// An NSG compiled for one direction and one resolution context.
#[derive(Debug)]
pub struct CompiledNsg {
    direction: Direction,
    rules: Vec<SecurityRule>,
    matcher: Matcher,
    resolved: Vec<MatchRule>,
}

impl CompiledNsg {
    /// Compiles the rules of `nsg` for `direction`, resolving tags and ASGs through `ctx`.
    pub fn compile(nsg: &Nsg, direction: Direction, ctx: &ResolveContext) -> CompiledNsg {
        let rules = nsg.evaluation_order(direction);
        let resolved: Vec<MatchRule> = rules.iter().map(|r| resolve_rule(r, ctx)).collect();
        // The compiled engine refuses only rule sets beyond its size budget; the linear scan then
        // answers the same questions, more slowly.
        let matcher = Matcher::build(Engine::Compiled, resolved.clone())
            .or_else(|_| Matcher::build(Engine::Linear, resolved.clone()))
            .expect("the linear engine never fails to build");
        CompiledNsg { direction, rules, matcher, resolved }
    }

    /// The direction this NSG was compiled for.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// The rules in evaluation order (user rules by priority, then the defaults).
    pub fn rules(&self) -> &[SecurityRule] {
        &self.rules
    }

    /// The first rule that matches `flow`. The default `DenyAll*Bound` rule matches everything,
    /// so there always is one.
    pub fn evaluate(&self, flow: &Flow) -> RuleHit<'_> {
        let index = self.matcher.first_match(flow).unwrap_or(self.rules.len() - 1);
        RuleHit { index, rule: &self.rules[index] }
    }

    /// The rules resolved to concrete sets, in evaluation order.
    pub fn resolved(&self) -> &[MatchRule] {
        &self.resolved
    }

    /// Adds to `v4`/`v6` the points where some rule's source (`source == true`) or destination
    /// address condition changes: every range start and every range end + 1.
    pub fn address_cuts(&self, source: bool, v4: &mut Vec<u32>, v6: &mut Vec<u128>) {
        for rule in &self.resolved {
            for b in &rule.boxes {
                let field = if source { &b.src } else { &b.dst };
                for &(lo, hi) in field.v4_ranges() {
                    v4.push(lo);
                    v4.extend(hi.checked_add(1));
                }
                for &(lo, hi) in field.v6_ranges() {
                    v6.push(lo);
                    v6.extend(hi.checked_add(1));
                }
            }
        }
    }

    /// Adds to `cuts` the destination ports where some rule's port condition changes.
    pub fn port_cuts(&self, cuts: &mut Vec<u32>) {
        for rule in &self.resolved {
            for b in &rule.boxes {
                for &(lo, hi) in b.dst_ports.as_pairs() {
                    cuts.push(lo as u32);
                    cuts.push(hi as u32 + 1);
                }
            }
        }
    }

    /// Splits `set` into pieces on which every rule's source (`source == true`) or destination
    /// address condition is constant: one representative address per piece then stands for the
    /// whole piece in any question about this NSG.
    pub fn address_pieces(&self, set: &AddrSet, source: bool) -> Vec<AddrSet> {
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        self.address_cuts(source, &mut v4, &mut v6);
        crate::net::split_at(set, &mut v4, &mut v6)
    }

    /// Every rule that matches `flow`, in evaluation order (the first one decides).
    pub fn all_matches(&self, flow: &Flow) -> Vec<RuleHit<'_>> {
        self.matcher
            .all_matches(flow)
            .into_iter()
            .map(|index| RuleHit { index, rule: &self.rules[index] })
            .collect()
    }
}
