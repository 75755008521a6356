//! Analyses of whole policies: lint findings and the exact diff of two policies, built on an
//! exact algebra of flow boxes.
//!
//! Why boxes: an NSG rule resolved in its context is a union of 5-field boxes (`matcher`), and
//! first-match evaluation turns a rule list into a partition of the flow space: each rule
//! decides exactly the part of its boxes that no earlier rule covers. Computing that partition
//! with box subtraction answers "is this rule ever used?", "would removing it change a verdict?"
//! and "which flows change verdict between two policies?" exactly, with no sampling.
mod admin_lint;
pub mod chain;
pub mod diff;
pub mod finding_code;
pub mod finding_rule;
pub mod jit_drift;
pub mod lint;
mod lint_intent;
mod lint_lb;
mod lint_tags;
mod lint_width;
pub mod space;
#[cfg(test)]
mod testing;
