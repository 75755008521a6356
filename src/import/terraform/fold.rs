//! Terraform's association resources, folded into the resource they associate, as Azure stores
//! them: `azurerm_subnet_network_security_group_association` is the subnet's
//! `networkSecurityGroup`, `azurerm_subnet_route_table_association` its `routeTable`,
//! `azurerm_network_interface_security_group_association` the NIC's `networkSecurityGroup`,
//! `azurerm_network_interface_application_security_group_association` an ASG of the NIC's IP
//! configurations (the provider adds it to every configuration of the NIC, its
//! `ip_configuration_name` of azurerm 1.x to that one),
//! `azurerm_network_interface_backend_address_pool_association` and
//! `azurerm_network_interface_nat_rule_association` the `loadBalancerBackendAddressPools` and
//! `loadBalancerInboundNatRules` of the NIC's IP configuration they name, the classic
//! `azurerm_firewall_*_rule_collection` resources the firewall's rule collections, and a load
//! balancer's parts (`azurerm_lb_rule`, …, see [`super::load_balancer`]) its lists;
//! `azurerm_subnet_nat_gateway_association` the subnet's `natGateway`, and
//! `azurerm_nat_gateway_public_ip_association` and `..._public_ip_prefix_association` the NAT
//! gateway's `publicIpAddresses` and `publicIpPrefixes`.
//!
//! An association whose two ends cannot both be followed is skipped with a warning and a
//! caveat: the NSG it would attach filters traffic the scenario then does not see.

use super::attrs::list;
use super::azurerm::{
    ASG, FIREWALL, LB_NAT_RULE, LB_POOL, NAT_GATEWAY, NIC, NSG, PIP, PUBLIC_IP_PREFIX, ROUTE_TABLE, SUBNET,
};
use super::config::Seg;
use super::{Fold, Located, Reader, Res};
use crate::import::json::Node;
use crate::import::resource::Kind;
use crate::import::summary::{SkipReason, relevance};

/// What an association sets on the resource it is folded into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FoldKind {
    /// The NSG of a subnet or NIC.
    Nsg,
    /// The route table of a subnet.
    RouteTable,
    /// An ASG of a NIC's IP configurations (all of them, or the one named).
    Asg(Option<String>),
    /// A rule collection of a classic firewall, under this Azure property
    /// (`networkRuleCollections`).
    Collection(&'static str),
    /// A part of a load balancer, under this Azure property (`loadBalancingRules`).
    LbPart(&'static str),
    /// A backend address of the load balancer's pool of this name.
    LbAddress(String),
    /// A NIC's IP configuration (this name) in a load balancer's pool or inbound NAT rule,
    /// under this Azure property of the configuration (`loadBalancerBackendAddressPools`).
    LbLink(String, &'static str),
    /// The NAT gateway of a subnet.
    NatGateway,
    /// A public IP of a NAT gateway.
    NatPublicIp,
    /// A public IP prefix of a NAT gateway.
    NatPrefix,
}

/// An association type: the attribute naming what it associates (and that resource's Azure
/// type), and the attribute naming what it attaches (and its Azure type).
struct Association {
    terraform: &'static str,
    target: &'static str,
    target_kind: &'static str,
    value: &'static str,
    value_kind: &'static str,
    what: FoldKind,
}

const ASSOCIATIONS: &[Association] = &[
    Association {
        terraform: "azurerm_subnet_network_security_group_association",
        target: "subnet_id",
        target_kind: SUBNET,
        value: "network_security_group_id",
        value_kind: NSG,
        what: FoldKind::Nsg,
    },
    Association {
        terraform: "azurerm_subnet_route_table_association",
        target: "subnet_id",
        target_kind: SUBNET,
        value: "route_table_id",
        value_kind: ROUTE_TABLE,
        what: FoldKind::RouteTable,
    },
    Association {
        terraform: "azurerm_network_interface_security_group_association",
        target: "network_interface_id",
        target_kind: NIC,
        value: "network_security_group_id",
        value_kind: NSG,
        what: FoldKind::Nsg,
    },
    Association {
        terraform: "azurerm_network_interface_application_security_group_association",
        target: "network_interface_id",
        target_kind: NIC,
        value: "application_security_group_id",
        value_kind: ASG,
        what: FoldKind::Asg(None),
    },
    Association {
        terraform: "azurerm_network_interface_backend_address_pool_association",
        target: "network_interface_id",
        target_kind: NIC,
        value: "backend_address_pool_id",
        value_kind: LB_POOL,
        what: FoldKind::LbLink(String::new(), "loadBalancerBackendAddressPools"),
    },
    Association {
        terraform: "azurerm_network_interface_nat_rule_association",
        target: "network_interface_id",
        target_kind: NIC,
        value: "nat_rule_id",
        value_kind: LB_NAT_RULE,
        what: FoldKind::LbLink(String::new(), "loadBalancerInboundNatRules"),
    },
    Association {
        terraform: "azurerm_subnet_nat_gateway_association",
        target: "subnet_id",
        target_kind: SUBNET,
        value: "nat_gateway_id",
        value_kind: NAT_GATEWAY,
        what: FoldKind::NatGateway,
    },
    Association {
        terraform: "azurerm_nat_gateway_public_ip_association",
        target: "nat_gateway_id",
        target_kind: NAT_GATEWAY,
        value: "public_ip_address_id",
        value_kind: PIP,
        what: FoldKind::NatPublicIp,
    },
    Association {
        terraform: "azurerm_nat_gateway_public_ip_prefix_association",
        target: "nat_gateway_id",
        target_kind: NAT_GATEWAY,
        value: "public_ip_prefix_id",
        value_kind: PUBLIC_IP_PREFIX,
        what: FoldKind::NatPrefix,
    },
];

/// The classic firewall rule collection types, with the Azure property each fills.
pub const COLLECTIONS: &[(&str, &str)] = &[
    ("azurerm_firewall_network_rule_collection", "networkRuleCollections"),
    ("azurerm_firewall_application_rule_collection", "applicationRuleCollections"),
    ("azurerm_firewall_nat_rule_collection", "natRuleCollections"),
];

/// Whether Terraform type `kind` is folded into another resource.
pub fn is_association(kind: &str) -> bool {
    ASSOCIATIONS.iter().any(|a| a.terraform == kind)
        || COLLECTIONS.iter().any(|(t, _)| *t == kind)
        || super::load_balancer::is_part(kind)
}

impl<'a> Reader<'a, '_> {
    /// Folds association instance `i` into the resource it associates, or skips it saying why.
    pub(super) fn fold(&mut self, i: usize) -> Res<()> {
        let kind = self.instances[i].kind.clone();
        if let Some((_, property)) = COLLECTIONS.iter().find(|(t, _)| *t == kind) {
            return self.fold_collection(i, property);
        }
        if super::load_balancer::is_part(&kind) {
            return self.fold_lb_part(i);
        }
        let Some(spec) = ASSOCIATIONS.iter().find(|a| a.terraform == kind) else { return Ok(()) };
        let Some(a) = self.attrs(i) else { return Ok(()) };
        if Kind::of(spec.value_kind).is_none() {
            let reason = SkipReason::NotModelled(relevance(spec.value_kind));
            let message =
                format!("resource type '{kind}' ({} association) is not imported: {reason}", spec.value_kind);
            self.skip(i, reason, message);
            return Ok(());
        }
        let target = self.locate(i, &a, spec.target, &[Seg::Attr(spec.target)], &[spec.target_kind])?;
        let key = match target {
            Located::Instance(j, inline) => (j, inline),
            Located::Literal(id, _) => {
                let why = format!("'{}' is {id}, which is not in the input", spec.target);
                self.unfollowed(i, "association", why);
                return Ok(());
            }
            Located::Unresolved(why) => {
                self.unfollowed(i, "association", why);
                return Ok(());
            }
            Located::Absent => {
                return Err(self.diag.invalid(
                    &a.src.member(a.node, spec.target),
                    "",
                    format!("{kind} needs {}", spec.target),
                ));
            }
        };
        let value = match self.reference(i, &a, spec.value, &[Seg::Attr(spec.value)], &[spec.value_kind])? {
            Ok(node) => node,
            Err(Some(why)) => {
                self.unfollowed(i, "association", why);
                return Ok(());
            }
            Err(None) => {
                return Err(self.diag.invalid(
                    &a.src.member(a.node, spec.value),
                    "",
                    format!("{kind} needs {}", spec.value),
                ));
            }
        };
        let what = match &spec.what {
            FoldKind::Asg(_) => FoldKind::Asg(a.text("ip_configuration_name", self.diag)?.map(|(s, _, _)| s)),
            FoldKind::LbLink(_, property) => match a.text("ip_configuration_name", self.diag)? {
                Some((config, _, _)) => FoldKind::LbLink(config, property),
                None if a.is_unknown("ip_configuration_name") => {
                    let why = "'ip_configuration_name' is only known after the apply".to_string();
                    self.unfollowed(i, "association", why);
                    return Ok(());
                }
                None => {
                    return Err(self.diag.invalid(
                        &a.src.member(a.node, "ip_configuration_name"),
                        "",
                        format!("{kind} needs ip_configuration_name"),
                    ));
                }
            },
            other => other.clone(),
        };
        self.push_fold(i, key, what, value);
        Ok(())
    }

    /// Folds a classic rule collection (`azure_firewall_name`) into its firewall.
    fn fold_collection(&mut self, i: usize, property: &'static str) -> Res<()> {
        let Some(a) = self.attrs(i) else { return Ok(()) };
        if Kind::of(FIREWALL).is_none() {
            let reason = SkipReason::NotModelled(relevance(FIREWALL));
            let message = format!(
                "resource type '{}' (a rule collection of {FIREWALL}) is not imported: {reason}",
                self.instances[i].kind
            );
            self.skip(i, reason, message);
            return Ok(());
        }
        let firewall = a.text("azure_firewall_name", self.diag)?.map(|(s, _, _)| s).unwrap_or_default();
        let found = (0..self.instances.len()).find(|&j| {
            self.instances[j].kind == "azurerm_firewall"
                && self
                    .identities
                    .get(j)
                    .and_then(Option::as_ref)
                    .is_some_and(|x| x.names[0].eq_ignore_ascii_case(&firewall))
        });
        let Some(j) = found else {
            let why = format!("firewall '{firewall}' is not in the input");
            self.unfollowed(i, "rule collection", why);
            return Ok(());
        };
        let collection = self.classic_collection(&a, property)?;
        self.push_fold(i, (j, None), FoldKind::Collection(property), collection);
        Ok(())
    }

    pub(super) fn push_fold(&mut self, i: usize, key: (usize, Option<String>), what: FoldKind, node: Node) {
        let inst = &self.instances[i];
        let fold = Fold {
            what,
            node,
            kind: inst.kind.clone(),
            address: inst.address.clone(),
            src: inst.src.clone(),
        };
        self.folds.entry(key).or_default().push(fold);
    }

    /// The value of the one association of kind `what` folded into `key` (a second one of the
    /// same resource is reported and left out: Azure keeps one).
    pub(super) fn folded(&mut self, key: &(usize, Option<String>), what: FoldKind) -> Option<Node> {
        let found: Vec<(Node, String, crate::import::source::Src)> = self
            .folds
            .get(key)
            .into_iter()
            .flatten()
            .filter(|f| f.what == what)
            .map(|f| (f.node.clone(), f.address.clone(), f.src.clone()))
            .collect();
        let (first, first_address, _) = found.first()?.clone();
        for (_, address, src) in &found[1..] {
            let message = format!(
                "{address} associates {} a second time ({first_address} did first); Azure keeps one, so this one is left out",
                self.instances[key.0].address
            );
            self.diag.warn(src, message);
        }
        Some(first)
    }

    /// Every value of kind `what` folded into `key`, in order (a NAT gateway's public IPs).
    pub(super) fn folded_all(&self, key: &(usize, Option<String>), what: &FoldKind) -> Vec<Node> {
        self.folds
            .get(key)
            .into_iter()
            .flatten()
            .filter(|f| &f.what == what)
            .map(|f| f.node.clone())
            .collect()
    }

    /// The ASG references folded into a NIC for its IP configuration `config`.
    pub(super) fn folded_asgs(&self, nic: usize, config: &str) -> Vec<Node> {
        self.folds
            .get(&(nic, None))
            .into_iter()
            .flatten()
            .filter_map(|f| match &f.what {
                FoldKind::Asg(None) => Some(f.node.clone()),
                FoldKind::Asg(Some(name)) if name.eq_ignore_ascii_case(config) => Some(f.node.clone()),
                _ => None,
            })
            .collect()
    }

    /// The classic rule collections of kind `property` folded into firewall `j`.
    pub(super) fn folded_collections(&self, j: usize, property: &str) -> Option<Node> {
        let nodes: Vec<Node> = self
            .folds
            .get(&(j, None))
            .into_iter()
            .flatten()
            .filter(|f| matches!(&f.what, FoldKind::Collection(p) if *p == property))
            .map(|f| f.node.clone())
            .collect();
        let at = nodes.first()?.position;
        Some(list(at, nodes))
    }
}
