//! [`Matcher`]: the one type the rest of the crate uses, with the engine chosen at build time.

use super::{BuildError, Dynamic, LinearMatcher, MatchRule};
use crate::net::Flow;

/// Which engine a [`Matcher`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Engine {
    /// The compiled bitset engine with an update overlay ([`Dynamic`]).
    #[default]
    Compiled,
    /// The linear scan ([`LinearMatcher`]), the oracle.
    Linear,
}

/// A prioritised rule list that answers first-match and all-matches queries and takes
/// single-rule inserts and removals.
///
/// # Examples
/// ```
/// use nsgsim::matcher::{Engine, MatchBox, MatchRule, Matcher};
/// use nsgsim::net::{Flow, IpProtocol, PortRange, PortSet, ProtocolSet};
///
/// let rdp = MatchBox {
///     protocols: ProtocolSet::single(IpProtocol::TCP),
///     dst_ports: PortSet::from_ranges([PortRange::single(3389)]),
///     ..MatchBox::any()
/// };
/// let mut m = Matcher::build(Engine::Compiled, vec![MatchRule::from_box(MatchBox::any())])?;
/// let flow = Flow::new(IpProtocol::TCP, "1.2.3.4".parse()?, 40000, "10.0.0.4".parse()?, 3389);
/// assert_eq!(m.first_match(&flow), Some(0));
/// m.insert(0, MatchRule::from_box(rdp)); // a just-in-time grant
/// assert_eq!(m.first_match(&flow), Some(0));
/// assert_eq!(m.all_matches(&flow), vec![0, 1]);
/// m.remove(0); // its expiry
/// assert_eq!((m.first_match(&flow), m.len()), (Some(0), 1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Matcher {
    inner: Inner,
}

#[derive(Clone, Debug)]
enum Inner {
    Linear(LinearMatcher),
    Compiled(Box<Dynamic>),
}

impl Matcher {
    /// A matcher over `rules` (index 0 first) running `engine`.
    ///
    /// # Errors
    /// For [`Engine::Compiled`], as [`CompiledMatcher::build`](super::CompiledMatcher::build);
    /// the linear engine never fails.
    pub fn build(engine: Engine, rules: Vec<MatchRule>) -> Result<Matcher, BuildError> {
        let inner = match engine {
            Engine::Linear => Inner::Linear(LinearMatcher::new(rules)),
            Engine::Compiled => Inner::Compiled(Box::new(Dynamic::build(rules)?)),
        };
        Ok(Matcher { inner })
    }

    /// The engine in use.
    pub fn engine(&self) -> Engine {
        match self.inner {
            Inner::Linear(_) => Engine::Linear,
            Inner::Compiled(_) => Engine::Compiled,
        }
    }

    /// The index of the first rule that matches `flow`, if any.
    #[inline]
    pub fn first_match(&self, flow: &Flow) -> Option<usize> {
        match &self.inner {
            Inner::Linear(m) => m.first_match(flow),
            Inner::Compiled(m) => m.first_match(flow),
        }
    }

    /// The indices of every rule that matches `flow`, ascending (the winner first).
    pub fn all_matches(&self, flow: &Flow) -> Vec<usize> {
        match &self.inner {
            Inner::Linear(m) => m.all_matches(flow),
            Inner::Compiled(m) => m.all_matches(flow),
        }
    }

    /// The first match of every flow of `flows`, written to `out`, in parallel on the rayon pool.
    ///
    /// # Panics
    /// When `out` is shorter than `flows`.
    pub fn first_match_batch(&self, flows: &[Flow], out: &mut [Option<usize>]) {
        match &self.inner {
            Inner::Linear(m) => {
                use rayon::prelude::*;
                assert!(
                    out.len() >= flows.len(),
                    "out holds {} results for {} flows",
                    out.len(),
                    flows.len()
                );
                flows.par_iter().zip(out.par_iter_mut()).for_each(|(f, slot)| *slot = m.first_match(f));
            }
            Inner::Compiled(m) => m.first_match_batch(flows, out),
        }
    }

    /// Inserts `rule` at `index`, shifting later rules down. Takes microseconds for the compiled
    /// engine (see [`Dynamic`]).
    ///
    /// # Panics
    /// When `index > len()`.
    pub fn insert(&mut self, index: usize, rule: MatchRule) {
        match &mut self.inner {
            Inner::Linear(m) => m.insert(index, rule),
            Inner::Compiled(m) => m.insert(index, rule),
        }
    }

    /// Removes and returns the rule at `index`.
    ///
    /// # Panics
    /// When `index >= len()`.
    pub fn remove(&mut self, index: usize) -> MatchRule {
        match &mut self.inner {
            Inner::Linear(m) => m.remove(index),
            Inner::Compiled(m) => m.remove(index),
        }
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules().len()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules().is_empty()
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[MatchRule] {
        match &self.inner {
            Inner::Linear(m) => m.rules(),
            Inner::Compiled(m) => m.rules(),
        }
    }

    /// Folds pending inserts and removals into a freshly compiled structure now (no-op for the
    /// linear engine).
    ///
    /// # Errors
    /// As [`CompiledMatcher::build`](super::CompiledMatcher::build).
    pub fn compact(&mut self) -> Result<(), BuildError> {
        match &mut self.inner {
            Inner::Linear(_) => Ok(()),
            Inner::Compiled(m) => m.compact(),
        }
    }

    /// The shape of the compiled base structure (`None` for the linear engine).
    pub fn compiled_stats(&self) -> Option<super::CompiledStats> {
        match &self.inner {
            Inner::Linear(_) => None,
            Inner::Compiled(m) => Some(m.base().stats()),
        }
    }

    /// Heap bytes of the lookup structure (0 for the linear engine, which only holds the rules).
    pub fn heap_bytes(&self) -> usize {
        match &self.inner {
            Inner::Linear(_) => 0,
            Inner::Compiled(m) => m.heap_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::synth;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn engines_agree_on_a_synthetic_nsg() {
        let mut rng = StdRng::seed_from_u64(7);
        let rules = synth::nsg_rules(&mut rng, 200);
        let flows = synth::flows(&mut rng, &rules, 2000);
        let compiled = Matcher::build(Engine::Compiled, rules.clone()).expect("small");
        let linear = Matcher::build(Engine::Linear, rules).expect("linear");
        let mut batch = vec![None; flows.len()];
        compiled.first_match_batch(&flows, &mut batch);
        for (f, b) in flows.iter().zip(&batch) {
            assert_eq!(compiled.first_match(f), linear.first_match(f), "{f}");
            assert_eq!(*b, linear.first_match(f), "{f}");
            assert_eq!(compiled.all_matches(f), linear.all_matches(f), "{f}");
        }
        assert_eq!(compiled.engine(), Engine::Compiled);
        assert!(compiled.heap_bytes() > 0);
    }
}
