//! The bound on what evaluation builds, so that no template takes unbounded time or memory.
//!
//! A template can double a string or an array in each of 40 variables, or expand 800 resources
//! of 800 rules each: ARM refuses such templates by their expanded size, and nsgsim must refuse
//! them before it runs out of memory. Every value an expression returns (a function's result, a
//! property or an item taken from a value) and every item a copy loop makes is counted as it is
//! made, by its approximate size in bytes ([`size_of`]), against one [`Budget`] of
//! [`MAX_BUILT_BYTES`] for the whole import. Once it is spent, evaluation fails with the
//! [`BudgetExceeded`], and the reader turns that into a positioned error
//! (never into an unknown value: a template that is too big is an error wherever it is).

use std::cell::Cell;
use std::fmt;

use serde_json::Value;

/// What expressions may build and copy, in all, in one import: 64 MiB.
pub const MAX_BUILT_BYTES: u64 = 64 * 1024 * 1024;

/// The bytes counted so far, shared by every scope of one import.
#[derive(Debug, Default)]
pub struct Budget {
    used: Cell<u64>,
    exceeded: Cell<bool>,
}

impl Budget {
    /// Counts `bytes` more.
    ///
    /// # Errors
    /// The budget is spent.
    pub fn charge(&self, bytes: u64) -> Result<(), BudgetExceeded> {
        let used = self.used.get().saturating_add(bytes);
        self.used.set(used);
        if used > MAX_BUILT_BYTES {
            self.exceeded.set(true);
            return Err(BudgetExceeded { limit: MAX_BUILT_BYTES });
        }
        Ok(())
    }

    /// Counts a value made by evaluation.
    ///
    /// # Errors
    /// See [`Budget::charge`].
    pub fn charge_value(&self, value: &Value) -> Result<(), BudgetExceeded> {
        self.charge(size_of(value, MAX_BUILT_BYTES.saturating_add(1)))
    }

    /// Whether the budget has been spent: every later failure is this one.
    pub fn is_exceeded(&self) -> bool {
        self.exceeded.get()
    }
}

/// The budget is spent: the expressions of one import built or copied more than `limit` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BudgetExceeded {
    /// The bound, in bytes ([`MAX_BUILT_BYTES`]).
    pub limit: u64,
}

impl fmt::Display for BudgetExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mib = self.limit / (1024 * 1024);
        write!(
            f,
            "the template's expressions build or copy more than {mib} MiB of strings, arrays and objects (nsgsim's bound; ARM itself refuses a template larger than 4 MB once its loops are expanded and its variables and parameters resolved); valid: expressions that build at most {mib} MiB in all (split the template into nested ones, or pass smaller values)"
        )
    }
}

impl std::error::Error for BudgetExceeded {}

/// The approximate size of `value` in bytes (16 for each value, plus the bytes of each string
/// and key), counted no further than `cap`.
pub fn size_of(value: &Value, cap: u64) -> u64 {
    let mut total = 0u64;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        total = total.saturating_add(16);
        match v {
            Value::String(s) => total = total.saturating_add(s.len() as u64),
            Value::Array(items) => stack.extend(items.iter()),
            Value::Object(m) => {
                for (k, item) in m {
                    total = total.saturating_add(k.len() as u64);
                    stack.push(item);
                }
            }
            _ => {}
        }
        if total > cap {
            break;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_counts_as_values_are_made_and_stays_spent() {
        let b = Budget::default();
        assert!(b.charge(MAX_BUILT_BYTES - 10).is_ok());
        assert!(!b.is_exceeded());
        assert_eq!(
            b.charge_value(&Value::String("x".repeat(100))),
            Err(BudgetExceeded { limit: MAX_BUILT_BYTES })
        );
        assert!(b.is_exceeded());
        assert_eq!(b.charge(0), Err(BudgetExceeded { limit: MAX_BUILT_BYTES }), "spent stays spent");
        assert!(BudgetExceeded { limit: MAX_BUILT_BYTES }.to_string().starts_with(
            "the template's expressions build or copy more than 64 MiB of strings, arrays and objects (nsgsim's bound;"
        ));
        assert_eq!(size_of(&serde_json::json!({"ab": [1, "xyz"]}), u64::MAX), 16 + 2 + 16 + 16 + 16 + 3);
        assert!(size_of(&serde_json::json!([[1, 2, 3], [4, 5, 6]]), 20) <= 20 + 16);
    }
}
