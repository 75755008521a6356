//! The event queue: things that happen by themselves at a known instant (a JIT grant ending),
//! ordered deterministically by `(instant, sequence)`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::jit::GrantId;

use super::Instant;

/// Something scheduled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Event {
    /// A JIT grant reaches its end time.
    GrantExpiry(GrantId),
}

/// A min-queue of events; ties at one instant keep their scheduling order.
#[derive(Clone, Debug, Default)]
pub struct EventQueue {
    heap: BinaryHeap<Reverse<(Instant, u64, Event)>>,
    seq: u64,
}

impl EventQueue {
    /// Schedules `event` at `at`.
    pub fn schedule(&mut self, at: Instant, event: Event) {
        self.seq += 1;
        self.heap.push(Reverse((at, self.seq, event)));
    }

    /// Removes and returns the earliest event due at or before `until`.
    pub fn pop_due(&mut self, until: Instant) -> Option<(Instant, Event)> {
        match self.heap.peek() {
            Some(Reverse((at, _, _))) if *at <= until => self.heap.pop().map(|Reverse((at, _, e))| (at, e)),
            _ => None,
        }
    }

    /// The instant of the next event.
    pub fn next_at(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _, _))| *at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Duration;

    #[test]
    fn pops_in_time_then_schedule_order() {
        let t0 = Instant::parse("2025-01-01T00:00:00Z").expect("valid");
        let mut q = EventQueue::default();
        q.schedule(t0.plus(Duration::from_secs(60)), Event::GrantExpiry(GrantId(2)));
        q.schedule(t0.plus(Duration::from_secs(30)), Event::GrantExpiry(GrantId(1)));
        q.schedule(t0.plus(Duration::from_secs(60)), Event::GrantExpiry(GrantId(0)));
        assert_eq!(q.pop_due(t0.plus(Duration::from_secs(29))), None);
        assert_eq!(
            q.pop_due(t0.plus(Duration::from_secs(60))).map(|e| e.1),
            Some(Event::GrantExpiry(GrantId(1)))
        );
        assert_eq!(
            q.pop_due(t0.plus(Duration::from_secs(60))).map(|e| e.1),
            Some(Event::GrantExpiry(GrantId(2)))
        );
        assert_eq!(
            q.pop_due(t0.plus(Duration::from_secs(60))).map(|e| e.1),
            Some(Event::GrantExpiry(GrantId(0)))
        );
        assert_eq!(q.next_at(), None);
    }
}
