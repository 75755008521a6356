//! Virtual machines: their NICs (primary first), OS, and the subscription and resource group of
//! a literal id.

use super::{Inventory, Res, member};
use crate::import::arm::{ResourceRef, parse_id};
use crate::import::json::{Node, Object};
use crate::import::resource::Kind;
use crate::import::source::Src;
use crate::scenario::schema::OsSpec;

/// A virtual machine.
#[derive(Debug)]
pub struct VmRec {
    /// Its name.
    pub name: String,
    /// Its OS, when the JSON says.
    pub os: Option<OsSpec>,
    /// Its NICs, the primary first, with where each reference is.
    pub nics: Vec<(ResourceRef, Src)>,
    /// The subscription of its literal id.
    pub subscription: Option<String>,
    /// The resource group of its literal id.
    pub resource_group: Option<String>,
    /// Where the resource is.
    pub src: Src,
    /// The resource's index.
    pub res: usize,
}

const VM: &str = "microsoft.compute/virtualmachines";

impl Inventory {
    pub(super) fn vm(
        &mut self,
        res: usize,
        names: &[String],
        body: &Node,
        p: &Object,
        src: &Src,
        rsrc: &Src,
    ) -> Res<()> {
        // Properties that say nothing about traffic are known; anything else is reported.
        self.check_props(
            VM,
            p,
            &[
                "storageProfile",
                "osProfile",
                "networkProfile",
                "hardwareProfile",
                "diagnosticsProfile",
                "securityProfile",
                "additionalCapabilities",
                "availabilitySet",
                "proximityPlacementGroup",
                "virtualMachineScaleSet",
                "host",
                "hostGroup",
                "capacityReservation",
                "billingProfile",
                "priority",
                "evictionPolicy",
                "licenseType",
                "vmId",
                "userData",
                "instanceView",
                "timeCreated",
                "extensionsTimeBudget",
                "platformFaultDomain",
                "scheduledEventsProfile",
                "scheduledEventsPolicy",
                "applicationProfile",
                "osImageNotificationProfile",
            ],
            src,
        );
        let (profile, nsrc) = member(p, "networkProfile", src);
        if let Some(np) = profile.and_then(Node::as_object) {
            self.check_props("networkProfile", np, &["networkInterfaces", "networkApiVersion"], &nsrc);
        }
        if !self.define(Kind::Vm, names, rsrc, res) {
            return Ok(());
        }
        let storage = p.get("storageProfile");
        let os_type =
            storage.and_then(|s| s.get("osDisk")).and_then(|d| d.get("osType")).and_then(Node::as_str);
        let os_profile = p.get("osProfile");
        let configured = |key: &str| os_profile.and_then(|o| o.get(key)).is_some_and(|v| !v.is_null());
        let publisher = storage
            .and_then(|s| s.get("imageReference"))
            .and_then(|i| i.get("publisher"))
            .and_then(Node::as_str)
            .unwrap_or_default();
        let os = match os_type {
            Some(t) if t.eq_ignore_ascii_case("windows") => Some(OsSpec::Windows),
            Some(t) if t.eq_ignore_ascii_case("linux") => Some(OsSpec::Linux),
            _ if configured("windowsConfiguration") => Some(OsSpec::Windows),
            _ if configured("linuxConfiguration") => Some(OsSpec::Linux),
            _ if publisher.to_ascii_lowercase().contains("windows") => Some(OsSpec::Windows),
            _ => None,
        };
        let mut nics = Vec::new();
        if let Some(profile) = profile.and_then(Node::as_object)
            && let Some((list, lsrc)) =
                self.list(profile, "networkInterfaces", &nsrc, "network interfaces")?
        {
            let mut refs = Vec::new();
            for (i, item) in list.iter().enumerate() {
                let props = item.get("properties").filter(|p| p.as_object().is_some()).unwrap_or(item);
                let primary = props.get("primary").and_then(Node::as_bool) == Some(true);
                refs.push((primary, self.id(item, &lsrc.item(i, item))?));
            }
            // The primary NIC first, as the scenario format expects.
            refs.sort_by_key(|(primary, _)| !*primary);
            nics = refs.into_iter().map(|(_, r)| r).collect();
        }
        let id = body.get("id").and_then(Node::as_str).and_then(parse_id);
        self.vms.push(VmRec {
            name: names[0].clone(),
            os,
            nics,
            subscription: id.as_ref().and_then(|r| r.subscription.clone()),
            resource_group: id.as_ref().and_then(|r| r.resource_group.clone()),
            src: rsrc.clone(),
            res,
        });
        Ok(())
    }
}
