//! Load balancers: `azurerm_lb` (its SKU and inline `frontend_ip_configuration` blocks) with
//! its parts folded in, in Azure's shape, so that the one inventory reads a Terraform load
//! balancer as it reads a template's.
//!
//! Terraform writes a load balancer's parts as resources of their own (`azurerm_lb_backend_
//! address_pool`, `azurerm_lb_probe`, `azurerm_lb_rule`, `azurerm_lb_nat_rule`,
//! `azurerm_lb_nat_pool`, `azurerm_lb_outbound_rule`, each naming its `loadbalancer_id`, and
//! `azurerm_lb_backend_address_pool_address` naming a pool); Azure stores them as lists of the
//! `Microsoft.Network/loadBalancers` resource, which is what the inventory reads. Each part is
//! folded into its load balancer and counted in the summary under its own type with the load
//! balancer's outcome. A rule names its frontend by name and its pools and probe by id, as
//! Azure does; the ids are the ones the reader builds for the parts (their `loadbalancer_id`'s
//! name and their own), so a part whose id only the apply knows is still found. The NICs in a
//! pool or an inbound NAT rule are written on the NIC's IP configuration
//! (`azurerm_network_interface_backend_address_pool_association`,
//! `azurerm_network_interface_nat_rule_association`, folded by [`super::fold`]), as Azure's
//! `loadBalancerBackendAddressPools`.
//!
//! What nsgsim does not model is the inventory's and the builder's to say, as for a template:
//! a Gateway SKU, the Global tier. Outbound rules (`azurerm_lb_outbound_rule`) are folded like
//! the other parts, into Azure's `outboundRules`, and modelled as the ARM import models them. A part or a frontend whose reference cannot be followed is left out with a warning and
//! a caveat naming its Terraform address; a rule naming a frontend the load balancer does not
//! have is an error at the name, as Azure refuses it.

use std::collections::BTreeMap;

use super::attrs::{Attrs, Blocks, list, object, reference, text};
use super::azurerm::{LB, LB_NAT_RULE, LB_POOL, LB_PROBE, PIP, SUBNET, VNET};
use super::config::Seg;
use super::fold::FoldKind;
use super::network::Members;
use super::{Fold, Located, Reader, Res};
use crate::import::json::Node;
use crate::import::json_position::Position;
use crate::import::resource::Skipped;
use crate::import::summary::SkipReason;
use crate::scenario::schema::CaveatKindSpec;

/// The Azure property of a pool that lists its members by address.
const ADDRESSES: &str = "loadBalancerBackendAddresses";

/// The Terraform types of a load balancer's parts: the Azure property of the load balancer
/// each joins, and what it is called in messages.
const PARTS: &[(&str, &str, &str)] = &[
    ("azurerm_lb_backend_address_pool", "backendAddressPools", "backend address pool"),
    ("azurerm_lb_probe", "probes", "probe"),
    ("azurerm_lb_rule", "loadBalancingRules", "load-balancing rule"),
    ("azurerm_lb_nat_rule", "inboundNatRules", "inbound NAT rule"),
    ("azurerm_lb_nat_pool", "inboundNatPools", "inbound NAT pool"),
    ("azurerm_lb_outbound_rule", "outboundRules", "outbound rule"),
    ("azurerm_lb_backend_address_pool_address", ADDRESSES, "backend address"),
];

/// The load balancer's lists in the order Azure writes them.
const LISTS: &[&str] = &[
    "backendAddressPools",
    "loadBalancingRules",
    "probes",
    "inboundNatRules",
    "inboundNatPools",
    "outboundRules",
];

/// Whether Terraform type `kind` is a part of a load balancer, folded into it.
pub fn is_part(kind: &str) -> bool {
    PARTS.iter().any(|(t, _, _)| *t == kind)
}

/// The Azure property and the noun of part type `kind`.
fn part(kind: &str) -> Option<(&'static str, &'static str)> {
    PARTS.iter().find(|(t, _, _)| *t == kind).map(|(_, p, noun)| (*p, *noun))
}

/// Terraform's attribute names (azurerm 3.x, then 4.x) for Azure's flags of the parts.
const FLAGS: &[(&str, &str)] = &[
    ("enable_floating_ip", "enableFloatingIP"),
    ("floating_ip_enabled", "enableFloatingIP"),
    ("disable_outbound_snat", "disableOutboundSnat"),
    ("enable_tcp_reset", "enableTcpReset"),
    ("tcp_reset_enabled", "enableTcpReset"),
];

/// Computed attributes of the parts, and ones that say nothing about which traffic passes.
const PART_HARMLESS: &[&str] = &[
    "loadbalancer_id",
    "frontend_ip_configuration_id",
    "backend_ip_configuration_id",
    "backend_ip_configurations",
    "inbound_nat_rules",
    "load_balancing_rules",
    "load_balancer_rules",
    "outbound_rules",
    "outbound_rule",
    "synchronous_mode",
    "virtual_network_id",
    "idle_timeout_in_minutes",
    "load_distribution",
    "interval_in_seconds",
    "number_of_probes",
    "probe_threshold",
    "request_path",
    "enable_tcp_reset",
    "tcp_reset_enabled",
    "inbound_nat_rule_port_mapping",
];

impl<'a> Reader<'a, '_> {
    /// An `azurerm_lb`: its SKU, its frontends, and the parts folded into it.
    pub(super) fn load_balancer(&mut self, i: usize) -> Res<Option<Members>> {
        let a = self.values(i)?;
        let Some(blocks) = self.frontend_blocks(i, &a, "load balancer")? else { return Ok(None) };
        let mut frontends = Vec::new();
        for (k, b) in blocks.iter().enumerate() {
            if let Some(frontend) = self.lb_frontend_block(i, b, k)? {
                frontends.push(frontend);
            }
        }
        let at = a.value("frontend_ip_configuration").map_or(a.position(), |(n, _)| n.position);
        let mut props = vec![("frontendIPConfigurations", list(at, frontends))];
        props.extend(self.lb_parts(i));
        let mut members = vec![("properties", object(a.position(), props))];
        if let Some(sku) = a.sku() {
            members.push(("sku", sku));
        }
        let kind = self.instances[i].kind.clone();
        let read = ["frontend_ip_configuration", "sku", "sku_tier"];
        self.note_unread(&kind, &a, &read, &["private_ip_address", "private_ip_addresses"]);
        Ok(Some(members))
    }

    /// One `frontend_ip_configuration` block (the `k`th) of load balancer `i`; `None` when its
    /// public IP or subnet cannot be followed (a warning and a caveat: the frontend and its rules
    /// are left out).
    fn lb_frontend_block(&mut self, i: usize, b: &Attrs<'_>, k: usize) -> Res<Option<Node>> {
        let block = [Seg::Attr("frontend_ip_configuration"), Seg::Index(k)];
        let Some((name, name_node, _)) = b.text("name", self.diag)? else {
            return Err(self.diag.invalid(&b.src, "", "a frontend_ip_configuration block needs a name"));
        };
        let mut fp = Vec::new();
        for (field, azure, kind) in
            [("public_ip_address_id", "publicIPAddress", PIP), ("subnet_id", "subnet", SUBNET)]
        {
            let mut path = block.to_vec();
            path.push(Seg::Attr(field));
            // Both are optional and computed: unknown in a plan even when the configuration
            // does not write them.
            if !self.is_written(i, b, field, &path) {
                continue;
            }
            match self.reference(i, b, field, &path, &[kind])? {
                Ok(node) => fp.push((azure, node)),
                Err(None) => {}
                Err(Some(why)) => {
                    let address = self.instances[i].address.clone();
                    let message = format!(
                        "{address}: frontend '{name}': {why}; the frontend is not imported, nor the load-balancing and inbound NAT rules that use it"
                    );
                    let src = b.src.member(b.node, field);
                    self.diag.warn(&src, message.clone());
                    self.caveat(CaveatKindSpec::UnresolvedReference, &address, &src, message);
                    return Ok(None);
                }
            }
        }
        for (field, azure) in [
            ("private_ip_address", "privateIPAddress"),
            ("private_ip_address_allocation", "privateIPAllocationMethod"),
            ("private_ip_address_version", "privateIPAddressVersion"),
        ] {
            if let Some((n, _)) = b.value(field) {
                fp.push((azure, n.clone()));
            }
        }
        // A chained Gateway load balancer and a public IP prefix are passed on for the inventory
        // to report; when only the apply knows the id, that it is written is enough.
        for (field, azure) in [
            ("gateway_load_balancer_frontend_ip_configuration_id", "gatewayLoadBalancer"),
            ("public_ip_prefix_id", "publicIPPrefix"),
        ] {
            let mut path = block.to_vec();
            path.push(Seg::Attr(field));
            if let Some((id, n, _)) = b.text(field, self.diag)? {
                fp.push((azure, reference(n.position, &id)));
            } else if self.is_written(i, b, field, &path) {
                fp.push((azure, reference(b.position(), &format!("{field} (known after apply)"))));
            }
        }
        let read = [
            "name",
            "public_ip_address_id",
            "subnet_id",
            "private_ip_address",
            "private_ip_address_allocation",
            "private_ip_address_version",
            "gateway_load_balancer_frontend_ip_configuration_id",
            "public_ip_prefix_id",
        ];
        let harmless = ["zones", "inbound_nat_rules", "load_balancer_rules", "outbound_rules"];
        self.note_unread("azurerm_lb.frontend_ip_configuration", b, &read, &harmless);
        Ok(Some(object(
            b.position(),
            [("name", text(name_node.position, &name)), ("properties", object(b.position(), fp))],
        )))
    }

    /// The lists of the parts folded into load balancer `i`, pools with the addresses folded
    /// into them.
    fn lb_parts(&mut self, i: usize) -> Vec<(&'static str, Node)> {
        let folds: Vec<Fold> = self.folds.get(&(i, None)).cloned().unwrap_or_default();
        let mut lists: BTreeMap<&'static str, Vec<Node>> = BTreeMap::new();
        let mut addresses: Vec<(String, Fold)> = Vec::new();
        for f in folds {
            match f.what.clone() {
                FoldKind::LbPart(property) => lists.entry(property).or_default().push(f.node),
                FoldKind::LbAddress(pool) => addresses.push((pool, f)),
                _ => {}
            }
        }
        if let Some(pools) = lists.get_mut("backendAddressPools") {
            for pool in pools.iter_mut() {
                let name = pool.get("name").and_then(Node::as_str).unwrap_or_default().to_string();
                let mine: Vec<Node> = addresses
                    .iter()
                    .filter(|(p, _)| p.eq_ignore_ascii_case(&name))
                    .map(|(_, f)| f.node.clone())
                    .collect();
                if mine.is_empty() {
                    continue;
                }
                let at = pool.position;
                let props = object(at, [(ADDRESSES, list(at, mine))]);
                *pool = object(at, [("name", text(at, &name)), ("properties", props)]);
            }
        }
        let inst = &self.instances[i];
        let at =
            inst.values.map_or(inst.src.position.unwrap_or(Position { line: 1, column: 1 }), |v| v.position);
        LISTS.iter().filter_map(|p| lists.remove(p).map(|nodes| (*p, list(at, nodes)))).collect()
    }

    /// Folds a load balancer part (instance `i`) into its load balancer, in Azure's shape, or
    /// skips it saying why.
    pub(super) fn fold_lb_part(&mut self, i: usize) -> Res<()> {
        let kind = self.instances[i].kind.clone();
        let Some((property, noun)) = part(&kind) else { return Ok(()) };
        let Some(a) = self.attrs(i) else { return Ok(()) };
        if property == ADDRESSES {
            return self.fold_lb_address(i, &a);
        }
        let Some(lb) = self.lb_of(i, &a, noun)? else { return Ok(()) };
        let name = self
            .identities
            .get(i)
            .and_then(Option::as_ref)
            .and_then(|x| x.names.last().cloned())
            .unwrap_or_else(|| self.instances[i].name.clone());
        let at = a.position();
        let mut p: Vec<(&'static str, Node)> = Vec::new();
        let mut read: Vec<&str> = vec!["name"];
        match kind.as_str() {
            "azurerm_lb_backend_address_pool" => {}
            "azurerm_lb_probe" => {
                copy_values(&a, &mut p, &mut read, &[("protocol", "protocol"), ("port", "port")]);
                copy_values(
                    &a,
                    &mut p,
                    &mut read,
                    &[
                        ("request_path", "requestPath"),
                        ("interval_in_seconds", "intervalInSeconds"),
                        ("number_of_probes", "numberOfProbes"),
                        ("probe_threshold", "probeThreshold"),
                    ],
                );
            }
            "azurerm_lb_outbound_rule" => {
                let Some(frontends) = self.lb_outbound_frontends(i, &a, lb)? else { return Ok(()) };
                p.push(("frontendIPConfigurations", frontends));
                read.push("frontend_ip_configuration");
                self.lb_pool_reference(i, &a, &mut p, &mut read)?;
                let fields = [
                    ("protocol", "protocol"),
                    ("allocated_outbound_ports", "allocatedOutboundPorts"),
                    ("idle_timeout_in_minutes", "idleTimeoutInMinutes"),
                ];
                copy_values(&a, &mut p, &mut read, &fields);
            }
            _ => {
                // A load-balancing rule, an inbound NAT rule or an inbound NAT pool.
                let Some(frontend) = self.lb_frontend_reference(i, &a, lb, noun)? else { return Ok(()) };
                p.push(("frontendIPConfiguration", frontend));
                read.push("frontend_ip_configuration_name");
                let fields = [
                    ("protocol", "protocol"),
                    ("frontend_port", "frontendPort"),
                    ("frontend_port_start", "frontendPortRangeStart"),
                    ("frontend_port_end", "frontendPortRangeEnd"),
                    ("backend_port", "backendPort"),
                    ("idle_timeout_in_minutes", "idleTimeoutInMinutes"),
                    ("load_distribution", "loadDistribution"),
                ];
                copy_values(&a, &mut p, &mut read, &fields);
                if kind == "azurerm_lb_rule" {
                    self.lb_rule_pools(i, &a, &mut p, &mut read)?;
                    read.push("probe_id");
                    if let Some(probe) = self.optional_reference(i, &a, "probe_id", LB_PROBE)? {
                        p.push(("probe", probe));
                    }
                } else if kind == "azurerm_lb_nat_rule" {
                    self.lb_pool_reference(i, &a, &mut p, &mut read)?;
                }
            }
        }
        for &(terraform, azure) in FLAGS {
            if let Some(n) = a.node.get(terraform).filter(|n| n.as_bool().is_some()) {
                p.push((azure, n.clone()));
                read.push(terraform);
            }
        }
        self.note_unread(&kind, &a, &read, PART_HARMLESS);
        let name_at = a.value("name").map_or(at, |(n, _)| n.position);
        let node = object(at, [("name", text(name_at, &name)), ("properties", object(at, p))]);
        self.push_fold(i, (lb, None), FoldKind::LbPart(property), node);
        Ok(())
    }

    /// The load balancer (an instance) part `i` names by `loadbalancer_id`; `None` when it
    /// cannot be followed (the part is skipped, with a warning and a caveat).
    fn lb_of(&mut self, i: usize, a: &Attrs<'_>, noun: &str) -> Res<Option<usize>> {
        let field = "loadbalancer_id";
        match self.locate(i, a, field, &[Seg::Attr(field)], &[LB])? {
            Located::Instance(j, _) => Ok(Some(j)),
            Located::Literal(id, _) => {
                self.unfollowed(i, noun, format!("'{field}' is {id}, which is not in the input"));
                Ok(None)
            }
            Located::Unresolved(why) => {
                self.unfollowed(i, noun, why);
                Ok(None)
            }
            Located::Absent => Err(self.diag.invalid(
                &a.src.member(a.node, field),
                "",
                format!("{} needs {field}", self.instances[i].kind),
            )),
        }
    }

    /// The names of load balancer `lb`'s frontends, when its values say them.
    fn lb_frontend_names(&self, lb: usize) -> Option<Vec<String>> {
        let a = self.attrs(lb)?;
        let Ok(Blocks::Known(blocks)) = a.blocks("frontend_ip_configuration", self.diag) else { return None };
        Some(
            blocks
                .iter()
                .filter_map(|b| b.text("name", self.diag).ok().flatten().map(|(s, _, _)| s))
                .collect(),
        )
    }

    /// The reference `{"id": …}` to the frontend of load balancer `lb` that `a`'s
    /// `frontend_ip_configuration_name` names; `None` when only the apply knows the name (the
    /// part is skipped).
    ///
    /// # Errors
    /// No name, or a name the load balancer has no frontend of.
    fn lb_frontend_reference(&mut self, i: usize, a: &Attrs<'_>, lb: usize, noun: &str) -> Res<Option<Node>> {
        let field = "frontend_ip_configuration_name";
        let Some((name, node, at)) = a.text(field, self.diag)? else {
            if a.is_unknown(field) {
                self.unfollowed(i, noun, format!("'{field}' is only known after the apply"));
                return Ok(None);
            }
            let kind = &self.instances[i].kind;
            return Err(self.diag.invalid(&a.src.member(a.node, field), "", format!("{kind} needs {field}")));
        };
        self.check_frontend(lb, &name, &at)?;
        Ok(Some(self.frontend_id(lb, &name, node.position)))
    }

    /// Fails when load balancer `lb` has no frontend called `name` (Azure refuses the part).
    fn check_frontend(&self, lb: usize, name: &str, at: &crate::import::source::Src) -> Res<()> {
        let Some(names) = self.lb_frontend_names(lb) else { return Ok(()) };
        if names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            return Ok(());
        }
        let valid =
            if names.is_empty() { "it has none".to_string() } else { format!("valid: {}", names.join(", ")) };
        Err(self.diag.invalid(
            at,
            name,
            format!(
                "{} has no frontend_ip_configuration named '{name}' ({valid})",
                self.instances[lb].address
            ),
        ))
    }

    /// The reference to frontend `name` of load balancer `lb`.
    fn frontend_id(&self, lb: usize, name: &str, at: Position) -> Node {
        let lb_id = self.identities.get(lb).and_then(Option::as_ref).map_or("", |x| x.id.as_str());
        reference(at, &format!("{lb_id}/frontendIPConfigurations/{name}"))
    }

    /// The `frontend_ip_configuration` blocks of a load balancer or an outbound rule (`what`);
    /// `None`, with a warning and a caveat, when only the apply knows them.
    fn frontend_blocks<'b>(&mut self, i: usize, a: &Attrs<'b>, what: &str) -> Res<Option<Vec<Attrs<'b>>>> {
        match a.blocks("frontend_ip_configuration", self.diag)? {
            Blocks::Known(blocks) => Ok(Some(blocks)),
            Blocks::Unknown => {
                let why = "its frontend_ip_configuration is only known after the apply".to_string();
                self.unfollowed(i, what, why);
                Ok(None)
            }
        }
    }

    /// An outbound rule's frontends (its `frontend_ip_configuration` blocks name them); `None`
    /// when only the apply knows them (the rule is skipped).
    fn lb_outbound_frontends(&mut self, i: usize, a: &Attrs<'_>, lb: usize) -> Res<Option<Node>> {
        let Some(blocks) = self.frontend_blocks(i, a, "outbound rule")? else { return Ok(None) };
        let mut refs = Vec::new();
        for b in &blocks {
            let Some((name, node, at)) = b.text("name", self.diag)? else {
                return Err(self.diag.invalid(&b.src, "", "a frontend_ip_configuration block needs a name"));
            };
            self.check_frontend(lb, &name, &at)?;
            refs.push(self.frontend_id(lb, &name, node.position));
        }
        Ok(Some(list(a.position(), refs)))
    }

    /// A NAT rule's or outbound rule's `backend_address_pool_id`, as `backendAddressPool`.
    fn lb_pool_reference(
        &mut self,
        i: usize,
        a: &Attrs<'_>,
        p: &mut Vec<(&'static str, Node)>,
        read: &mut Vec<&'static str>,
    ) -> Res<()> {
        read.push("backend_address_pool_id");
        if let Some(pool) = self.optional_reference(i, a, "backend_address_pool_id", LB_POOL)? {
            p.push(("backendAddressPool", pool));
        }
        Ok(())
    }

    /// A load-balancing rule's pools: `backend_address_pool_ids` (azurerm 3.x and later) or
    /// `backend_address_pool_id` (2.x), as `backendAddressPools`.
    fn lb_rule_pools(
        &mut self,
        i: usize,
        a: &Attrs<'_>,
        p: &mut Vec<(&'static str, Node)>,
        read: &mut Vec<&'static str>,
    ) -> Res<()> {
        let field = "backend_address_pool_ids";
        let path = [Seg::Attr(field)];
        let mut pools = Vec::new();
        if self.is_written(i, a, field, &path) {
            let (nodes, missing) = self.references(i, a, field, &path, &[LB_POOL])?;
            self.not_followed(i, a, field, &missing, "left out, so the rule does not forward to that pool");
            pools = nodes;
        }
        if let Some(pool) = self.optional_reference(i, a, "backend_address_pool_id", LB_POOL)? {
            pools.insert(0, pool);
        }
        read.extend([field, "backend_address_pool_id"]);
        if !pools.is_empty() {
            let at = a.value(field).map_or(a.position(), |(n, _)| n.position);
            p.push(("backendAddressPools", list(at, pools)));
        }
        Ok(())
    }

    /// Folds an `azurerm_lb_backend_address_pool_address` into the load balancer of the pool it
    /// names, as a member of that pool by address.
    fn fold_lb_address(&mut self, i: usize, a: &Attrs<'_>) -> Res<()> {
        let noun = "backend address";
        let field = "backend_address_pool_id";
        let pool = match self.locate(i, a, field, &[Seg::Attr(field)], &[LB_POOL])? {
            Located::Instance(j, _) => j,
            Located::Literal(id, _) => {
                self.unfollowed(i, noun, format!("'{field}' is {id}, which is not in the input"));
                return Ok(());
            }
            Located::Unresolved(why) => {
                self.unfollowed(i, noun, why);
                return Ok(());
            }
            Located::Absent => {
                let kind = &self.instances[i].kind;
                let at = a.src.member(a.node, field);
                return Err(self.diag.invalid(&at, "", format!("{kind} needs {field}")));
            }
        };
        let Some(pool_attrs) = self.attrs(pool) else { return Ok(()) };
        let lb_path = [Seg::Attr("loadbalancer_id")];
        let Located::Instance(lb, _) = self.locate(pool, &pool_attrs, "loadbalancer_id", &lb_path, &[LB])?
        else {
            let why = format!("the load balancer of {} cannot be followed", self.instances[pool].address);
            self.unfollowed(i, noun, why);
            return Ok(());
        };
        let pool_name = self
            .identities
            .get(pool)
            .and_then(Option::as_ref)
            .and_then(|x| x.names.last().cloned())
            .unwrap_or_default();
        let at = a.position();
        let mut p = Vec::new();
        let mut read = vec!["name", field, "ip_address", "virtual_network_id"];
        match a.text("ip_address", self.diag)? {
            Some((_, n, _)) => p.push(("ipAddress", n.clone())),
            None if a.is_unknown("ip_address") => {
                self.unfollowed(i, noun, "'ip_address' is only known after the apply".into());
                return Ok(());
            }
            None => {}
        }
        if let Some(vnet) = self.optional_reference(i, a, "virtual_network_id", VNET)? {
            p.push(("virtualNetwork", vnet));
        }
        // A cross-region load balancer's member is a regional load balancer's frontend.
        let regional = "backend_address_ip_configuration_id";
        read.push(regional);
        if let Some((id, n, _)) = a.text(regional, self.diag)? {
            p.push(("loadBalancerFrontendIPConfiguration", reference(n.position, &id)));
        }
        let kind = self.instances[i].kind.clone();
        self.note_unread(&kind, a, &read, PART_HARMLESS);
        let name =
            a.text("name", self.diag)?.map(|(s, _, _)| s).unwrap_or_else(|| self.instances[i].name.clone());
        let node = object(at, [("name", text(at, &name)), ("properties", object(at, p))]);
        self.push_fold(i, (lb, None), FoldKind::LbAddress(pool_name), node);
        Ok(())
    }

    /// Whether attribute `name` of `a` (at `path` in instance `i`'s block) is set: a value, or
    /// one only the apply knows that the configuration writes (a computed attribute the
    /// configuration leaves out is unknown too, and says nothing).
    pub(super) fn is_written(&self, i: usize, a: &Attrs<'_>, name: &str, path: &[Seg<'_>]) -> bool {
        a.value(name).is_some()
            || (a.has_unknown(name) && self.config.expression(&self.instances[i], path).is_some())
    }

    /// The reference an optional, computed attribute `name` of a part makes (`probe_id`): `None`
    /// when the part does not write it; followed when it can be, else a warning and a caveat.
    fn optional_reference(&mut self, i: usize, a: &Attrs<'_>, name: &str, kind: &str) -> Res<Option<Node>> {
        if !self.is_written(i, a, name, &[Seg::Attr(name)]) {
            return Ok(None);
        }
        self.own_reference(i, a, name, &[], kind)
    }

    /// The references to pools or inbound NAT rules (Azure property `property`) folded into
    /// NIC `nic` for its IP configuration `config`; an association whose pool, rule or load
    /// balancer is skipped is left out, with a warning and a caveat.
    pub(super) fn folded_lb_links(&mut self, nic: usize, config: &str, property: &str) -> Vec<Node> {
        let key = (nic, None);
        let mine = |f: &Fold| matches!(&f.what, FoldKind::LbLink(c, p) if c.eq_ignore_ascii_case(config) && *p == property);
        let folds: Vec<Fold> =
            self.folds.get(&key).into_iter().flatten().filter(|f| mine(f)).cloned().collect();
        let mut out = Vec::new();
        for f in folds {
            let id = f.node.get("id").and_then(Node::as_str).unwrap_or_default();
            match self.lb_link_lost(id) {
                None => out.push(f.node),
                Some(why) => self.drop_link(nic, &f, &why),
            }
        }
        out
    }

    /// Why a NIC's link to the pool or NAT rule `id` cannot be kept: the part, or its load
    /// balancer, is skipped. `None` when it can (a part not in the plan is the builder's to
    /// report).
    fn lb_link_lost(&self, id: &str) -> Option<String> {
        let (part, _) = self.by_id(id)?;
        if self.dropped.contains(&part) {
            return Some(format!(
                "it names {}, which is skipped (see its warning)",
                self.instances[part].address
            ));
        }
        let lb_name = self.identities.get(part).and_then(Option::as_ref)?.names.first()?.clone();
        let lb = (0..self.instances.len()).find(|&j| {
            !self.instances[j].data
                && self.identities.get(j).and_then(Option::as_ref).is_some_and(|x| {
                    x.kind == LB && x.names.first().is_some_and(|n| n.eq_ignore_ascii_case(&lb_name))
                })
        })?;
        self.dropped.contains(&lb).then(|| {
            format!("it names a part of {}, which is skipped (see its warning)", self.instances[lb].address)
        })
    }

    /// Leaves association `f` of NIC `nic` out: a warning, a caveat, and a skipped line in the
    /// summary.
    fn drop_link(&mut self, nic: usize, f: &Fold, why: &str) {
        let message = format!("{}: {why}; the association is left out", f.address);
        self.diag.warn(&f.src, message.clone());
        self.caveat(CaveatKindSpec::UnresolvedReference, &f.address, &f.src, message);
        self.out.skipped.push(Skipped {
            kind: f.kind.clone(),
            name: f.address.clone(),
            src: f.src.clone(),
            reason: SkipReason::NotImported,
        });
        if let Some(folds) = self.folds.get_mut(&(nic, None)) {
            folds.retain(|g| g.address != f.address);
        }
    }

    /// The load balancer associations of NIC `nic` whose `ip_configuration_name` names none of
    /// its IP configurations (`configs`): left out, each with a warning and a caveat.
    pub(super) fn unmatched_lb_links(&mut self, nic: usize, configs: &[String]) {
        let stray: Vec<Fold> = self
            .folds
            .get(&(nic, None))
            .into_iter()
            .flatten()
            .filter(|f| {
                matches!(&f.what, FoldKind::LbLink(c, _) if !configs.iter().any(|n| n.eq_ignore_ascii_case(c)))
            })
            .cloned()
            .collect();
        for f in stray {
            let FoldKind::LbLink(config, _) = &f.what else { continue };
            let why = format!(
                "{} has no ip_configuration named '{config}' (it has: {})",
                self.instances[nic].address,
                configs.join(", ")
            );
            self.drop_link(nic, &f, &why);
        }
    }
}

/// Copies the set values of `fields` (Terraform name, Azure name) of `a` into `p`, noting each
/// as read.
fn copy_values(
    a: &Attrs<'_>,
    p: &mut Vec<(&'static str, Node)>,
    read: &mut Vec<&'static str>,
    fields: &[(&'static str, &'static str)],
) {
    for &(terraform, azure) in fields {
        if let Some((n, _)) = a.value(terraform) {
            p.push((azure, n.clone()));
            read.push(terraform);
        }
    }
}

/// The Azure property of a NIC IP configuration's inline load balancer links, and azurerm
/// 1.x's attribute and Azure type for it.
pub const NIC_LINKS: &[(&str, &str, &str)] = &[
    ("loadBalancerBackendAddressPools", "load_balancer_backend_address_pools_ids", LB_POOL),
    ("loadBalancerInboundNatRules", "load_balancer_inbound_nat_rules_ids", LB_NAT_RULE),
];

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::import::json::parse;
    use crate::import::resource::Collected;
    use crate::import::source::Diagnostics;

    const RG: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network";

    /// A state (every id known) with a load balancer, its parts, a NIC and two associations,
    /// one naming an IP configuration the NIC does not have.
    fn state() -> String {
        let lb = format!("{RG}/loadBalancers/lb");
        let pool = format!("{lb}/backendAddressPools/pool");
        let nat = format!("{lb}/inboundNatRules/ssh");
        let nic = format!("{RG}/networkInterfaces/nic");
        let resources = [
            format!(
                r#"{{"address": "azurerm_lb.lb", "mode": "managed", "type": "azurerm_lb", "name": "lb", "values": {{"id": "{lb}", "name": "lb", "sku": "Standard", "sku_tier": "Regional", "frontend_ip_configuration": [{{"name": "fe", "public_ip_address_id": "{RG}/publicIPAddresses/pip", "subnet_id": "", "private_ip_address": ""}}]}}}}"#
            ),
            format!(
                r#"{{"address": "azurerm_lb_backend_address_pool.pool", "mode": "managed", "type": "azurerm_lb_backend_address_pool", "name": "pool", "values": {{"id": "{pool}", "name": "pool", "loadbalancer_id": "{lb}"}}}}"#
            ),
            format!(
                r#"{{"address": "azurerm_lb_rule.ha", "mode": "managed", "type": "azurerm_lb_rule", "name": "ha", "values": {{"name": "ha", "loadbalancer_id": "{lb}", "frontend_ip_configuration_name": "fe", "protocol": "All", "frontend_port": 0, "backend_port": 0, "backend_address_pool_ids": ["{pool}"], "enable_floating_ip": true, "disable_outbound_snat": true}}}}"#
            ),
            format!(
                r#"{{"address": "azurerm_lb_nat_rule.range", "mode": "managed", "type": "azurerm_lb_nat_rule", "name": "range", "values": {{"name": "range", "loadbalancer_id": "{lb}", "frontend_ip_configuration_name": "fe", "protocol": "Tcp", "frontend_port_start": 5000, "frontend_port_end": 5009, "backend_port": 22, "backend_address_pool_id": "{pool}"}}}}"#
            ),
            format!(
                r#"{{"address": "azurerm_lb_nat_rule.ssh", "mode": "managed", "type": "azurerm_lb_nat_rule", "name": "ssh", "values": {{"id": "{nat}", "name": "ssh", "loadbalancer_id": "{lb}", "frontend_ip_configuration_name": "fe", "protocol": "Tcp", "frontend_port": 50022, "backend_port": 22}}}}"#
            ),
            format!(
                r#"{{"address": "azurerm_lb_outbound_rule.out", "mode": "managed", "type": "azurerm_lb_outbound_rule", "name": "out", "values": {{"name": "out", "loadbalancer_id": "{lb}", "protocol": "All", "backend_address_pool_id": "{pool}", "frontend_ip_configuration": [{{"name": "fe"}}]}}}}"#
            ),
            format!(
                r#"{{"address": "azurerm_network_interface.nic", "mode": "managed", "type": "azurerm_network_interface", "name": "nic", "values": {{"id": "{nic}", "name": "nic", "ip_configuration": [{{"name": "primary", "subnet_id": "{RG}/virtualNetworks/v/subnets/s", "private_ip_address": "10.0.0.4"}}]}}}}"#
            ),
            format!(
                r#"{{"address": "azurerm_network_interface_nat_rule_association.ok", "mode": "managed", "type": "azurerm_network_interface_nat_rule_association", "name": "ok", "values": {{"network_interface_id": "{nic}", "ip_configuration_name": "primary", "nat_rule_id": "{nat}"}}}}"#
            ),
            format!(
                r#"{{"address": "azurerm_network_interface_backend_address_pool_association.stray", "mode": "managed", "type": "azurerm_network_interface_backend_address_pool_association", "name": "stray", "values": {{"network_interface_id": "{nic}", "ip_configuration_name": "other", "backend_address_pool_id": "{pool}"}}}}"#
            ),
        ];
        format!(
            r#"{{"format_version": "1.0", "values": {{"root_module": {{"resources": [{}]}}}}}}"#,
            resources.join(",")
        )
    }

    fn read(text: &str) -> (Collected, Vec<String>) {
        let root = parse(text.as_bytes()).expect("JSON");
        let mut diag = Diagnostics::default();
        let file = diag.add_file(Path::new("state.json"));
        let mut out = Collected::default();
        super::super::read(&root, file, &mut diag, &mut out).expect("read");
        (out, diag.into_warnings().iter().map(ToString::to_string).collect())
    }

    fn at<'n>(node: &'n Node, path: &[&str]) -> &'n Node {
        path.iter().fold(node, |n, step| match step.parse::<usize>() {
            Ok(i) => n.as_array().and_then(|a| a.get(i)).unwrap_or_else(|| panic!("no [{i}]")),
            Err(_) => n.get(step).unwrap_or_else(|| panic!("no {step}")),
        })
    }

    #[test]
    fn the_parts_are_folded_into_the_load_balancer_in_azures_shape() {
        let (out, warnings) = read(&state());
        let lb = out.resources.iter().position(|r| r.kind == LB).expect("the load balancer");
        let body = &out.resources[lb].body;
        let text = |path: &[&str]| at(body, path).as_str().unwrap_or_default().to_string();
        assert_eq!(text(&["sku", "name"]), "Standard");
        let fe = ["properties", "frontendIPConfigurations", "0", "properties", "publicIPAddress", "id"];
        assert_eq!(text(&fe), format!("{RG}/publicIPAddresses/pip"));
        let rule = ["properties", "loadBalancingRules", "0", "properties"];
        fn field(base: &[&'static str], more: &[&'static str]) -> Vec<&'static str> {
            [base, more].concat()
        }
        assert_eq!(
            text(&field(&rule, &["frontendIPConfiguration", "id"])),
            format!("{RG}/loadBalancers/lb/frontendIPConfigurations/fe")
        );
        assert_eq!(
            text(&field(&rule, &["backendAddressPools", "0", "id"])),
            format!("{RG}/loadBalancers/lb/backendAddressPools/pool")
        );
        assert_eq!(text(&field(&rule, &["protocol"])), "All");
        assert_eq!(at(body, &field(&rule, &["enableFloatingIP"])).as_bool(), Some(true));
        assert_eq!(at(body, &field(&rule, &["disableOutboundSnat"])).as_bool(), Some(true));
        let nat = ["properties", "inboundNatRules", "0", "properties"];
        let start = &at(body, &field(&nat, &["frontendPortRangeStart"])).value;
        assert!(
            matches!(start, crate::import::json::Value::Number(n) if n.to_string() == "5000"),
            "{start:?}"
        );
        assert_eq!(
            text(&field(&nat, &["backendAddressPool", "id"])),
            format!("{RG}/loadBalancers/lb/backendAddressPools/pool")
        );
        assert_eq!(text(&["properties", "outboundRules", "0", "name"]), "out");
        let outbound_fe =
            ["properties", "outboundRules", "0", "properties", "frontendIPConfigurations", "0", "id"];
        assert!(text(&outbound_fe).ends_with("/frontendIPConfigurations/fe"));
        let counted = &out.counted_as[&lb];
        for kind in
            ["azurerm_lb", "azurerm_lb_backend_address_pool", "azurerm_lb_rule", "azurerm_lb_outbound_rule"]
        {
            assert!(counted.iter().any(|k| k == kind), "{kind} in {counted:?}");
        }
        // The NIC joins the NAT rule its association names; the stray association (an IP
        // configuration the NIC does not have) is left out, said and counted as skipped.
        let nic = out.resources.iter().find(|r| r.kind == super::super::azurerm::NIC).expect("the NIC");
        let config = ["properties", "ipConfigurations", "0", "properties"];
        let links = at(&nic.body, &field(&config, &["loadBalancerInboundNatRules"]));
        assert_eq!(links.as_array().map(Vec::len), Some(1));
        assert!(nic.body.get("properties").and_then(|p| p.get("ipConfigurations")).is_some());
        assert!(at(&nic.body, &config).get("loadBalancerBackendAddressPools").is_none());
        assert!(
            warnings.iter().any(|w| w.contains("azurerm_network_interface_backend_address_pool_association.stray: azurerm_network_interface.nic has no ip_configuration named 'other' (it has: primary); the association is left out")),
            "{warnings:#?}"
        );
        assert!(
            out.skipped
                .iter()
                .any(|s| s.name == "azurerm_network_interface_backend_address_pool_association.stray")
        );
        assert_eq!(out.caveats.len(), 1, "{:?}", out.caveats);
    }

    #[test]
    fn a_part_of_a_load_balancer_not_in_the_input_is_skipped_with_a_caveat() {
        let text = state().replace(
            r#""name": "ha", "loadbalancer_id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/loadBalancers/lb""#,
            r#""name": "ha", "loadbalancer_id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/loadBalancers/elsewhere""#,
        );
        let (out, warnings) = read(&text);
        assert!(
            warnings.iter().any(|w| w.contains("azurerm_lb_rule.ha: 'loadbalancer_id' is /subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/loadBalancers/elsewhere, which is not in the input; the load-balancing rule is not imported")),
            "{warnings:#?}"
        );
        assert!(out.skipped.iter().any(|s| s.name == "azurerm_lb_rule.ha"));
        let lb = out.resources.iter().find(|r| r.kind == LB).expect("the load balancer");
        assert!(at(&lb.body, &["properties"]).get("loadBalancingRules").is_none());
    }

    #[test]
    fn every_part_joins_a_list_the_inventory_reads() {
        for (kind, property, _) in PARTS {
            assert!(is_part(kind), "{kind}");
            assert!(*property == ADDRESSES || LISTS.contains(property), "{property}");
            assert!(super::super::azurerm::mapping(kind).is_some() || *property == ADDRESSES, "{kind}");
        }
        assert!(!is_part("azurerm_lb"));
        assert!(!is_part("azurerm_network_interface_backend_address_pool_association"));
    }
}
