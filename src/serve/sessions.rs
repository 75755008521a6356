//! The sessions of one server: each browser (or script) gets its own simulation, under a random
//! id. Their number is bounded (`--max-sessions`): creating one more forgets the session used
//! least recently, so a classroom of tabs cannot exhaust the machine's memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use rand::RngExt;

use super::session::Session;

/// A session shared between the requests that use it.
pub type Shared = Arc<Mutex<Session>>;

/// Every live session, by id.
#[derive(Debug)]
pub struct Sessions {
    max: usize,
    /// Each session with the tick of its last use.
    live: HashMap<String, (Shared, u64)>,
    tick: u64,
}

impl Sessions {
    /// A store of at most `max` sessions (at least one).
    pub fn new(max: usize) -> Sessions {
        Sessions { max: max.max(1), live: HashMap::new(), tick: 0 }
    }

    /// Adds `session` under a new random id, forgetting the least recently used session if the
    /// store is full. Returns the id.
    pub fn insert(&mut self, session: Session) -> String {
        while self.live.len() >= self.max {
            let Some(oldest) = self.live.iter().min_by_key(|(_, (_, used))| *used).map(|(id, _)| id.clone())
            else {
                break;
            };
            self.live.remove(&oldest);
        }
        let id = loop {
            let bits: u128 = rand::rng().random();
            let id = format!("{bits:032x}");
            if !self.live.contains_key(&id) {
                break id;
            }
        };
        self.tick += 1;
        self.live.insert(id.clone(), (Arc::new(Mutex::new(session)), self.tick));
        id
    }

    /// The session `id`, marked as used now.
    pub fn get(&mut self, id: &str) -> Option<Shared> {
        self.tick += 1;
        let tick = self.tick;
        self.live.get_mut(id).map(|(session, used)| {
            *used = tick;
            Arc::clone(session)
        })
    }

    /// Forgets the session `id`; whether it existed.
    pub fn remove(&mut self, id: &str) -> bool {
        self.live.remove(id).is_some()
    }
}

/// Locks a mutex; a panic while it was held (a bug) does not stop every later request.
pub fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
