//! One NSG, one direction, one context: its rules in evaluation order and a matcher over them.

use crate::matcher::LinearMatcher;
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
    matcher: LinearMatcher,
}

impl CompiledNsg {
    /// Compiles the rules of `nsg` for `direction`, resolving tags and ASGs through `ctx`.
    pub fn compile(nsg: &Nsg, direction: Direction, ctx: &ResolveContext) -> CompiledNsg {
        let rules = nsg.evaluation_order(direction);
        let resolved = rules.iter().map(|r| resolve_rule(r, ctx)).collect();
        CompiledNsg { direction, rules, matcher: LinearMatcher::new(resolved) }
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

    /// Every rule that matches `flow`, in evaluation order (the first one decides).
    pub fn all_matches(&self, flow: &Flow) -> Vec<RuleHit<'_>> {
        self.matcher
            .all_matches(flow)
            .into_iter()
            .map(|index| RuleHit { index, rule: &self.rules[index] })
            .collect()
    }
}
