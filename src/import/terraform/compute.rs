//! Network interfaces (every `ip_configuration`), public IPs, virtual machines (Linux, Windows,
//! and the older `azurerm_virtual_machine`) and Bastion hosts, in Azure's shape.
//!
//! A NIC's dynamic private address is only known once Azure allocates it ("Azure does not
//! assign a Dynamic IP Address until the Network Interface is attached to a running Virtual
//! Machine", the provider says); it is left out, and the inventory gives the subnet's first free
//! address with a warning, as for a template. The OS of `azurerm_linux_virtual_machine` and
//! `azurerm_windows_virtual_machine` is their type; `azurerm_virtual_machine` says it with its
//! `os_profile_windows_config` or `os_profile_linux_config` block, `storage_os_disk.os_type` or
//! its image's publisher. "The first Network Interface ID in this list is the Primary Network
//! Interface on the Virtual Machine" (the provider's `network_interface_ids`).

use super::attrs::{Blocks, flag, list, object, text};
use super::azurerm::{NIC, NSG, PIP, PUBLIC_IP_PREFIX, SUBNET};
use super::config::Seg;
use super::fold::FoldKind;
use super::load_balancer::NIC_LINKS;
use super::network::Members;
use super::{Reader, Res};
use crate::import::json::Node;

impl<'a> Reader<'a, '_> {
    pub(super) fn network_interface(&mut self, i: usize) -> Res<Option<Members>> {
        let a = self.values(i)?;
        let blocks = match a.blocks("ip_configuration", self.diag)? {
            Blocks::Known(blocks) if !blocks.is_empty() => blocks,
            Blocks::Known(_) => {
                return Err(self.diag.invalid(
                    &a.src.member(a.node, "ip_configuration"),
                    "",
                    "a network interface needs an ip_configuration block",
                ));
            }
            Blocks::Unknown => {
                self.unfollowed(
                    i,
                    "network interface",
                    "its ip_configuration is only known after the apply".into(),
                );
                return Ok(None);
            }
        };
        let mut configs = Vec::new();
        let mut names = Vec::new();
        for (k, b) in blocks.iter().enumerate() {
            let block = [Seg::Attr("ip_configuration"), Seg::Index(k)];
            let name =
                b.text("name", self.diag)?.map(|(s, _, _)| s).unwrap_or_else(|| format!("ipconfig{}", k + 1));
            let mut cp = Vec::new();
            let mut path = block.to_vec();
            path.push(Seg::Attr("subnet_id"));
            match self.reference(i, b, "subnet_id", &path, &[SUBNET])? {
                Ok(subnet) => cp.push(("subnet", subnet)),
                Err(Some(why)) => {
                    self.unfollowed(i, "network interface", format!("ip_configuration '{name}': {why}"));
                    return Ok(None);
                }
                Err(None) => {}
            }
            if let Some((n, _)) = b.value("private_ip_address_allocation") {
                cp.push(("privateIPAllocationMethod", n.clone()));
            }
            if let Some((n, _)) = b.value("private_ip_address") {
                cp.push(("privateIPAddress", n.clone()));
            }
            if let Some((n, _)) = b.value("private_ip_address_version") {
                cp.push(("privateIPAddressVersion", n.clone()));
            }
            // The provider makes the first configuration the primary one when none says so.
            let primary = match b.flag("primary", self.diag)? {
                Some((p, n)) => flag(n.position, p),
                None => flag(b.position(), k == 0),
            };
            cp.push(("primary", primary));
            if let Some(pip) = self.own_reference(i, b, "public_ip_address_id", &block, PIP)? {
                cp.push(("publicIPAddress", pip));
            }
            let mut asgs = self.folded_asgs(i, &name);
            // azurerm 1.x and 2.x wrote a configuration's ASGs inline.
            let (inline, missing) = self.asg_references(i, b, "application_security_group_ids", &block)?;
            self.not_followed(
                i,
                b,
                "application_security_group_ids",
                &missing,
                "left out, so rules naming that ASG do not match this NIC",
            );
            if let Some(items) = inline.as_ref().and_then(Node::as_array) {
                asgs.extend(items.iter().cloned());
            }
            if !asgs.is_empty() {
                cp.push(("applicationSecurityGroups", list(b.position(), asgs)));
            }
            // Load balancer pools and inbound NAT rules: associations folded in, or azurerm
            // 1.x's lists on the configuration.
            for &(property, inline, kind) in NIC_LINKS {
                let mut links = self.folded_lb_links(i, &name, property);
                let mut path = block.to_vec();
                path.push(Seg::Attr(inline));
                if self.is_written(i, b, inline, &path) {
                    let (nodes, missing) = self.references(i, b, inline, &path, &[kind])?;
                    let consequence = "left out, so the configuration is not a member of it";
                    self.not_followed(i, b, inline, &missing, consequence);
                    links.extend(nodes);
                }
                if !links.is_empty() {
                    cp.push((property, list(b.position(), links)));
                }
            }
            names.push(name.clone());
            // A gateway load balancer chained to the configuration is not harmless: it is noted.
            let read = [
                "name",
                "subnet_id",
                "private_ip_address_allocation",
                "private_ip_address",
                "private_ip_address_version",
                "primary",
                "public_ip_address_id",
                "application_security_group_ids",
                "load_balancer_backend_address_pools_ids",
                "load_balancer_inbound_nat_rules_ids",
            ];
            self.note_unread("azurerm_network_interface.ip_configuration", b, &read, &[]);
            configs.push(object(
                b.position(),
                [("name", text(b.position(), &name)), ("properties", object(b.position(), cp))],
            ));
        }
        self.unmatched_lb_links(i, &names);
        let at = a.node.get("ip_configuration").map_or(a.position(), |n| n.position);
        let mut props = vec![("ipConfigurations", list(at, configs))];
        // The NIC's NSG: an association folded in, or `network_security_group_id` (azurerm 1.x).
        let nsg = match self.folded(&(i, None), FoldKind::Nsg) {
            Some(node) => Some(node),
            None => self.own_reference(i, &a, "network_security_group_id", &[], NSG)?,
        };
        if let Some(nsg) = nsg {
            props.push(("networkSecurityGroup", nsg));
        }
        let harmless = [
            "dns_servers",
            "applied_dns_servers",
            "enable_accelerated_networking",
            "accelerated_networking_enabled",
            "internal_dns_name_label",
            "internal_domain_name_suffix",
            "mac_address",
            "private_ip_address",
            "private_ip_addresses",
            "virtual_machine_id",
            "auxiliary_mode",
            "auxiliary_sku",
        ];
        let kind = self.instances[i].kind.clone();
        self.note_unread(&kind, &a, &["ip_configuration", "network_security_group_id"], &harmless);
        Ok(Some(vec![("properties", object(a.position(), props))]))
    }

    pub(super) fn public_ip(&mut self, i: usize) -> Res<Option<Members>> {
        let a = self.values(i)?;
        let mut props = Vec::new();
        for (terraform, azure) in [
            ("allocation_method", "publicIPAllocationMethod"),
            ("ip_address", "ipAddress"),
            ("ip_version", "publicIPAddressVersion"),
        ] {
            if let Some((n, _)) = a.value(terraform) {
                props.push((azure, n.clone()));
            }
        }
        if let Some(prefix) = self.own_reference(i, &a, "public_ip_prefix_id", &[], PUBLIC_IP_PREFIX)? {
            props.push(("publicIPPrefix", prefix));
        }
        let mut members = vec![("properties", object(a.position(), props))];
        if let Some(sku) = a.sku() {
            members.push(("sku", sku));
        }
        let harmless = [
            "sku",
            "sku_tier",
            "ddos_protection_mode",
            "ddos_protection_plan_id",
            "domain_name_label",
            "domain_name_label_scope",
            "fqdn",
            "idle_timeout_in_minutes",
            "ip_tags",
            "reverse_fqdn",
            "zones",
        ];
        let kind = self.instances[i].kind.clone();
        self.note_unread(
            &kind,
            &a,
            &["allocation_method", "ip_address", "ip_version", "public_ip_prefix_id"],
            &harmless,
        );
        Ok(Some(members))
    }

    pub(super) fn virtual_machine(&mut self, i: usize) -> Res<Option<Members>> {
        let a = self.values(i)?;
        let kind = self.instances[i].kind.clone();
        let (nics, missing) =
            self.references(i, &a, "network_interface_ids", &[Seg::Attr("network_interface_ids")], &[NIC])?;
        self.not_followed(
            i,
            &a,
            "network_interface_ids",
            &missing,
            "the VM gets no network interface from it",
        );
        // The primary NIC: `primary_network_interface_id` of azurerm_virtual_machine, else the
        // first of the list.
        let primary = a.text("primary_network_interface_id", self.diag)?.map(|(s, _, _)| s);
        let nics: Vec<Node> = nics
            .into_iter()
            .enumerate()
            .map(|(k, nic)| {
                let id = nic.get("id").and_then(Node::as_str).unwrap_or_default();
                let is_primary = primary.as_deref().map_or(k == 0, |p| p.eq_ignore_ascii_case(id));
                let at = nic.position;
                object(
                    at,
                    [("id", text(at, id)), ("properties", object(at, [("primary", flag(at, is_primary))]))],
                )
            })
            .collect();
        let mut storage = Vec::new();
        let mut os_profile = Vec::new();
        match kind.as_str() {
            "azurerm_linux_virtual_machine" => {
                storage.push(("osDisk", object(a.position(), [("osType", text(a.position(), "Linux"))])))
            }
            "azurerm_windows_virtual_machine" => {
                storage.push(("osDisk", object(a.position(), [("osType", text(a.position(), "Windows"))])))
            }
            _ => {
                let block_at = |name: &str| a.value(name).map(|(n, _)| n.position);
                if let Some(at) = block_at("os_profile_windows_config") {
                    os_profile.push(("windowsConfiguration", object(at, [])));
                }
                if let Some(at) = block_at("os_profile_linux_config") {
                    os_profile.push(("linuxConfiguration", object(at, [])));
                }
                if let Blocks::Known(disks) = a.blocks("storage_os_disk", self.diag)?
                    && let Some(d) = disks.first()
                    && let Some((n, _)) = d.value("os_type")
                {
                    storage.push(("osDisk", object(d.position(), [("osType", n.clone())])));
                }
                if let Blocks::Known(images) = a.blocks("storage_image_reference", self.diag)?
                    && let Some(image) = images.first()
                    && let Some((n, _)) = image.value("publisher")
                {
                    storage.push(("imageReference", object(image.position(), [("publisher", n.clone())])));
                }
            }
        }
        let at = a.position();
        let network = object(
            at,
            [(
                "networkInterfaces",
                list(a.node.get("network_interface_ids").map_or(at, |n| n.position), nics),
            )],
        );
        let mut props = vec![("networkProfile", network), ("storageProfile", object(at, storage))];
        if !os_profile.is_empty() {
            props.push(("osProfile", object(at, os_profile)));
        }
        Ok(Some(vec![("properties", object(at, props))]))
    }

    pub(super) fn bastion(&mut self, i: usize) -> Res<Option<Members>> {
        let a = self.values(i)?;
        let blocks = match a.blocks("ip_configuration", self.diag)? {
            Blocks::Known(blocks) => blocks,
            Blocks::Unknown => Vec::new(),
        };
        let Some(b) = blocks.first() else {
            // The Developer SKU has no IP configuration: it serves a whole VNet from a shared
            // pool, which nsgsim does not model.
            let why = "it has no ip_configuration (the Developer SKU connects through a shared pool nsgsim does not model)".to_string();
            self.unfollowed(i, "bastion host", why);
            return Ok(None);
        };
        let block = [Seg::Attr("ip_configuration"), Seg::Index(0)];
        let mut path = block.to_vec();
        path.push(Seg::Attr("subnet_id"));
        let subnet = match self.reference(i, b, "subnet_id", &path, &[SUBNET])? {
            Ok(node) => node,
            Err(Some(why)) => {
                self.unfollowed(i, "bastion host", why);
                return Ok(None);
            }
            Err(None) => {
                return Err(self.diag.invalid(
                    &b.src.member(b.node, "subnet_id"),
                    "",
                    "a bastion host's ip_configuration needs subnet_id",
                ));
            }
        };
        let mut cp = vec![("subnet", subnet)];
        if let Some(pip) = self.own_reference(i, b, "public_ip_address_id", &block, PIP)? {
            cp.push(("publicIPAddress", pip));
        }
        let name = b.text("name", self.diag)?.map(|(s, _, _)| s).unwrap_or_else(|| "ipconfig1".into());
        let config = object(
            b.position(),
            [("name", text(b.position(), &name)), ("properties", object(b.position(), cp))],
        );
        let props = object(a.position(), [("ipConfigurations", list(a.position(), vec![config]))]);
        Ok(Some(vec![("properties", props)]))
    }
}
