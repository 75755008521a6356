//! `azurerm_nat_gateway` and `azurerm_public_ip_prefix`, as Azure stores them: the gateway's
//! `sku_name` is its `sku`, `idle_timeout_in_minutes` its `idleTimeoutInMinutes`, and its public
//! IPs and prefixes come from the association resources folded into it
//! (`azurerm_nat_gateway_public_ip_association`, `..._public_ip_prefix_association`, see
//! [`super::fold`]); a subnet's gateway is `azurerm_subnet_nat_gateway_association`, folded into
//! the subnet. A prefix's `ip_prefix` (known after the apply) is its `ipPrefix`, `prefix_length`
//! its `prefixLength`.

use super::attrs::{list, object};
use super::fold::FoldKind;
use super::network::Members;
use super::{Reader, Res};

impl Reader<'_, '_> {
    pub(super) fn nat_gateway(&mut self, i: usize) -> Res<Option<Members>> {
        let a = self.values(i)?;
        let mut props = Vec::new();
        if let Some((n, _)) = a.value("idle_timeout_in_minutes") {
            props.push(("idleTimeoutInMinutes", n.clone()));
        }
        for (what, property) in
            [(FoldKind::NatPublicIp, "publicIpAddresses"), (FoldKind::NatPrefix, "publicIpPrefixes")]
        {
            let nodes = self.folded_all(&(i, None), &what);
            if let Some(first) = nodes.first() {
                let at = first.position;
                props.push((property, list(at, nodes)));
            }
        }
        let mut members = vec![("properties", object(a.position(), props))];
        if let Some((name, _)) = a.value("sku_name") {
            members.push(("sku", object(name.position, vec![("name", name.clone())])));
        }
        let kind = self.instances[i].kind.clone();
        self.note_unread(&kind, &a, &["idle_timeout_in_minutes", "sku_name"], &["zones", "resource_guid"]);
        Ok(Some(members))
    }

    pub(super) fn public_ip_prefix(&mut self, i: usize) -> Res<Option<Members>> {
        let a = self.values(i)?;
        let mut props = Vec::new();
        for (terraform, azure) in [
            ("ip_prefix", "ipPrefix"),
            ("prefix_length", "prefixLength"),
            ("ip_version", "publicIPAddressVersion"),
        ] {
            if let Some((n, _)) = a.value(terraform) {
                props.push((azure, n.clone()));
            }
        }
        let mut members = vec![("properties", object(a.position(), props))];
        if let Some(sku) = a.sku() {
            members.push(("sku", sku));
        }
        let kind = self.instances[i].kind.clone();
        self.note_unread(
            &kind,
            &a,
            &["ip_prefix", "prefix_length", "ip_version"],
            &["sku", "sku_tier", "zones", "custom_ip_prefix_id"],
        );
        Ok(Some(members))
    }
}
