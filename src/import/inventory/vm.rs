//! Virtual machines: their NICs (primary first), OS, and the subscription and resource group of
//! a literal id.
//!
//! The OS is read where Azure records it, first to last: `storageProfile.osDisk.osType`;
//! `osProfile.windowsConfiguration` or `linuxConfiguration`; the marketplace image
//! (`storageProfile.imageReference`: publisher, offer, SKU, e.g. `MicrosoftWindowsServer`,
//! `MicrosoftSQLServer`/`sql2019-ws2019`, `Canonical`). Template values come evaluated, so an
//! image given through a parameter counts.

use super::{Inventory, Res, member};
use crate::import::arm::{ResourceRef, parse_id};
use crate::import::json::{Node, Object, Value};
use crate::import::resource::Kind;
use crate::import::source::Src;
use crate::scenario::schema::OsSpec;

/// A virtual machine.
#[derive(Debug)]
pub struct VmRec {
    /// Its name.
    pub name: String,
    /// Its OS, or what was missing to tell it.
    pub os: Result<OsSpec, UnknownOs>,
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
        let os = os_of(p);
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

/// Image publishers whose images are all Windows.
const WINDOWS_PUBLISHERS: &[&str] = &[
    "microsoftwindowsserver",
    "microsoftwindowsdesktop",
    "microsoftvisualstudio",
    "microsoftwindowsserverhpcpack",
    "microsoftsharepoint",
    "microsoftbiztalkserver",
    "microsoftdynamicsax",
    "microsoftdynamicsnav",
    "microsoft-dsvm",
];

/// Image publishers whose images are all Linux.
const LINUX_PUBLISHERS: &[&str] = &[
    "canonical",
    "redhat",
    "suse",
    "openlogic",
    "debian",
    "credativ",
    "kinvolk",
    "oracle",
    "almalinux",
    "resf",
    "center-for-internet-security-inc",
    "microsoftcblmariner",
    "microsoft-aks",
    "bitnami",
];

/// Words in an image's offer or SKU that name its OS.
const WINDOWS_WORDS: &[&str] = &["windows", "win20", "ws20", "-ws", "datacenter", "win10", "win11"];
const LINUX_WORDS: &[&str] = &[
    "ubuntu",
    "rhel",
    "redhat",
    "centos",
    "debian",
    "sles",
    "suse",
    "linux",
    "oracle-linux",
    "alma",
    "rocky",
];

/// Why a VM's OS is not known: what each place Azure records it held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownOs {
    /// Whether `storageProfile.osDisk.osType` is there but only known at deployment (else it
    /// is not there).
    pub os_type_at_deployment: bool,
    /// What the image says.
    pub image: ImageClue,
}

/// What a VM's `storageProfile.imageReference` says of its OS, when it does not say it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageClue {
    /// There is no image reference.
    Missing,
    /// The image (or its publisher) is only known at deployment.
    AtDeployment,
    /// A custom image (`imageReference.id`), whose OS the JSON does not say.
    Custom,
    /// A marketplace image nsgsim does not know: its offer, SKU and publisher.
    Unrecognised(String),
}

impl std::fmt::Display for UnknownOs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.os_type_at_deployment {
            "storageProfile.osDisk.osType is only known at deployment"
        } else {
            "no storageProfile.osDisk.osType"
        })?;
        f.write_str(", no osProfile.windowsConfiguration or linuxConfiguration, ")?;
        match &self.image {
            ImageClue::Missing => f.write_str("no storageProfile.imageReference"),
            ImageClue::AtDeployment => {
                f.write_str("the image (storageProfile.imageReference) is only known at deployment")
            }
            ImageClue::Custom => {
                f.write_str("the image is a custom image (imageReference.id), whose OS the JSON does not say")
            }
            ImageClue::Unrecognised(words) => write!(f, "an image nsgsim does not know ({words})"),
        }
    }
}

/// The OS of a VM's properties `p`, or what was missing to tell it.
fn os_of(p: &Object) -> Result<OsSpec, UnknownOs> {
    let text = |node: Option<&Node>| node.and_then(Node::as_str).map(str::to_ascii_lowercase);
    let storage = p.get("storageProfile");
    match text(storage.and_then(|s| s.get("osDisk")).and_then(|d| d.get("osType"))).as_deref() {
        Some("windows") => return Ok(OsSpec::Windows),
        Some("linux") => return Ok(OsSpec::Linux),
        _ => {}
    }
    let os_profile = p.get("osProfile");
    let configured = |key: &str| os_profile.and_then(|o| o.get(key)).is_some_and(|v| v.as_object().is_some());
    if configured("windowsConfiguration") {
        return Ok(OsSpec::Windows);
    }
    if configured("linuxConfiguration") {
        return Ok(OsSpec::Linux);
    }
    let image = storage.and_then(|s| s.get("imageReference"));
    let publisher = text(image.and_then(|i| i.get("publisher"))).unwrap_or_default();
    if WINDOWS_PUBLISHERS.contains(&publisher.as_str()) {
        return Ok(OsSpec::Windows);
    }
    if LINUX_PUBLISHERS.contains(&publisher.as_str()) {
        return Ok(OsSpec::Linux);
    }
    let words: String = ["offer", "sku"]
        .iter()
        .filter_map(|f| text(image.and_then(|i| i.get(f))))
        .chain(std::iter::once(publisher.clone()))
        .collect::<Vec<_>>()
        .join(" ");
    let windows = WINDOWS_WORDS.iter().any(|w| words.contains(w));
    let linux = LINUX_WORDS.iter().any(|w| words.contains(w));
    match (windows, linux) {
        (true, false) => return Ok(OsSpec::Windows),
        (false, true) => return Ok(OsSpec::Linux),
        _ => {}
    }
    // Say what was there, so the user knows what to add.
    let unknown = |node: Option<&Node>| matches!(node.map(|n| &n.value), Some(Value::Unknown(_)));
    let os_type = storage.and_then(|s| s.get("osDisk")).and_then(|d| d.get("osType"));
    let image = match image {
        None => ImageClue::Missing,
        Some(i) if unknown(Some(i)) || unknown(i.get("publisher")) => ImageClue::AtDeployment,
        Some(i) if i.get("id").is_some() && i.get("publisher").is_none() => ImageClue::Custom,
        Some(_) => ImageClue::Unrecognised(words.trim().to_string()),
    };
    Err(UnknownOs { os_type_at_deployment: unknown(os_type), image })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::json::parse;

    fn os(text: &str) -> Result<OsSpec, UnknownOs> {
        let node = parse(text.as_bytes()).expect("JSON");
        os_of(node.as_object().expect("object"))
    }

    #[test]
    fn the_os_comes_from_the_disk_the_profile_or_the_image() {
        let windows = |t: &str| matches!(os(t), Ok(OsSpec::Windows));
        let linux = |t: &str| matches!(os(t), Ok(OsSpec::Linux));
        assert!(windows(r#"{"storageProfile": {"osDisk": {"osType": "Windows"}}}"#));
        assert!(linux(r#"{"storageProfile": {"osDisk": {"osType": "linux"}}}"#));
        assert!(windows(r#"{"osProfile": {"windowsConfiguration": {"provisionVMAgent": true}}}"#));
        assert!(linux(r#"{"osProfile": {"linuxConfiguration": {}}}"#));
        assert!(!windows(r#"{"osProfile": {"windowsConfiguration": null}}"#), "null is no configuration");
        let image = |p: &str, o: &str, s: &str| {
            format!(
                r#"{{"storageProfile": {{"imageReference": {{"publisher": "{p}", "offer": "{o}", "sku": "{s}"}}}}}}"#
            )
        };
        assert!(windows(&image("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-azure-edition")));
        assert!(windows(&image("MicrosoftWindowsDesktop", "windows-11", "win11-22h2-pro")));
        assert!(windows(&image("MicrosoftSQLServer", "sql2019-ws2019", "standard")));
        assert!(linux(&image("MicrosoftSQLServer", "sql2019-ubuntu2004", "standard")));
        assert!(linux(&image("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2")));
        assert!(linux(&image("RedHat", "RHEL", "9-lvm-gen2")));
        let e = os(&image("contoso", "appliance", "v1")).expect_err("unknown");
        assert_eq!(e.image, ImageClue::Unrecognised("appliance v1 contoso".into()));
        assert!(e.to_string().ends_with(", an image nsgsim does not know (appliance v1 contoso)"), "{e}");
        let e = os(r#"{"storageProfile": {"imageReference": {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/images/golden"}}}"#)
            .expect_err("custom image");
        assert_eq!(e, UnknownOs { os_type_at_deployment: false, image: ImageClue::Custom });
        let nothing = os("{}").expect_err("nothing");
        assert_eq!(nothing, UnknownOs { os_type_at_deployment: false, image: ImageClue::Missing });
        assert_eq!(
            nothing.to_string(),
            "no storageProfile.osDisk.osType, no osProfile.windowsConfiguration or linuxConfiguration, no storageProfile.imageReference"
        );
    }
}
