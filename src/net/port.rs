//! Port ranges (`22`, `1000-2000`, `*`) and normalised sets of them.

use std::fmt;
use std::str::FromStr;

use super::range;

/// An inclusive range of ports `lo..=hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortRange {
    lo: u16,
    hi: u16,
}

/// Why a port or port range did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not a port range: {reason} (valid: '*', a port 0-65535, or a range like '1000-2000')")]
pub struct ParsePortError {
    /// The text that was given.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl PortRange {
    /// Every port, `0-65535`.
    pub const ANY: PortRange = PortRange { lo: 0, hi: u16::MAX };

    /// The range `lo..=hi`.
    ///
    /// # Errors
    /// When `lo > hi`.
    pub fn new(lo: u16, hi: u16) -> Result<PortRange, ParsePortError> {
        if lo > hi {
            return Err(ParsePortError { text: format!("{lo}-{hi}"), reason: "the start is above the end" });
        }
        Ok(PortRange { lo, hi })
    }

    /// A single port.
    pub const fn single(port: u16) -> PortRange {
        PortRange { lo: port, hi: port }
    }

    /// The first port.
    pub fn lo(self) -> u16 {
        self.lo
    }

    /// The last port.
    pub fn hi(self) -> u16 {
        self.hi
    }

    /// Whether the range covers every port.
    pub fn is_any(self) -> bool {
        self == Self::ANY
    }

    /// Whether `port` is in the range.
    pub fn contains(self, port: u16) -> bool {
        self.lo <= port && port <= self.hi
    }
}

impl FromStr for PortRange {
    type Err = ParsePortError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        let err = |reason| ParsePortError { text: text.to_string(), reason };
        if trimmed == "*" {
            return Ok(PortRange::ANY);
        }
        let parse_one = |s: &str| -> Result<u16, ParsePortError> {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err("not a number"));
            }
            s.parse::<u16>().map_err(|_| err("a port must be at most 65535"))
        };
        match trimmed.split_once('-') {
            Some((lo, hi)) => {
                let (lo, hi) = (parse_one(lo)?, parse_one(hi)?);
                if lo > hi {
                    return Err(err("the start is above the end"));
                }
                Ok(PortRange { lo, hi })
            }
            None => Ok(PortRange::single(parse_one(trimmed)?)),
        }
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_any() {
            f.write_str("*")
        } else if self.lo == self.hi {
            write!(f, "{}", self.lo)
        } else {
            write!(f, "{}-{}", self.lo, self.hi)
        }
    }
}

/// A normalised set of ports: sorted, disjoint, non-adjacent ranges.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct PortSet(Vec<(u16, u16)>);

impl PortSet {
    /// Every port.
    pub fn any() -> PortSet {
        PortSet(vec![(0, u16::MAX)])
    }

    /// No port.
    pub fn empty() -> PortSet {
        PortSet(Vec::new())
    }

    /// The union of the given ranges.
    pub fn from_ranges(ranges: impl IntoIterator<Item = PortRange>) -> PortSet {
        PortSet(range::normalize(ranges.into_iter().map(|r| (r.lo, r.hi)).collect()))
    }

    /// Whether `port` is in the set.
    #[inline]
    pub fn contains(&self, port: u16) -> bool {
        range::contains(&self.0, port)
    }

    /// Whether the set holds every port.
    pub fn is_any(&self) -> bool {
        self.0 == [(0, u16::MAX)]
    }

    /// Whether the set holds no port.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The ranges of the set, ascending.
    pub fn ranges(&self) -> impl Iterator<Item = PortRange> + '_ {
        self.0.iter().map(|&(lo, hi)| PortRange { lo, hi })
    }

    /// The raw `(lo, hi)` pairs, ascending.
    pub fn as_pairs(&self) -> &[(u16, u16)] {
        &self.0
    }

    /// Set union.
    pub fn union(&self, other: &PortSet) -> PortSet {
        PortSet(range::union(&self.0, &other.0))
    }

    /// Set intersection.
    pub fn intersect(&self, other: &PortSet) -> PortSet {
        PortSet(range::intersect(&self.0, &other.0))
    }

    /// Whether the two sets share a port (without building their intersection).
    pub fn overlaps(&self, other: &PortSet) -> bool {
        range::overlaps(&self.0, &other.0)
    }

    /// Set difference.
    pub fn subtract(&self, other: &PortSet) -> PortSet {
        PortSet(range::subtract(&self.0, &other.0))
    }

    /// Whether every port of `self` is in `other`.
    pub fn is_subset(&self, other: &PortSet) -> bool {
        range::is_subset(&self.0, &other.0)
    }
}

impl fmt::Debug for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let parts: Vec<String> = self.ranges().map(|r| r.to_string()).collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_azure_port_syntax() {
        assert_eq!("*".parse::<PortRange>(), Ok(PortRange::ANY));
        assert_eq!("22".parse::<PortRange>(), Ok(PortRange::single(22)));
        assert_eq!("1000-2000".parse::<PortRange>().map(|r| (r.lo(), r.hi())), Ok((1000, 2000)));
        assert!("2000-1000".parse::<PortRange>().is_err());
        assert!("65536".parse::<PortRange>().is_err());
        assert!("ssh".parse::<PortRange>().is_err());
        assert!("-5".parse::<PortRange>().is_err());
    }

    #[test]
    fn display_round_trips() {
        for text in ["*", "22", "1000-2000", "0", "65535"] {
            let parsed: PortRange = text.parse().expect("valid literal");
            assert_eq!(parsed.to_string(), text);
        }
    }

    #[test]
    fn sets_merge_ranges() {
        let set = PortSet::from_ranges([PortRange::single(22), PortRange::single(23), PortRange::single(80)]);
        assert_eq!(set.to_string(), "22-23,80");
        assert!(set.contains(23) && !set.contains(24));
        assert!(PortSet::from_ranges([PortRange::ANY]).is_any());
    }
}
