//! Helpers for the loader's unit tests (`load`, `load_network`, `load_jit`): each test module
//! has a valid scenario text, breaks it one way per case, and checks that the error points at the
//! right field, position and message.

use std::path::Path;

use super::{LoadError, Scenario, load_str};

/// A broken-file case: the text to replace, its replacement, the field path of the error, where
/// it must point (the nth occurrence of a needle in the broken text), and a fragment of its
/// message.
pub(super) type Case<'a> = (&'a str, &'a str, &'a str, (&'a str, usize), &'a str);

/// Loads `text` as the file `file`.
pub(super) fn load(text: &str, file: &str) -> Result<Scenario, LoadError> {
    load_str(text, Path::new(file))
}

/// `base` with `from` (which must occur once) replaced by `to`, and the error loading it gives.
///
/// # Panics
/// When `from` does not occur exactly once, or the broken text loads.
pub(super) fn broken(base: &str, file: &str, from: &str, to: &str) -> (String, LoadError) {
    assert_eq!(base.matches(from).count(), 1, "{from:?} must occur once");
    let text = base.replacen(from, to, 1);
    let e = load(&text, file).expect_err(to);
    (text, e)
}

/// The position of the `nth` occurrence of `needle` in `text`, counted here by hand
/// rather than by `SourceMap`, so that the tests check the loader's positions independently.
///
/// # Panics
/// When `needle` does not occur `nth + 1` times.
pub(super) fn at(text: &str, needle: &str, nth: usize) -> crate::position::Position {
    let (offset, _) = text.match_indices(needle).nth(nth).unwrap_or_else(|| panic!("no {needle:?}"));
    let before = &text[..offset];
    crate::position::Position::new(
        before.matches('\n').count() + 1,
        before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
    )
}

/// Runs every case against `base` loaded as `file` and fails listing each case whose error does
/// not start with `file:line:col: field: ` or lacks its message fragment.
///
/// # Panics
/// When a case does not give the error it names.
pub(super) fn assert_cases(base: &str, file: &str, cases: &[Case]) {
    let mut wrong = Vec::new();
    for (from, to, field, (needle, nth), message) in cases {
        let (text, e) = broken(base, file, from, to);
        let position = at(&text, needle, *nth);
        let prefix = format!("{file}:{position}: {field}: ");
        if !e.to_string().starts_with(&prefix) || !e.message.contains(message) {
            wrong.push(format!("{to}\n  want {prefix}…{message}\n  got  {e}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
