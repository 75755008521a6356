//! Azure RBAC action patterns (`*`, `*/read`, `Microsoft.Security/*`): matching and overlap.
//!
//! Why a module of its own: a role's `Actions` and `NotActions` are patterns, and so are some of
//! the actions Microsoft's JIT permissions table asks for (`…/jitNetworkAccessPolicies/*/read`),
//! so the permission check needs three questions answered, all case-insensitively (RBAC
//! operation names are case-insensitive: Microsoft's own built-in roles spell
//! `Microsoft.Authorization/*/Delete` and `Microsoft.operationalInsights/…`):
//! - does a pattern match an operation ([`action_matches`]);
//! - does a pattern cover every operation another pattern stands for (the same function: a `*`
//!   in the covered pattern is a character no literal matches, so only a `*` of the covering
//!   pattern absorbs it, which is what containment means for `*`-only patterns);
//! - could a `NotActions` pattern take away any operation a pattern stands for
//!   ([`patterns_overlap`]).
//!
//! `*` matches any run of characters ("Understand Azure role definitions": `*/read` "grants
//! access to read actions for all resource types of all Azure resource providers"). One rule is
//! a **model choice** (docs/fidelity.md): a `*` that is a whole path segment (`X/*/read`) may
//! also be empty, so `X/*/read` covers `X/read`. Microsoft's JIT table asks requesters for
//! `Microsoft.Security/locations/jitNetworkAccessPolicies/*/read`, and the resource provider's
//! only read operation of that type is `…/jitNetworkAccessPolicies/read`: without the rule the
//! table's entry would stand for no operation at all.
//!
//! Both algorithms are iterative and bounded: [`action_matches`] is linear in the lengths of the
//! pattern and the action (each literal run is found once, leftmost, with `memchr::memmem`), and
//! [`patterns_overlap`] walks the product of the two patterns' positions once (O(|a|·|b|)).
//! The recursive glob this replaces took time exponential in the number of `*`s.

use memchr::memmem;

/// Lowercases ASCII and collapses runs of `*` into one (`**` means what `*` means).
fn normalize(pattern: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(pattern.len());
    for b in pattern.bytes() {
        if b == b'*' && out.last() == Some(&b'*') {
            continue;
        }
        out.push(b.to_ascii_lowercase());
    }
    out
}

/// Whether the `*` at `i` of a normalized pattern is a whole segment (`/*/`), which may be empty.
fn is_segment_star(p: &[u8], i: usize) -> bool {
    i > 0 && p[i - 1] == b'/' && p.get(i + 1) == Some(&b'/')
}

/// Where a pattern at position `at` may go without consuming a character.
fn empty_moves(p: &[u8], at: usize) -> impl Iterator<Item = usize> {
    let star = p.get(at) == Some(&b'*');
    let segment = star && is_segment_star(p, at);
    [(star, at + 1), (segment, at + 2)].into_iter().filter(|(ok, _)| *ok).map(|(_, next)| next)
}

/// Whether RBAC action pattern `pattern` covers `action`, ignoring ASCII case.
///
/// `action` is an operation (`Microsoft.Compute/virtualMachines/read`) or itself a pattern; in
/// the second case the answer is whether `pattern` covers every operation `action` stands for.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    let p = normalize(pattern);
    let text = action.to_ascii_lowercase();
    let t = text.as_bytes();
    let mut parts = p.split(|&b| b == b'*');
    let first = parts.next().unwrap_or_default();
    let rest: Vec<&[u8]> = parts.collect();
    if rest.is_empty() {
        return p == t;
    }
    if !t.starts_with(first) {
        return false;
    }
    let mut cur = first.len();
    // Position in `p` of the `*` before the part being placed.
    let mut star_at = first.len();
    let (last, middle) = rest.split_last().unwrap_or((&rest[0], &[]));
    for part in middle {
        // A whole-segment `*` may be empty: the part may reuse the '/' that ended the previous.
        let shared = is_segment_star(&p, star_at) && cur > 0 && t[cur - 1..].starts_with(part);
        if shared {
            cur += part.len() - 1;
        } else {
            match memmem::find(&t[cur..], part) {
                Some(at) => cur += at + part.len(),
                None => return false,
            }
        }
        star_at += 1 + part.len();
    }
    if last.is_empty() {
        return true;
    }
    let Some(start) = t.len().checked_sub(last.len()) else { return false };
    let earliest = if is_segment_star(&p, star_at) && cur > 0 { cur - 1 } else { cur };
    t.ends_with(last) && start >= earliest
}

/// Whether some operation matches both patterns (ignoring ASCII case): whether a `NotActions`
/// pattern takes anything away from what `b` stands for.
pub fn patterns_overlap(a: &str, b: &str) -> bool {
    let p = normalize(a);
    let q = normalize(b);
    let width = q.len() + 1;
    let mut seen = vec![false; (p.len() + 1) * width];
    let mut stack = Vec::new();
    let push = |i: usize, j: usize, seen: &mut Vec<bool>, stack: &mut Vec<(usize, usize)>| {
        if !seen[i * width + j] {
            seen[i * width + j] = true;
            stack.push((i, j));
        }
    };
    push(0, 0, &mut seen, &mut stack);
    while let Some((i, j)) = stack.pop() {
        if i == p.len() && j == q.len() {
            return true;
        }
        // Moves that consume nothing: a `*` may match the empty run, a `/*/` the empty segment.
        for next in empty_moves(&p, i) {
            push(next, j, &mut seen, &mut stack);
        }
        for next in empty_moves(&q, j) {
            push(i, next, &mut seen, &mut stack);
        }
        // Moves that consume one character of the operation both patterns would match.
        match (p.get(i), q.get(j)) {
            (Some(b'*'), Some(b'*')) | (None, _) | (_, None) => {}
            (Some(b'*'), Some(_)) => push(i, j + 1, &mut seen, &mut stack),
            (Some(_), Some(b'*')) => push(i + 1, j, &mut seen, &mut stack),
            (Some(x), Some(y)) if x == y => push(i + 1, j + 1, &mut seen, &mut stack),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_matches_any_run_ignoring_case() {
        assert!(action_matches("*", "Microsoft.Compute/virtualMachines/write"));
        assert!(action_matches("*/read", "Microsoft.Compute/virtualMachines/read"));
        assert!(!action_matches("*/read", "Microsoft.Compute/virtualMachines/write"));
        assert!(action_matches(
            "microsoft.security/*",
            "Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action"
        ));
        assert!(action_matches(
            "Microsoft.Authorization/*/Delete",
            "microsoft.authorization/roleassignments/delete"
        ));
        assert!(!action_matches(
            "Microsoft.Compute/virtualMachines/read",
            "Microsoft.Compute/virtualMachines/write"
        ));
        assert!(action_matches("a*b*c", "a-x-b-y-c"));
        assert!(!action_matches("a*b*c", "a-x-c-y-b"));
        assert!(action_matches("a*a", "aa"));
        assert!(!action_matches("a*a", "a"));
        assert!(!action_matches("abc", "ab"));
        assert!(!action_matches("ab*", "a"));
    }

    #[test]
    fn a_whole_segment_star_may_be_empty() {
        // Microsoft's JIT table asks for `…/*/read`; the provider's read is `…/read`.
        let table = "Microsoft.Security/locations/jitNetworkAccessPolicies/*/read";
        assert!(action_matches(table, "Microsoft.Security/locations/jitNetworkAccessPolicies/read"));
        assert!(action_matches(table, "Microsoft.Security/locations/jitNetworkAccessPolicies/x/y/read"));
        assert!(!action_matches(table, "Microsoft.Security/locations/jitNetworkAccessPolicies/write"));
        assert!(!action_matches(table, "Microsoft.Security/locations/jitNetworkAccessPoliciesread"));
        assert!(action_matches("a/*/*/b", "a/b"));
        assert!(action_matches("a/*/b/*/c", "a/b/c"));
        // Not a whole segment: `a*/b` needs the literal `a`, and the star may only be a run.
        assert!(!action_matches("x/a*/b", "x/b"));
    }

    #[test]
    fn a_pattern_covers_a_pattern_when_its_stars_absorb_the_others() {
        let nic = "Microsoft.Network/networkInterfaces/*/read";
        assert!(action_matches("*/read", nic));
        assert!(action_matches("Microsoft.Network/*/read", nic));
        assert!(action_matches("Microsoft.Network/networkInterfaces/*", nic));
        assert!(action_matches(nic, nic));
        assert!(!action_matches("Microsoft.Network/networkInterfaces/read", nic));
        assert!(!action_matches("Microsoft.Network/networkInterfaces/ipconfigurations/read", nic));
    }

    #[test]
    fn overlap_is_a_common_operation() {
        assert!(patterns_overlap(
            "Microsoft.Authorization/*/Write",
            "microsoft.authorization/roleassignments/write"
        ));
        assert!(!patterns_overlap(
            "Microsoft.Authorization/*/Write",
            "Microsoft.Network/networkInterfaces/*/read"
        ));
        assert!(patterns_overlap("*/read", "Microsoft.Network/networkInterfaces/*/read"));
        // The empty segment: `X/read` is one of the operations `X/*/read` stands for.
        assert!(patterns_overlap("x/read", "x/*/read"));
        assert!(patterns_overlap("x/*/read", "x/read"));
        assert!(!patterns_overlap("x/write", "x/*/read"));
        assert!(patterns_overlap("a*c", "ab*"));
        assert!(!patterns_overlap("a*c", "b*"));
    }

    #[test]
    fn many_stars_stay_fast() {
        // The recursive glob never returned here (exponential in the number of `*`s).
        let pattern = "*a".repeat(2_000) + "b";
        let action = "a".repeat(4_000);
        assert!(!action_matches(&pattern, &action));
        assert!(!patterns_overlap(&pattern, &action));
        assert!(action_matches(&pattern, &(action.clone() + "b")));
    }
}
