//! Azure resource names, compared as Azure compares them: without regard to case.
//!
//! Microsoft, "Naming rules and restrictions for Azure resources": "Resource names are
//! case-insensitive unless noted in the valid characters column." Every name nsgsim resolves for
//! a user (a rule, NSG, VM, NIC, subnet, VNet, ASG, route table, firewall, Bastion, public IP,
//! a scenario's user) goes through [`same_name`] or is looked up under [`name_key`], so
//! `DenyAllInbound` (the spelling of Microsoft's articles) finds `DenyAllInBound` (the API's),
//! while outputs keep printing the definition's own spelling. Two definitions whose names differ
//! only in case are one name, and a second one is refused as a duplicate, as Azure would treat
//! it as the same resource.
//!
//! Azure's names are ASCII for every resource nsgsim models, so ASCII case folding is exact.

/// Whether two names are the same Azure name (case-insensitive).
///
/// ```
/// assert!(nsgsim::name::same_name("DenyAllInbound", "DenyAllInBound"));
/// assert!(!nsgsim::name::same_name("vm1", "vm2"));
/// ```
pub fn same_name(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// The key a name is indexed under in a table of names: equal keys are [`same_name`].
pub fn name_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_microsofts_articles_match_the_apis_spelling() {
        for (article, api) in [
            ("DenyAllInbound", "DenyAllInBound"),
            ("AllowVNetInBound", "AllowVnetInBound"),
            ("AllowInternetOutbound", "AllowInternetOutBound"),
        ] {
            assert!(same_name(article, api), "{article}");
            assert_eq!(name_key(article), name_key(api));
        }
        assert!(!same_name("allow-ssh", "allow-ssh2"));
    }
}
