//! The assertion files of `nsgsim test`: a scenario (or imported policy) and named flow cases
//! with the verdict each must get. The format is documented in docs/engineers.md.
//!
//! ```ron
//! Assertions(
//!     name: "web tier gating",
//!     scenario: "../../scenarios/01-nsg-evaluation-order.ron", // relative to this file
//!     cases: [
//!         Case(name: "customers reach HTTPS", from: "customer", to: "vm-web", port: 443, verdict: Allow),
//!         Case(name: "no SSH from the Internet", from: "198.18.0.1", to: "vm-web", port: 22,
//!              verdict: Deny, rule: "DenyAllInBound"),
//!     ],
//! )
//! ```
//!
//! Only the shape is checked here; endpoints, offsets and names are checked against the
//! scenario when the cases run (`cli::test`).

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A whole assertions file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Assertions")]
pub struct AssertionsFile {
    /// The suite's name (default: the file name).
    #[serde(default)]
    pub name: Option<String>,
    /// The scenario to test, relative to the assertions file (`--scenario` overrides it).
    #[serde(default)]
    pub scenario: Option<String>,
    /// The default offset of every case (default `0`).
    #[serde(default)]
    pub at: Option<String>,
    /// The cases.
    pub cases: Vec<CaseSpec>,
}

/// Protocol of a case.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename = "Protocol")]
pub enum CaseProtocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP.
    Icmp,
    /// ESP.
    Esp,
    /// AH.
    Ah,
}

/// The verdict a case expects.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename = "Verdict")]
pub enum CaseVerdict {
    /// Allow.
    Allow,
    /// Deny.
    Deny,
}

/// One named flow and its expected verdict.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Case")]
pub struct CaseSpec {
    /// A name, unique in the file (the JUnit test case name).
    pub name: String,
    /// Source: a VM, a user, or an IP address.
    pub from: String,
    /// Destination: a VM, a public IP name, or an IP address.
    pub to: String,
    /// Destination port (0 for portless protocols).
    pub port: u16,
    /// Protocol (default Tcp).
    #[serde(default)]
    pub protocol: Option<CaseProtocol>,
    /// Source port (default 50000).
    #[serde(default)]
    pub src_port: Option<u16>,
    /// Through this Bastion host.
    #[serde(default)]
    pub via: Option<String>,
    /// The expected verdict.
    pub verdict: CaseVerdict,
    /// The offset to evaluate at (default: the file's `at`, else `0`).
    #[serde(default)]
    pub at: Option<String>,
    /// The NSG that must decide.
    #[serde(default)]
    pub nsg: Option<String>,
    /// The rule that must decide (`securityRules/NAME`, `defaultSecurityRules/NAME` or `NAME`).
    #[serde(default)]
    pub rule: Option<String>,
}

/// Why an assertions file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}", file.display(), position.map(|p| format!(":{p}")).unwrap_or_default())]
pub struct AssertionsError {
    /// The file.
    pub file: PathBuf,
    /// Where in the file, when known.
    pub position: Option<crate::position::Position>,
    /// What is wrong.
    pub message: String,
}

/// Parses an assertions file's text.
///
/// # Errors
/// RON syntax or shape errors with their position; duplicate case names.
pub fn parse(text: &str, path: &Path) -> Result<AssertionsFile, AssertionsError> {
    let options = ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    let file: AssertionsFile = options.from_str(text).map_err(|e| AssertionsError {
        file: path.to_path_buf(),
        position: Some(crate::position::Position::new(e.span.start.line, e.span.start.col)),
        message: format!("{} (valid: the assertion format of docs/engineers.md, \"Assertions\")", e.code),
    })?;
    for (i, case) in file.cases.iter().enumerate() {
        if file.cases[..i].iter().any(|c| c.name == case.name) {
            return Err(AssertionsError {
                file: path.to_path_buf(),
                position: text.find(&format!("\"{}\"", case.name)).map(|_| {
                    let offset =
                        text.match_indices(&format!("\"{}\"", case.name)).nth(1).map_or(0, |(o, _)| o);
                    let before = &text[..offset];
                    // The column counts characters, as every position nsgsim prints does.
                    crate::position::Position::new(
                        before.matches('\n').count() + 1,
                        before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
                    )
                }),
                message: format!(
                    "cases[{i}].name: case name '{}' is used twice; names must be unique",
                    case.name
                ),
            });
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cases_and_rejects_duplicates() {
        let text = r#"Assertions(scenario: "x.ron", cases: [
            Case(name: "a", from: "u", to: "vm", port: 22, verdict: Deny, protocol: Tcp, at: "30m"),
        ])"#;
        let f = parse(text, Path::new("t.ron")).expect("valid");
        assert_eq!(f.cases[0].verdict, CaseVerdict::Deny);
        assert_eq!(f.cases[0].at.as_deref(), Some("30m"));
        let dup = r#"Assertions(cases: [
            Case(name: "a", from: "u", to: "vm", port: 22, verdict: Deny),
            Case(name: "a", from: "u", to: "vm", port: 23, verdict: Deny),
        ])"#;
        let err = parse(dup, Path::new("t.ron")).expect_err("duplicate");
        assert!(err.to_string().contains("used twice"), "{err}");
        assert_eq!(err.position.map(|p| p.line), Some(3));
        let bad = parse("Assertions(cases: [Case(name: \"a\")])", Path::new("t.ron")).expect_err("missing");
        assert!(bad.to_string().starts_with("t.ron:1:"), "{bad}");
    }
}
