//! The mutation engine: a valid-looking document with one fault injected.
//!
//! Inputs start from real files (the scenarios, the test data, the real-world Azure files) and
//! get exactly one fault, chosen by a seeded RNG: a value replaced by a hostile one (empty, `*`,
//! huge or negative numbers, offsets past the calendar, malformed addresses, 10,000 characters,
//! control and bidi characters), a line deleted or duplicated, a value of the wrong type, deep
//! nesting, invalid UTF-8, a truncation, or a few flipped bytes. The document keeps its shape
//! everywhere else, so the fault reaches the loaders' meaning checks instead of stopping at the
//! first syntax error, which is what random bytes alone would do.
//!
//! Values are found by a small scanner that knows only quoted strings and numbers, so it serves
//! RON, JSON, CSV and ClassBench alike.

use rand::RngExt;
use rand::rngs::StdRng;

/// Hostile replacements for a string value.
const HOSTILE_STRINGS: &[&str] = &[
    "",
    " ",
    "*",
    "-",
    ",",
    "*, Internet",
    "Internet, 10.0.0.0/8",
    "any",
    "0",
    "-1",
    "-5m",
    "65535",
    "65536",
    "0-65535",
    "65535-0",
    "1-2-3",
    "99999999999999999999",
    "9223372036854775807",
    "PT9223372036854775807S",
    "99999999999h",
    "2912801d13h",
    "P1W",
    "PT",
    "9999-12-31T23:59:59Z",
    "-9999-01-01T00:00:00Z",
    "2025-02-30T00:00:00Z",
    "10.0.0.0/33",
    "10.0.0.5/24",
    "999.1.1.1",
    "::",
    "::/0",
    "0.0.0.0/0",
    "255.255.255.255",
    "fe80::1%eth0",
    "10.0.1.4",
    "VirtualNetwork",
    "AzureCloud.WestEurope",
    "[concat('a', 'b')]",
    "[parameters('nope')]",
    "[variables('x')]",
    "[copyIndex(9223372036854775807)]",
    "[range(9223372036854775807, 10)]",
    "/subscriptions/x/resourceGroups/y/providers/Microsoft.Network/virtualNetworks/z",
    "r#raw",
    "\\u{0}",
    "\u{1b}[2J\u{1b}[31mred",
    "name\u{202E}txt.exe",
    "tab\there",
    "line\nbreak",
    "\u{0}nul",
    "é東京\u{FEFF}",
];

/// Hostile replacements for a number.
const HOSTILE_NUMBERS: &[&str] = &[
    "-1",
    "0",
    "1",
    "99",
    "4097",
    "65535",
    "65536",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "1e308",
    "1.5",
    "NaN",
    "0x10",
    "99999999999999999999999999999999",
];

/// A quoted string or a number in the text: byte range of the whole token.
#[derive(Clone, Copy, Debug)]
struct Token {
    start: usize,
    end: usize,
    quoted: bool,
}

/// The quoted strings and numbers of `text` (the scanner skips escapes inside strings).
fn tokens(text: &[u8]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < text.len() && text[i] != b'"' {
                    i += if text[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(text.len());
                out.push(Token { start, end: i, quoted: true });
            }
            c if c.is_ascii_digit() || (c == b'-' && text.get(i + 1).is_some_and(u8::is_ascii_digit)) => {
                let start = i;
                // Part of an identifier (`vm1`, `acl1_1K`): not a number.
                let in_word =
                    start > 0 && (text[start - 1].is_ascii_alphanumeric() || text[start - 1] == b'_');
                i += 1;
                while i < text.len() && (text[i].is_ascii_alphanumeric() || matches!(text[i], b'.' | b'_')) {
                    i += 1;
                }
                if !in_word {
                    out.push(Token { start, end: i, quoted: false });
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// The byte offsets where lines start.
fn line_starts(text: &[u8]) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.iter().enumerate().filter(|&(_, &b)| b == b'\n').map(|(i, _)| i + 1))
        .collect()
}

fn splice(text: &[u8], start: usize, end: usize, with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + with.len());
    out.extend_from_slice(&text[..start]);
    out.extend_from_slice(with);
    out.extend_from_slice(&text[end..]);
    out
}

/// A string literal holding `value`, escaped for RON and JSON (both read `\"`, `\\`, `\n`, `\t`
/// and `\u{…}`/`\uXXXX` differently, so control characters are written raw: a fault of its own).
fn quoted(value: &str) -> Vec<u8> {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out.into_bytes()
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// A hostile string: one of the list, a long run, or another value of the same document.
fn hostile_string(rng: &mut StdRng, text: &[u8], all: &[Token]) -> String {
    match rng.random_range(0..10) {
        0 => "x".repeat(rng.random_range(201..20_000)),
        1 => format!("{}\u{202E}{}", "a".repeat(rng.random_range(0..300)), "b".repeat(50)),
        2 if !all.is_empty() => {
            // Another value of the document: a name used where another kind of name belongs.
            let t = pick(rng, all);
            String::from_utf8_lossy(&text[t.start..t.end]).trim_matches('"').to_string()
        }
        _ => (*pick(rng, HOSTILE_STRINGS)).to_string(),
    }
}

/// One fault, the name of the fault, and the document with it.
pub fn mutate(rng: &mut StdRng, text: &[u8], nesting: (&str, &str)) -> (&'static str, Vec<u8>) {
    let all = tokens(text);
    let lines = line_starts(text);
    let line_span = |rng: &mut StdRng| {
        let i = rng.random_range(0..lines.len());
        let end = lines.get(i + 1).copied().unwrap_or(text.len());
        (lines[i], end)
    };
    match rng.random_range(0..20) {
        0..=6 if !all.is_empty() => {
            let t = *pick(rng, &all);
            if t.quoted || rng.random_bool(0.3) {
                let value = hostile_string(rng, text, &all);
                ("string value", splice(text, t.start, t.end, &quoted(&value)))
            } else {
                ("number value", splice(text, t.start, t.end, pick(rng, HOSTILE_NUMBERS).as_bytes()))
            }
        }
        7 | 8 => {
            let (start, end) = line_span(rng);
            ("deleted line", splice(text, start, end, b""))
        }
        9 => {
            let (start, end) = line_span(rng);
            let line = text[start..end].to_vec();
            ("duplicated line", splice(text, end, end, &line))
        }
        10 if !all.is_empty() => {
            // The wrong type: a string where a list or number belongs, or the reverse.
            let t = *pick(rng, &all);
            let with: &[u8] = match rng.random_range(0..4) {
                0 => b"[]",
                1 => b"[\"a\", 1]",
                2 => b"{}",
                _ => {
                    if t.quoted {
                        b"42"
                    } else {
                        b"\"42\""
                    }
                }
            };
            ("wrong type", splice(text, t.start, t.end, with))
        }
        11 if !all.is_empty() => {
            let t = *pick(rng, &all);
            let depth = rng.random_range(100..20_000);
            let value = format!("{}{}", nesting.0.repeat(depth), nesting.1.repeat(depth));
            ("deep nesting", splice(text, t.start, t.end, value.as_bytes()))
        }
        12 | 13 => {
            let at = rng.random_range(0..=text.len());
            let choices: [&[u8]; 5] = [b"\xFF", b"\xC3(", b"\xE2\x82", b"\xF0\x28\x8C\x28", b"\x80"];
            let bad = *pick(rng, &choices);
            ("invalid UTF-8", splice(text, at, at, bad))
        }
        14 => {
            let at = rng.random_range(0..=text.len());
            let c = *pick(rng, &["\u{0}", "\u{1b}[2J", "\u{202E}", "\r", "\u{7}", "\u{FEFF}", "\u{85}"]);
            ("control character", splice(text, at, at, c.as_bytes()))
        }
        15 => {
            let at = rng.random_range(0..=text.len());
            ("truncated", text[..at].to_vec())
        }
        16 if all.len() > 1 => {
            // Two values swapped: each valid alone, wrong in the other's place.
            let (a, b) = (*pick(rng, &all), *pick(rng, &all));
            let (a, b) = if a.start < b.start { (a, b) } else { (b, a) };
            if a.end > b.start {
                return ("swapped values", text.to_vec());
            }
            let mut out = text[..a.start].to_vec();
            out.extend_from_slice(&text[b.start..b.end]);
            out.extend_from_slice(&text[a.end..b.start]);
            out.extend_from_slice(&text[a.start..a.end]);
            out.extend_from_slice(&text[b.end..]);
            ("swapped values", out)
        }
        17 => {
            // A line repeated many times: many elements, duplicate names.
            let (start, end) = line_span(rng);
            let line = text[start..end].to_vec();
            let times = rng.random_range(2..2_000);
            ("repeated line", splice(text, end, end, &line.repeat(times)))
        }
        _ => {
            let mut out = text.to_vec();
            if !out.is_empty() {
                for _ in 0..rng.random_range(1..4) {
                    let i = rng.random_range(0..out.len());
                    out[i] = rng.random();
                }
            }
            ("flipped bytes", out)
        }
    }
}

/// A hostile command-line value for an argument.
pub fn hostile_argument(rng: &mut StdRng) -> String {
    match rng.random_range(0..6) {
        0 => "9".repeat(rng.random_range(20..5_000)),
        1 => format!("-{}", pick(rng, HOSTILE_STRINGS)),
        _ => (*pick(rng, HOSTILE_STRINGS)).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn tokens_are_strings_and_numbers_not_parts_of_names() {
        let text = br#"Rule(name: "a\"b", priority: 100, vm1: -5, x: 1.5)"#;
        let found: Vec<&[u8]> = tokens(text).iter().map(|t| &text[t.start..t.end]).collect();
        assert_eq!(found, vec![&br#""a\"b""#[..], b"100", b"-5", b"1.5"]);
    }

    #[test]
    fn a_seed_gives_the_same_fault_every_time() {
        let text =
            std::fs::read(crate::root().join("scenarios/01-nsg-evaluation-order.ron")).expect("a scenario");
        for seed in 0..200 {
            let (kind, a) = mutate(&mut StdRng::seed_from_u64(seed), &text, ("[", "]"));
            let (_, b) = mutate(&mut StdRng::seed_from_u64(seed), &text, ("[", "]"));
            assert_eq!(a, b, "seed {seed} ({kind}) is not reproducible");
        }
    }
}
