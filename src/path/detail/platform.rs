//! Platform hops as data: a flow to a platform service (Azure DNS, IMDS, the host node, Windows
//! licensing) and how it passes the NSGs, or why it does not. `Display` writes the trace's
//! sentence.

use std::fmt;
use std::net::IpAddr;

use crate::path::platform::{self, PlatformService};

/// How a flow to a platform service is treated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlatformAnswer {
    /// A user-defined 0.0.0.0/0 route of the subnet disables the platform rule that lets it past
    /// the NSGs, so it is filtered and routed like any other flow.
    RuleDisabledByRoute {
        /// The route.
        route: String,
    },
    /// An outbound rule on the path names the service's tag, so the NSGs evaluated it; it
    /// answers.
    TagTargeted,
    /// A platform rule lets it out without NSG evaluation.
    PlatformRule,
    /// The host node answers it without NSG evaluation.
    HostNode,
}

/// What a platform hop says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlatformDetail {
    /// The service.
    pub service: PlatformService,
    /// The address the flow is sent to.
    pub dst: IpAddr,
    /// How it is treated.
    pub answer: PlatformAnswer,
}

impl fmt::Display for PlatformDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let PlatformDetail { service, dst, answer } = self;
        let name = service.name;
        match answer {
            PlatformAnswer::RuleDisabledByRoute { route } => write!(
                f,
                "{name} at {dst}: the platform rule that lets it past the NSGs is disabled by route '{route}' (0.0.0.0/0) of this subnet, so the flow is filtered and routed like any other ({}; reading a user-defined 0.0.0.0/0 route as that configuration is a model choice)",
                platform::KMS_SOURCE
            ),
            PlatformAnswer::TagTargeted => write!(
                f,
                "{name} at {dst} answers; the NSGs evaluated this flow because a rule on the path names the {} service tag",
                service.tag.unwrap_or_default()
            ),
            PlatformAnswer::PlatformRule => write!(
                f,
                "{name} at {dst} is let out by a platform rule without NSG evaluation ({}); an outbound deny rule to the {} service tag would block it, and a user-defined 0.0.0.0/0 route in the subnet would disable the platform rule",
                platform::KMS_SOURCE,
                platform::KMS_TAG
            ),
            PlatformAnswer::HostNode => {
                write!(
                    f,
                    "{name} at {dst} is answered by the host node without NSG evaluation ({})",
                    platform::SOURCE
                )?;
                match service.tag {
                    Some(tag) => write!(f, "; an outbound deny rule to the {tag} service tag would block it"),
                    None => Ok(()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::platform::Exemption;

    fn says(service: PlatformService, dst: &str, answer: PlatformAnswer) -> String {
        PlatformDetail { service, dst: dst.parse().expect("ip"), answer }.to_string()
    }

    const DNS: PlatformService = PlatformService {
        name: "Azure-provided DNS",
        tag: Some("AzurePlatformDNS"),
        exemption: Exemption::HostNode,
    };
    const KMS: PlatformService = PlatformService {
        name: platform::KMS_NAME,
        tag: Some(platform::KMS_TAG),
        exemption: Exemption::PlatformRule,
    };

    #[test]
    fn rule_disabled_by_route() {
        assert_eq!(
            says(KMS, "20.118.99.224", PlatformAnswer::RuleDisabledByRoute { route: "default".into() }),
            format!(
                "Windows licensing (Key Management Service) at 20.118.99.224: the platform rule that lets it past the NSGs is disabled by route 'default' (0.0.0.0/0) of this subnet, so the flow is filtered and routed like any other ({}; reading a user-defined 0.0.0.0/0 route as that configuration is a model choice)",
                platform::KMS_SOURCE
            )
        );
    }

    #[test]
    fn tag_targeted() {
        assert_eq!(
            says(DNS, "168.63.129.16", PlatformAnswer::TagTargeted),
            "Azure-provided DNS at 168.63.129.16 answers; the NSGs evaluated this flow because a rule on the path names the AzurePlatformDNS service tag"
        );
    }

    #[test]
    fn platform_rule() {
        assert_eq!(
            says(KMS, "20.118.99.224", PlatformAnswer::PlatformRule),
            format!(
                "Windows licensing (Key Management Service) at 20.118.99.224 is let out by a platform rule without NSG evaluation ({}); an outbound deny rule to the AzurePlatformLKM service tag would block it, and a user-defined 0.0.0.0/0 route in the subnet would disable the platform rule",
                platform::KMS_SOURCE
            )
        );
    }

    #[test]
    fn host_node_with_and_without_a_tag() {
        let source = platform::SOURCE;
        assert_eq!(
            says(DNS, "168.63.129.16", PlatformAnswer::HostNode),
            format!(
                "Azure-provided DNS at 168.63.129.16 is answered by the host node without NSG evaluation ({source}); an outbound deny rule to the AzurePlatformDNS service tag would block it"
            )
        );
        let host = PlatformService { name: "the host node", tag: None, exemption: Exemption::HostNode };
        assert_eq!(
            says(host, "168.63.129.16", PlatformAnswer::HostNode),
            format!(
                "the host node at 168.63.129.16 is answered by the host node without NSG evaluation ({source})"
            )
        );
    }
}
