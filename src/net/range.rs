//! Sets of closed integer intervals, the one piece of set algebra shared by ports (`u16`),
//! IPv4 addresses (`u32`) and IPv6 addresses (`u128`).
//!
//! A set is a `Vec<(lo, hi)>` kept normalised: sorted by `lo`, disjoint, and with no two ranges
//! adjacent (they are merged). Normalised sets compare equal exactly when they hold the same
//! values, which the diff and lint analyses rely on.

/// The unsigned integer types used as interval endpoints.
pub trait Bound: Copy + Ord + std::fmt::Debug {
    /// The smallest value.
    const MIN: Self;
    /// The largest value.
    const MAX: Self;
    /// `self + 1`, or `None` at `MAX`.
    fn succ(self) -> Option<Self>;
    /// `self - 1`, or `None` at `MIN`.
    fn pred(self) -> Option<Self>;
}

macro_rules! impl_bound {
    ($($t:ty),*) => {$(
        impl Bound for $t {
            const MIN: Self = <$t>::MIN;
            const MAX: Self = <$t>::MAX;
            fn succ(self) -> Option<Self> { self.checked_add(1) }
            fn pred(self) -> Option<Self> { self.checked_sub(1) }
        }
    )*};
}
impl_bound!(u16, u32, u128);

/// Sorts and merges overlapping or adjacent ranges. Ranges with `lo > hi` are dropped.
pub fn normalize<T: Bound>(mut ranges: Vec<(T, T)>) -> Vec<(T, T)> {
    ranges.retain(|(lo, hi)| lo <= hi);
    ranges.sort_unstable();
    let mut out: Vec<(T, T)> = Vec::with_capacity(ranges.len());
    for (lo, hi) in ranges {
        if let Some(last) = out.last_mut() {
            let touches = match last.1.succ() {
                Some(next) => lo <= next,
                None => true,
            };
            if touches {
                if hi > last.1 {
                    last.1 = hi;
                }
                continue;
            }
        }
        out.push((lo, hi));
    }
    out
}

/// Whether the normalised set `ranges` holds `value` (binary search).
#[inline]
pub fn contains<T: Bound>(ranges: &[(T, T)], value: T) -> bool {
    let idx = ranges.partition_point(|&(lo, _)| lo <= value);
    idx > 0 && ranges[idx - 1].1 >= value
}

/// Union of two normalised sets.
pub fn union<T: Bound>(a: &[(T, T)], b: &[(T, T)]) -> Vec<(T, T)> {
    normalize(a.iter().chain(b).copied().collect())
}

/// Complement of a normalised set within `[MIN, MAX]`.
pub fn complement<T: Bound>(ranges: &[(T, T)]) -> Vec<(T, T)> {
    let mut out = Vec::with_capacity(ranges.len() + 1);
    let mut next = Some(T::MIN);
    for &(lo, hi) in ranges {
        if let Some(start) = next
            && start < lo
            && let Some(end) = lo.pred()
        {
            out.push((start, end));
        }
        next = hi.succ();
    }
    if let Some(start) = next {
        out.push((start, T::MAX));
    }
    out
}

/// Intersection of two normalised sets.
pub fn intersect<T: Bound>(a: &[(T, T)], b: &[(T, T)]) -> Vec<(T, T)> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        let lo = a[i].0.max(b[j].0);
        let hi = a[i].1.min(b[j].1);
        if lo <= hi {
            out.push((lo, hi));
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// Whether two normalised sets share a value; allocates nothing (the set algebra of `analysis`
/// asks this far more often than it needs the intersection itself).
pub fn overlaps<T: Bound>(a: &[(T, T)], b: &[(T, T)]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].0.max(b[j].0) <= a[i].1.min(b[j].1) {
            return true;
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    false
}

/// Difference `a \ b` of two normalised sets.
pub fn subtract<T: Bound>(a: &[(T, T)], b: &[(T, T)]) -> Vec<(T, T)> {
    intersect(a, &complement(b))
}

/// Whether normalised `inner` is a subset of normalised `outer`.
pub fn is_subset<T: Bound>(inner: &[(T, T)], outer: &[(T, T)]) -> bool {
    subtract(inner, outer).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_merges_overlap_and_adjacency() {
        assert_eq!(normalize(vec![(5u16, 9), (1, 3), (4, 4), (20, 30), (25, 26)]), vec![(1, 9), (20, 30)]);
        assert_eq!(normalize(vec![(0u16, u16::MAX), (3, 4)]), vec![(0, u16::MAX)]);
    }

    #[test]
    fn overlaps_agrees_with_a_non_empty_intersection() {
        let sets: [&[(u16, u16)]; 6] =
            [&[], &[(0, u16::MAX)], &[(5, 9)], &[(10, 20)], &[(0, 4), (21, 30)], &[(9, 10)]];
        for a in sets {
            for b in sets {
                assert_eq!(overlaps(a, b), !intersect(a, b).is_empty(), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn complement_and_subtract() {
        assert_eq!(complement::<u16>(&[]), vec![(0, u16::MAX)]);
        assert_eq!(complement(&[(0u16, 10)]), vec![(11, u16::MAX)]);
        assert_eq!(complement(&[(5u16, u16::MAX)]), vec![(0, 4)]);
        assert_eq!(subtract(&[(0u16, 100)], &[(10, 20), (50, 200)]), vec![(0, 9), (21, 49)]);
        assert!(is_subset(&[(3u16, 4)], &[(0, 10)]));
        assert!(!is_subset(&[(3u16, 11)], &[(0, 10)]));
    }

    #[test]
    fn contains_uses_bounds_inclusively() {
        let set = vec![(10u32, 20), (30, 30)];
        assert!(contains(&set, 10) && contains(&set, 20) && contains(&set, 30));
        assert!(!contains(&set, 9) && !contains(&set, 21) && !contains(&set, 31));
    }
}
