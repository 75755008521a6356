//! A compiled matcher that takes single-rule inserts and removals in microseconds: an immutable
//! [`CompiledMatcher`] *base* plus an *overlay* of the changes since it was built, merged by
//! priority on every lookup, and folded into a fresh base by a background build.
//!
//! # Why an overlay
//!
//! A just-in-time grant or its expiry adds or removes one rule. Rebuilding a 1,000-rule set takes
//! 6–11 ms here (`docs/matcher.md`), far over the 50 µs budget, and patching the bitsets in place would mean shifting every class bitset
//! by the inserted boxes. Instead:
//!
//! - a removed base rule has its box bits cleared in a `live` mask, which the lookup ANDs into the
//!   one candidate word it inspects;
//! - an inserted rule goes to the overlay, a short list of current indices checked linearly, and
//!   only up to the position of the base's winner;
//! - current and base indices are related by `base_to_current`, which is monotonic (inserts and
//!   removals keep the relative order of the base rules), so the first live base match is also
//!   the base rule with the lowest current index.
//!
//! An update is therefore O(rules) integer shifts: 8–14 µs for 1,000 rules (see
//! `docs/matcher.md`). When the overlay and the removed rules together pass
//! [`REBUILD_THRESHOLD`], a build of the current list starts on the rayon pool; the next insert
//! or removal (or [`Dynamic::compact`]) swaps it in and re-derives the overlay against it by rule
//! identity, so updates made while it was building are kept. Lookups never wait for it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use rayon::prelude::*;

use super::{BuildError, CompiledMatcher, MatchRule};
use crate::net::Flow;

/// Overlay entries plus removed base rules above which a background rebuild starts. The overlay
/// is scanned linearly up to the base winner, so it must stay short; a rebuild of 1,000 rules
/// takes 6–11 ms on a worker thread, during which lookups carry on against the old base.
pub const REBUILD_THRESHOLD: usize = 8;

/// `origin` of a rule that is not in the base; `base_to_current` of a removed base rule.
const NONE: u32 = u32::MAX;

/// A base build running on the rayon pool: the identities of the rules it compiles, in order.
struct Pending {
    ids: Vec<u64>,
    /// Behind a mutex only so that `Dynamic` is `Sync` (a `Receiver` is not); it is touched by
    /// `&mut self` methods alone, so the lock is never contended.
    result: Mutex<Receiver<Result<CompiledMatcher, BuildError>>>,
}

/// The compiled engine behind [`Matcher`](super::Matcher): base + overlay + background rebuild.
pub struct Dynamic {
    /// The current rules, in order.
    rules: Vec<MatchRule>,
    /// A unique identity per current rule, to re-align a base built from an older list.
    ids: Vec<u64>,
    next_id: u64,
    /// For each current rule, its base rule index, or `NONE` when it is in the overlay.
    origin: Vec<u32>,
    base: CompiledMatcher,
    /// For each base rule, its current index, or `NONE` once removed.
    base_to_current: Vec<u32>,
    /// Box bits of the base whose rule is still present.
    live: Vec<u64>,
    /// Whether every base rule is still present (`live` is then not consulted).
    all_live: bool,
    /// Whether the base is exactly the current rule list (no overlay, no removals), so that a
    /// lookup is the base's own, with no index translation.
    fresh: bool,
    removed: usize,
    /// Current indices of the rules not in the base, ascending.
    overlay: Vec<u32>,
    pending: Option<Pending>,
}

impl std::fmt::Debug for Dynamic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dynamic")
            .field("rules", &self.rules.len())
            .field("base_rules", &self.base.len())
            .field("overlay", &self.overlay.len())
            .field("removed", &self.removed)
            .field("rebuilding", &self.pending.is_some())
            .finish()
    }
}

impl Clone for Dynamic {
    /// Clones the base and overlay; a background build in progress is not shared, the clone
    /// simply starts its own when it next needs one.
    fn clone(&self) -> Dynamic {
        Dynamic {
            rules: self.rules.clone(),
            ids: self.ids.clone(),
            next_id: self.next_id,
            origin: self.origin.clone(),
            base: self.base.clone(),
            base_to_current: self.base_to_current.clone(),
            live: self.live.clone(),
            all_live: self.all_live,
            fresh: self.fresh,
            removed: self.removed,
            overlay: self.overlay.clone(),
            pending: None,
        }
    }
}

impl Dynamic {
    /// Compiles `rules` (index 0 first).
    ///
    /// # Errors
    /// As [`CompiledMatcher::build`].
    pub fn build(rules: Vec<MatchRule>) -> Result<Dynamic, BuildError> {
        let base = CompiledMatcher::build(&rules)?;
        let n = rules.len();
        let mut d = Dynamic {
            ids: (0..n as u64).collect(),
            next_id: n as u64,
            origin: (0..n as u32).collect(),
            base_to_current: (0..n as u32).collect(),
            live: Vec::new(),
            all_live: true,
            fresh: true,
            removed: 0,
            overlay: Vec::new(),
            pending: None,
            rules,
            base,
        };
        d.live = vec![u64::MAX; d.base.words()];
        Ok(d)
    }

    /// The current rules, in order.
    pub fn rules(&self) -> &[MatchRule] {
        &self.rules
    }

    /// The compiled base (which may lag behind the current rules).
    pub fn base(&self) -> &CompiledMatcher {
        &self.base
    }

    /// Rules inserted since the base was built.
    pub fn overlay_len(&self) -> usize {
        self.overlay.len()
    }

    /// The index of the first rule that matches `flow`, if any.
    #[inline]
    pub fn first_match(&self, flow: &Flow) -> Option<usize> {
        if self.fresh {
            return self.base.first_match(flow);
        }
        let live = if self.all_live { None } else { Some(self.live.as_slice()) };
        let limit = match self.base.first_box(flow, live) {
            Some(b) => self.base_to_current[self.base.rule_of_box(b)],
            None => NONE,
        };
        for &i in &self.overlay {
            if i >= limit {
                break;
            }
            if self.rules[i as usize].contains(flow) {
                return Some(i as usize);
            }
        }
        (limit != NONE).then_some(limit as usize)
    }

    /// The indices of every rule that matches `flow`, ascending.
    pub fn all_matches(&self, flow: &Flow) -> Vec<usize> {
        let live = if self.all_live { None } else { Some(self.live.as_slice()) };
        let mut out: Vec<usize> = self
            .base
            .all_boxes_masked(flow, live)
            .into_iter()
            .map(|b| self.base_to_current[b] as usize)
            .collect();
        out.extend(self.overlay.iter().map(|&i| i as usize).filter(|&i| self.rules[i].contains(flow)));
        out.sort_unstable();
        out
    }

    /// The first match of every flow of `flows`, written to `out`, on every rayon worker.
    ///
    /// # Panics
    /// When `out` is shorter than `flows`.
    pub fn first_match_batch(&self, flows: &[Flow], out: &mut [Option<usize>]) {
        assert!(out.len() >= flows.len(), "out holds {} results for {} flows", out.len(), flows.len());
        flows.par_chunks(2048).zip(out.par_chunks_mut(2048)).for_each(|(flows, out)| {
            for (flow, slot) in flows.iter().zip(out) {
                *slot = self.first_match(flow);
            }
        });
    }

    /// Inserts `rule` at `index`, shifting later rules down.
    ///
    /// # Panics
    /// When `index > len`.
    pub fn insert(&mut self, index: usize, rule: MatchRule) {
        assert!(index <= self.rules.len(), "insert index {index} is beyond {} rules", self.rules.len());
        self.poll_pending();
        let at = index as u32;
        for c in &mut self.base_to_current {
            if *c != NONE && *c >= at {
                *c += 1;
            }
        }
        let pos = self.overlay.partition_point(|&i| i < at);
        for i in &mut self.overlay[pos..] {
            *i += 1;
        }
        self.overlay.insert(pos, at);
        self.rules.insert(index, rule);
        self.origin.insert(index, NONE);
        self.ids.insert(index, self.next_id);
        self.next_id += 1;
        self.fresh = false;
        self.maybe_start_rebuild();
    }

    /// Removes and returns the rule at `index`.
    ///
    /// # Panics
    /// When `index >= len`.
    pub fn remove(&mut self, index: usize) -> MatchRule {
        assert!(index < self.rules.len(), "remove index {index} is beyond {} rules", self.rules.len());
        self.poll_pending();
        let at = index as u32;
        match self.origin[index] {
            NONE => {
                let pos = self.overlay.partition_point(|&i| i < at);
                self.overlay.remove(pos);
            }
            b => {
                self.base_to_current[b as usize] = NONE;
                for bit in self.base.rule_boxes(b as usize) {
                    self.live[bit / 64] &= !(1 << (bit % 64));
                }
                self.all_live = false;
                self.removed += 1;
            }
        }
        for c in &mut self.base_to_current {
            if *c != NONE && *c > at {
                *c -= 1;
            }
        }
        let pos = self.overlay.partition_point(|&i| i < at);
        for i in &mut self.overlay[pos..] {
            *i -= 1;
        }
        self.origin.remove(index);
        self.ids.remove(index);
        let rule = self.rules.remove(index);
        // Removing an inserted rule can restore the base exactly (a grant and its expiry).
        self.fresh = self.overlay.is_empty() && self.removed == 0;
        self.maybe_start_rebuild();
        rule
    }

    /// Builds a fresh base from the current rules now (waiting for any background build) so that
    /// lookups run at full speed.
    ///
    /// # Errors
    /// As [`CompiledMatcher::build`].
    pub fn compact(&mut self) -> Result<(), BuildError> {
        self.pending = None;
        if self.overlay.is_empty() && self.removed == 0 {
            return Ok(());
        }
        let base = CompiledMatcher::build(&self.rules)?;
        let ids = self.ids.clone();
        self.adopt(base, &ids);
        Ok(())
    }

    /// Heap bytes owned: the base, the bookkeeping vectors and the rules' own sets are not
    /// counted (they are the caller's input).
    pub fn heap_bytes(&self) -> usize {
        self.base.heap_bytes()
            + self.ids.capacity() * 8
            + self.origin.capacity() * 4
            + self.base_to_current.capacity() * 4
            + self.live.capacity() * 8
            + self.overlay.capacity() * 4
    }

    fn maybe_start_rebuild(&mut self) {
        if self.pending.is_some() || self.overlay.len() + self.removed < REBUILD_THRESHOLD {
            return;
        }
        let rules = self.rules.clone();
        let (send, result) = channel();
        rayon::spawn(move || {
            // The receiver may be gone (the matcher was dropped or compacted); nothing to do then.
            let _ = send.send(CompiledMatcher::build(&rules));
        });
        self.pending = Some(Pending { ids: self.ids.clone(), result: Mutex::new(result) });
    }

    /// Swaps in a finished background build, if any.
    fn poll_pending(&mut self) {
        let Some(pending) = &mut self.pending else { return };
        let received = match pending.result.get_mut() {
            Ok(receiver) => receiver.try_recv(),
            Err(_) => Err(TryRecvError::Disconnected),
        };
        match received {
            Err(TryRecvError::Empty) => {}
            // A failed or lost build leaves the overlay in charge; the next threshold crossing or
            // `compact` tries again (and `compact` reports the error).
            Err(TryRecvError::Disconnected) | Ok(Err(_)) => self.pending = None,
            Ok(Ok(base)) => {
                let pending = self.pending.take().expect("checked above");
                self.adopt(base, &pending.ids);
            }
        }
    }

    /// Makes `base`, compiled from the rules whose identities are `base_ids` (in order), the new
    /// base, and re-derives the overlay and removals against the current rules.
    fn adopt(&mut self, base: CompiledMatcher, base_ids: &[u64]) {
        let position: HashMap<u64, u32> =
            base_ids.iter().enumerate().map(|(i, &id)| (id, i as u32)).collect();
        self.base = base;
        self.base_to_current = vec![NONE; base_ids.len()];
        self.overlay.clear();
        for (current, id) in self.ids.iter().enumerate() {
            match position.get(id) {
                Some(&b) => {
                    self.origin[current] = b;
                    self.base_to_current[b as usize] = current as u32;
                }
                None => {
                    self.origin[current] = NONE;
                    self.overlay.push(current as u32);
                }
            }
        }
        self.live = vec![u64::MAX; self.base.words()];
        self.removed = 0;
        for (b, &c) in self.base_to_current.iter().enumerate() {
            if c == NONE {
                self.removed += 1;
                for bit in self.base.rule_boxes(b) {
                    self.live[bit / 64] &= !(1 << (bit % 64));
                }
            }
        }
        self.all_live = self.removed == 0;
        self.fresh = self.all_live && self.overlay.is_empty();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::{LinearMatcher, MatchBox};
    use crate::net::{IpProtocol, PortRange, PortSet};

    fn port_rule(port: u16) -> MatchRule {
        MatchRule::from_box(MatchBox {
            dst_ports: PortSet::from_ranges([PortRange::single(port)]),
            ..MatchBox::any()
        })
    }

    fn flows() -> Vec<Flow> {
        (0..40u16)
            .map(|p| {
                Flow::new(
                    IpProtocol::TCP,
                    "1.1.1.1".parse().expect("ip"),
                    1,
                    "2.2.2.2".parse().expect("ip"),
                    p,
                )
            })
            .collect()
    }

    fn check(d: &Dynamic, oracle: &LinearMatcher) {
        for f in flows() {
            assert_eq!(d.first_match(&f), oracle.first_match(&f), "{f} with {d:?}");
            assert_eq!(d.all_matches(&f), oracle.all_matches(&f), "{f}");
        }
    }

    #[test]
    fn inserts_and_removes_follow_the_oracle_through_rebuilds() {
        let rules: Vec<MatchRule> =
            (0..20u16).map(port_rule).chain([MatchRule::from_box(MatchBox::any())]).collect();
        let mut d = Dynamic::build(rules.clone()).expect("small");
        let mut oracle = LinearMatcher::new(rules);
        // A fixed walk of inserts and removals at varied positions, enough to cross the rebuild
        // threshold several times.
        for step in 0..60usize {
            let len = oracle.rules().len();
            if step % 3 == 2 && len > 1 {
                let at = (step * 7) % len;
                assert_eq!(d.remove(at), oracle.remove(at));
            } else {
                let at = (step * 5) % (len + 1);
                let rule = port_rule((step % 40) as u16);
                d.insert(at, rule.clone());
                oracle.insert(at, rule);
            }
            check(&d, &oracle);
        }
        d.compact().expect("small");
        assert_eq!(d.overlay_len(), 0);
        check(&d, &oracle);
        assert_eq!(d.rules(), oracle.rules());
    }

    #[test]
    fn a_late_background_build_is_realigned() {
        let rules: Vec<MatchRule> = (0..10u16).map(port_rule).collect();
        let mut d = Dynamic::build(rules.clone()).expect("small");
        let mut oracle = LinearMatcher::new(rules);
        for i in 0..REBUILD_THRESHOLD {
            d.insert(0, port_rule(30 + i as u16));
            oracle.insert(0, port_rule(30 + i as u16));
        }
        // Wait for the background build explicitly, then change the list before adopting it.
        let pending = d.pending.take().expect("threshold crossed");
        let base = pending.result.into_inner().expect("unpoisoned").recv().expect("sent").expect("built");
        d.remove(3);
        oracle.remove(3);
        d.insert(5, port_rule(7));
        oracle.insert(5, port_rule(7));
        d.adopt(base, &pending.ids);
        check(&d, &oracle);
    }

    #[test]
    fn a_grant_and_its_expiry_restore_the_fresh_base() {
        let rules: Vec<MatchRule> = (0..10u16).map(port_rule).collect();
        let mut d = Dynamic::build(rules.clone()).expect("small");
        let mut oracle = LinearMatcher::new(rules);
        assert!(d.fresh);
        d.insert(2, port_rule(33));
        oracle.insert(2, port_rule(33));
        assert!(!d.fresh, "an inserted rule lives in the overlay");
        check(&d, &oracle);
        assert_eq!(d.remove(2), oracle.remove(2));
        assert!(d.fresh, "removing the only inserted rule leaves the base exact");
        check(&d, &oracle);
        d.remove(0);
        oracle.remove(0);
        assert!(!d.fresh, "a removed base rule must be masked");
        check(&d, &oracle);
    }
}
