//! Finding where in the source text a value was written, so that errors found after parsing
//! (an unknown reference, an address outside its subnet) still point at a line and column.
//!
//! RON's parser reports positions only for syntax errors. For meaning errors we know the entity
//! (its name) and the offending value; the value's first occurrence after the entity's name is
//! where the user wrote it.

/// Searches one source text.
#[derive(Debug, Clone, Copy)]
pub struct Locator<'a> {
    text: &'a str,
}

impl<'a> Locator<'a> {
    /// A locator over `text`.
    pub fn new(text: &'a str) -> Locator<'a> {
        Locator { text }
    }

    /// The 1-based (line, column) of `value` as first written after the quoted `anchor`
    /// (or anywhere, without an anchor or if not found after it).
    pub fn find(&self, anchor: Option<&str>, value: &str) -> Option<(usize, usize)> {
        // Search after the anchor, so that a value equal to the anchor (a duplicate name) is found
        // at its second writing.
        let start = anchor
            .and_then(|a| {
                let quoted = format!("\"{a}\"");
                self.text.find(&quoted).map(|o| o + quoted.len())
            })
            .unwrap_or(0);
        let quoted = format!("\"{value}\"");
        let offset = self.text[start..]
            .find(&quoted)
            .map(|o| o + start)
            .or_else(|| find_word(&self.text[start..], value).map(|o| o + start))
            .or_else(|| self.text.find(&quoted))
            .or_else(|| find_word(self.text, value))?;
        Some(self.position(offset))
    }

    /// The line of the `n`th (0-based) timeline step: the `n`th `(at:` after `timeline:`, outside
    /// comments.
    pub fn step_line(&self, n: usize) -> Option<usize> {
        let start = self.text.find("timeline:")?;
        let mut seen = 0;
        let mut offset = start;
        for line in self.text[start..].split_inclusive('\n') {
            let code = line.split("//").next().unwrap_or("");
            let mut from = 0;
            while let Some(i) = code[from..].find("(at:") {
                if seen == n {
                    return Some(self.position(offset + from + i).0);
                }
                seen += 1;
                from += i + 4;
            }
            offset += line.len();
        }
        None
    }

    /// Converts a byte offset to 1-based (line, column in characters).
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
        (line, col)
    }
}

/// The offset of `word` where it is not part of a longer identifier or number.
fn find_word(text: &str, word: &str) -> Option<usize> {
    if word.is_empty() {
        return None;
    }
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).map(|(o, _)| o).find(|&o| {
        let before_ok = text[..o].chars().next_back().is_none_or(|c| !is_ident(c));
        let after_ok = text[o + word.len()..].chars().next().is_none_or(|c| !is_ident(c));
        before_ok && after_ok
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_value_after_anchor() {
        let text = "a: \"x\",\nname: \"vm1\",\n  ip: \"10.0.0.4\",\nname: \"vm2\", ip: \"10.0.0.4\"";
        let loc = Locator::new(text);
        assert_eq!(loc.find(Some("vm2"), "10.0.0.4"), Some((4, 18)));
        assert_eq!(loc.find(Some("vm1"), "10.0.0.4"), Some((3, 7)));
        assert_eq!(loc.find(None, "x"), Some((1, 4)));
        assert_eq!(loc.find(None, "nothing"), None);
        assert_eq!(Locator::new("priority: 5000,").find(None, "5000"), Some((1, 11)));
        assert_eq!(Locator::new("p: 15000, q: 500").find(None, "500"), Some((1, 14)));
        let dup = "rules: [(name: \"a\"), (name: \"b\"), (name: \"a\")]";
        assert_eq!(Locator::new(dup).find(Some("a"), "a"), Some((1, 42)));
    }

    #[test]
    fn step_lines_skip_comments_and_notes() {
        let text = "x: \"at: 1\",\ntimeline: [\n  // (at: \"0\") in a comment\n  (at: \"0\", note: \"(at: nothing)\"),\n  (at: \"5m\", note: \"b\"),\n]";
        let loc = Locator::new(text);
        assert_eq!(loc.step_line(0), Some(4));
        // Notes that contain "(at:" are rare; they would shift later steps, which is tolerated.
        assert_eq!(loc.step_line(2), Some(5));
    }
}
