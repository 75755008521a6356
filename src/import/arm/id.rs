//! Resource ids: how Azure names a resource, literally (`az` output) or through `resourceId()`
//! (templates), and the case-insensitive key the import resolves references by.
//!
//! Azure refers to a resource by its id, `/subscriptions/S/resourceGroups/G/providers/
//! Microsoft.Network/virtualNetworks/V/subnets/S`. Both forms become a [`ResourceRef`]: the full
//! resource type and the chain of names. Names and types are compared without regard to case,
//! as Azure compares them.

use super::expr::Deployment;

/// A reference to a resource: its full type and names (`Microsoft.Network/virtualNetworks/subnets`,
/// `["vnet1", "web"]`), plus the subscription and resource group when the id names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceRef {
    /// The full resource type, as written.
    pub kind: String,
    /// One name per type segment after the namespace.
    pub names: Vec<String>,
    /// The subscription, from a literal id or an explicit `resourceId` argument.
    pub subscription: Option<String>,
    /// The resource group, from a literal id or an explicit `resourceId` argument.
    pub resource_group: Option<String>,
}

impl ResourceRef {
    /// The case-insensitive lookup key: `type|name/name`.
    pub fn key(&self) -> String {
        key(&self.kind, &self.names)
    }

    /// The last name (the resource's own name).
    pub fn name(&self) -> &str {
        self.names.last().map(String::as_str).unwrap_or("")
    }

    /// The full resource id, with the deployment's stand-ins where the reference names no
    /// subscription or resource group.
    pub fn id(&self, deployment: &Deployment) -> String {
        let mut segments = self.kind.split('/');
        let namespace = segments.next().unwrap_or_default();
        let mut out = format!(
            "/subscriptions/{}/resourceGroups/{}/providers/{namespace}",
            self.subscription.as_deref().unwrap_or(&deployment.subscription),
            self.resource_group.as_deref().unwrap_or(&deployment.resource_group),
        );
        for (segment, name) in segments.zip(&self.names) {
            out.push('/');
            out.push_str(segment);
            out.push('/');
            out.push_str(name);
        }
        out
    }
}

/// The case-insensitive lookup key of a resource type and its names.
pub fn key(kind: &str, names: &[String]) -> String {
    format!("{}|{}", kind.to_ascii_lowercase(), names.join("/").to_ascii_lowercase())
}

/// Parses a literal resource id. `None` when `text` is not one.
pub fn parse_id(text: &str) -> Option<ResourceRef> {
    let segments: Vec<&str> = text.split('/').filter(|s| !s.is_empty()).collect();
    let lower: Vec<String> = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
    let find = |label: &str| lower.iter().position(|s| s == label).and_then(|i| segments.get(i + 1));
    let subscription = find("subscriptions").map(|s| s.to_string());
    let resource_group = find("resourcegroups").map(|s| s.to_string());
    let providers = lower.iter().rposition(|s| s == "providers")?;
    let rest = &segments[providers + 1..];
    let (namespace, pairs) = rest.split_first()?;
    if pairs.is_empty() || pairs.len() % 2 != 0 {
        return None;
    }
    let mut kind = namespace.to_string();
    let mut names = Vec::new();
    for pair in pairs.chunks(2) {
        kind.push('/');
        kind.push_str(pair[0]);
        names.push(pair[1].to_string());
    }
    Some(ResourceRef { kind, names, subscription, resource_group })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_ids_parse_into_type_and_names() {
        let r = parse_id("/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/prod/subnets/web")
            .expect("an id");
        assert_eq!(r.kind, "Microsoft.Network/virtualNetworks/subnets");
        assert_eq!(r.names, ["prod", "web"]);
        assert_eq!(r.subscription.as_deref(), Some("s1"));
        assert_eq!(r.resource_group.as_deref(), Some("rg1"));
        assert!(parse_id("web-nsg").is_none());
        assert!(parse_id("/subscriptions/s1/providers/Microsoft.Network/virtualNetworks").is_none());
        // An id built by resourceId() reads back as the same reference.
        let again = parse_id(&r.id(&Deployment::default())).expect("an id");
        assert_eq!(again, r);
        assert_eq!(r.key(), "microsoft.network/virtualnetworks/subnets|prod/web");
    }
}
