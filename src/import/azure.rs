//! Walking Azure's JSON (ARM templates, `az` output, REST responses) into scenario records.
//!
//! Every input is a tree of `serde_json::Value`s; the walker keeps the JSON path of every value
//! it reads (`resources[3].properties.subnet.id`) so that an unresolvable reference or a bad value
//! is reported where it is. Properties live under `properties` in ARM and REST shapes and at the
//! top level in `az` output (which flattens them); both are read.
//!
//! Two passes: the first collects resources by kind, keyed by their case-insensitive type and
//! names; the second resolves references between them (a NIC's subnet, a subnet's NSG, a rule's
//! ASGs, a VM's NICs, a JIT policy's VMs) and builds the scenario types.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde_json::{Map, Value};

use super::arm::{ArmValue, ResourceRef, TemplateScope, eval_string, eval_value, key, parse_id};
use super::{ImportError, ImportOptions, Imported, Warning};
use crate::scenario::schema::{
    AccessSpec, BastionSpec, DirectionSpec, JitPolicySpec, JitPortSpec, JitProtocolSpec, NicSpec, NsgSpec,
    OptionsSpec, OsSpec, PeeringSpec, ProtocolSpec, PublicIpSpec, RuleSpec, ScenarioFile, ScopeSpec, SkuSpec,
    SubnetSpec, VmSpec, VnetSpec,
};

type Res<T> = Result<T, ImportError>;

/// Where a value was read: the file (index) and the JSON path.
#[derive(Clone, Debug)]
struct Src {
    file: usize,
    path: String,
}

impl Src {
    fn at(&self, field: &str) -> Src {
        let path = if self.path.is_empty() {
            field.to_string()
        } else if field.starts_with('[') {
            format!("{}{field}", self.path)
        } else {
            format!("{}.{field}", self.path)
        };
        Src { file: self.file, path }
    }
}

const NSG: &str = "microsoft.network/networksecuritygroups";
const RULE: &str = "microsoft.network/networksecuritygroups/securityrules";
const VNET: &str = "microsoft.network/virtualnetworks";
const SUBNET: &str = "microsoft.network/virtualnetworks/subnets";
const PEERING: &str = "microsoft.network/virtualnetworks/virtualnetworkpeerings";
const NIC: &str = "microsoft.network/networkinterfaces";
const PIP: &str = "microsoft.network/publicipaddresses";
const ASG: &str = "microsoft.network/applicationsecuritygroups";
const BASTION: &str = "microsoft.network/bastionhosts";
const VM: &str = "microsoft.compute/virtualmachines";
const JIT: &str = "microsoft.security/locations/jitnetworkaccesspolicies";
const JIT_SHORT: &str = "microsoft.security/jitnetworkaccesspolicies";

/// Properties every resource may carry that say nothing about traffic.
const META: &[&str] = &[
    "id",
    "name",
    "type",
    "etag",
    "location",
    "tags",
    "provisioningState",
    "resourceGuid",
    "resourceGroup",
    "apiVersion",
    "dependsOn",
    "comments",
    "zones",
    "kind",
    "extendedLocation",
    "systemData",
    "properties",
    "sku",
    "condition",
    "scope",
    "identity",
    "managedBy",
    "plan",
    "resources",
];

struct RuleRec {
    spec: RuleSpec,
    asgs: Vec<(ResourceRef, Src)>,
}

struct NsgRec {
    name: String,
    rules: Vec<RuleRec>,
}

struct SubnetRec {
    name: String,
    prefix: String,
    nsg: Option<(ResourceRef, Src)>,
}

struct VnetRec {
    name: String,
    spaces: Vec<String>,
    subnets: Vec<SubnetRec>,
    peers: Vec<(ResourceRef, Src)>,
}

struct NicRec {
    name: String,
    subnet: (ResourceRef, Src),
    private_ip: Option<String>,
    nsg: Option<(ResourceRef, Src)>,
    public_ip: Option<(ResourceRef, Src)>,
    asgs: Vec<(ResourceRef, Src)>,
    vm: Option<ResourceRef>,
    src: Src,
}

struct PipRec {
    name: String,
    address: Option<String>,
    sku: SkuSpec,
    src: Src,
}

struct VmRec {
    name: String,
    os: Option<OsSpec>,
    nics: Vec<(ResourceRef, Src)>,
    subscription: Option<String>,
    resource_group: Option<String>,
    src: Src,
}

struct BastionRec {
    name: String,
    subnet: (ResourceRef, Src),
    public_ip: Option<(ResourceRef, Src)>,
}

struct JitRec {
    policy: String,
    vm: (ResourceRef, Src),
    ports: Vec<JitPortSpec>,
}

/// Collects resources from every input, then resolves them into a scenario.
#[derive(Default)]
pub(super) struct Importer {
    files: Vec<PathBuf>,
    warnings: Vec<Warning>,
    /// (resource kind, property) → (first file, first path, count), for one warning each.
    ignored: BTreeMap<(String, String), (usize, String, usize)>,
    nsgs: Vec<NsgRec>,
    child_rules: Vec<(Vec<String>, RuleRec, Src)>,
    vnets: Vec<VnetRec>,
    child_subnets: Vec<(Vec<String>, SubnetRec, Src)>,
    child_peerings: Vec<(Vec<String>, (ResourceRef, Src), Src)>,
    nics: Vec<NicRec>,
    pips: Vec<PipRec>,
    asgs: Vec<String>,
    vms: Vec<VmRec>,
    bastions: Vec<BastionRec>,
    jit: Vec<JitRec>,
    /// Every resource defined: key → display name.
    defined: HashMap<String, String>,
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        NSG => "network security group",
        RULE => "security rule",
        VNET => "virtual network",
        SUBNET => "subnet",
        NIC => "network interface",
        PIP => "public IP address",
        ASG => "application security group",
        VM => "virtual machine",
        _ => "resource",
    }
}

impl Importer {
    pub(super) fn add_file(&mut self, path: &Path, text: &str) -> Res<()> {
        let file = self.files.len();
        self.files.push(path.to_path_buf());
        let root: Value = serde_json::from_str(text).map_err(|e| ImportError::Json {
            file: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        let top = Src { file, path: String::new() };
        match &root {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.resource(item, &top.at(&format!("[{i}]")), &TemplateScope::default(), None)?;
                }
            }
            Value::Object(obj) if obj.get("resources").is_some_and(Value::is_array) => {
                let scope = TemplateScope {
                    parameters: obj.get("parameters").and_then(Value::as_object).cloned().unwrap_or_default(),
                    variables: obj.get("variables").and_then(Value::as_object).cloned().unwrap_or_default(),
                };
                for (i, item) in obj["resources"].as_array().into_iter().flatten().enumerate() {
                    self.resource(item, &top.at(&format!("resources[{i}]")), &scope, None)?;
                }
            }
            Value::Object(obj) if obj.get("value").is_some_and(Value::is_array) => {
                for (i, item) in obj["value"].as_array().into_iter().flatten().enumerate() {
                    self.resource(item, &top.at(&format!("value[{i}]")), &TemplateScope::default(), None)?;
                }
            }
            Value::Object(_) => self.resource(&root, &top, &TemplateScope::default(), None)?,
            _ => {
                return Err(self.invalid(
                    &top,
                    "",
                    "the file is neither an ARM template, a resource, nor a list of resources",
                ));
            }
        }
        Ok(())
    }

    fn warn(&mut self, src: &Src, message: impl Into<String>) {
        self.warnings.push(Warning {
            file: self.files[src.file].clone(),
            path: src.path.clone(),
            message: message.into(),
        });
    }

    fn invalid(&self, src: &Src, value: &str, message: impl Into<String>) -> ImportError {
        ImportError::Invalid {
            file: self.files[src.file].clone(),
            path: src.path.clone(),
            value: value.to_string(),
            message: message.into(),
        }
    }

    fn unresolved(&self, src: &Src, reference: &ResourceRef, message: impl Into<String>) -> ImportError {
        ImportError::Unresolved {
            file: self.files[src.file].clone(),
            path: src.path.clone(),
            reference: format!("{}/{}", reference.kind, reference.names.join("/")),
            message: message.into(),
        }
    }

    /// Notes every property of `m` that is neither metadata nor in `known`.
    fn check_props(&mut self, kind: &str, m: &Map<String, Value>, known: &[&str], src: &Src) {
        for prop in m.keys() {
            if META.contains(&prop.as_str()) || known.contains(&prop.as_str()) {
                continue;
            }
            let entry = self
                .ignored
                .entry((kind.to_string(), prop.clone()))
                .or_insert_with(|| (src.file, src.at(prop).path, 0));
            entry.2 += 1;
        }
    }

    /// A string field (template expressions evaluated); `None` when absent or null.
    fn string(
        &self,
        m: &Map<String, Value>,
        field: &str,
        src: &Src,
        scope: &TemplateScope,
    ) -> Res<Option<String>> {
        let Some(v) = m.get(field) else { return Ok(None) };
        if v.is_null() {
            return Ok(None);
        }
        let at = src.at(field);
        match eval_value(v, scope).map_err(|e| self.invalid(&at, &v.to_string(), e))? {
            ArmValue::Str(s) => Ok(Some(s)),
            ArmValue::Int(n) => Ok(Some(n.to_string())),
            ArmValue::Json(Value::Bool(b)) => Ok(Some(b.to_string())),
            other => Err(self.invalid(&at, &v.to_string(), format!("expected a string, found {other:?}"))),
        }
    }

    /// A list of strings (each evaluated); empty when absent.
    fn strings(
        &self,
        m: &Map<String, Value>,
        field: &str,
        src: &Src,
        scope: &TemplateScope,
    ) -> Res<Vec<String>> {
        let at = src.at(field);
        let value = match m.get(field) {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::String(s)) => match eval_string(s, scope).map_err(|e| self.invalid(&at, s, e))? {
                ArmValue::Json(v) => v,
                _ => Value::Array(vec![Value::String(s.clone())]),
            },
            Some(v) => v.clone(),
        };
        let Value::Array(items) = value else {
            return Err(self.invalid(&at, &value.to_string(), "expected a list of strings"));
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let item_at = at.at(&format!("[{i}]"));
            match eval_value(item, scope).map_err(|e| self.invalid(&item_at, &item.to_string(), e))? {
                ArmValue::Str(s) => out.push(s),
                ArmValue::Int(n) => out.push(n.to_string()),
                other => {
                    return Err(self.invalid(
                        &item_at,
                        &item.to_string(),
                        format!("expected a string, found {other:?}"),
                    ));
                }
            }
        }
        Ok(out)
    }

    /// A reference `{ "id": ... }` at `m[field]`; `None` when absent.
    fn reference(
        &self,
        m: &Map<String, Value>,
        field: &str,
        src: &Src,
        scope: &TemplateScope,
    ) -> Res<Option<(ResourceRef, Src)>> {
        match m.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(obj)) => {
                let at = src.at(field);
                self.id(obj, &at, scope).map(Some)
            }
            Some(other) => {
                Err(self.invalid(&src.at(field), &other.to_string(), "expected an object with an 'id'"))
            }
        }
    }

    /// The `id` of a reference object.
    fn id(&self, obj: &Map<String, Value>, src: &Src, scope: &TemplateScope) -> Res<(ResourceRef, Src)> {
        let at = src.at("id");
        let Some(v) = obj.get("id") else {
            return Err(self.invalid(
                src,
                &Value::Object(obj.clone()).to_string(),
                "the reference has no 'id'",
            ));
        };
        let text = v.as_str().unwrap_or_default();
        match eval_value(v, scope).map_err(|e| self.invalid(&at, &v.to_string(), e))? {
            ArmValue::Ref(r) => Ok((r, at)),
            ArmValue::Str(s) => match parse_id(&s) {
                Some(r) => Ok((r, at)),
                None => Err(self.invalid(
                    &at,
                    text,
                    "not a resource id; valid: '/subscriptions/…/providers/Microsoft.Network/<type>/<name>' or \"[resourceId('Microsoft.Network/<type>', '<name>')]\"",
                )),
            },
            other => Err(self.invalid(&at, &v.to_string(), format!("expected a resource id, found {other:?}"))),
        }
    }

    fn define(&mut self, kind: &str, names: &[String], src: &Src) -> bool {
        let k = key(kind, names);
        if self.defined.contains_key(&k) {
            self.warn(
                src,
                format!(
                    "{} '{}' is defined more than once; the first definition is kept",
                    kind_label(kind),
                    names.join("/")
                ),
            );
            return false;
        }
        self.defined.insert(k, names.last().cloned().unwrap_or_default());
        true
    }

    /// One resource, at `src`. `parent` = (type, names) of the enclosing resource for nested
    /// template resources.
    fn resource(
        &mut self,
        item: &Value,
        src: &Src,
        scope: &TemplateScope,
        parent: Option<(&str, &[String])>,
    ) -> Res<()> {
        let Value::Object(obj) = item else {
            return Err(self.invalid(src, &item.to_string(), "expected a resource object"));
        };
        let Some(mut kind) = self.string(obj, "type", src, scope)? else {
            self.warn(
                src,
                "the object has no 'type'; skipped (nsgsim imports Azure resources by their type)",
            );
            return Ok(());
        };
        let raw_name = self.string(obj, "name", src, scope)?.unwrap_or_default();
        let mut names: Vec<String> = raw_name.split('/').map(str::to_string).collect();
        if let Some((ptype, pnames)) = parent
            && !kind.contains('/')
        {
            kind = format!("{ptype}/{kind}");
            let mut full = pnames.to_vec();
            full.extend(names);
            names = full;
        }
        let lower = kind.to_ascii_lowercase();
        // Child resources from `az` carry only their own name; the parent's comes from the id.
        let segments = lower.split('/').count() - 1;
        if names.len() < segments
            && let Some(Value::String(id)) = obj.get("id")
            && let Some(r) = parse_id(id)
            && r.names.len() == segments
        {
            names = r.names;
        }
        if names.iter().any(String::is_empty) || names.len() != segments.max(1) {
            return Err(self.invalid(
                &src.at("name"),
                &raw_name,
                format!("a {kind} needs {} name(s) separated by '/'", segments.max(1)),
            ));
        }
        let (props, psrc) = match obj.get("properties") {
            Some(Value::Object(p)) => (p, src.at("properties")),
            _ => (obj, src.clone()),
        };
        match lower.as_str() {
            NSG => self.nsg(&names, props, &psrc, scope)?,
            RULE => {
                let rule = self.rule(names[1].clone(), props, &psrc, scope)?;
                self.child_rules.push((names[..1].to_vec(), rule, src.clone()));
            }
            VNET => self.vnet(&names, props, &psrc, scope)?,
            SUBNET => {
                let subnet = self.subnet(names[1].clone(), props, &psrc, scope)?;
                self.child_subnets.push((names[..1].to_vec(), subnet, src.clone()));
            }
            PEERING => {
                self.check_props(PEERING, props, &["remoteVirtualNetwork", "allowVirtualNetworkAccess", "allowForwardedTraffic", "allowGatewayTransit", "useRemoteGateways", "peeringState", "peeringSyncLevel", "remoteAddressSpace", "remoteVirtualNetworkAddressSpace", "doNotVerifyRemoteGateways", "remoteBgpCommunities", "remoteGateways"], &psrc);
                if let Some(remote) = self.reference(props, "remoteVirtualNetwork", &psrc, scope)? {
                    self.child_peerings.push((names[..1].to_vec(), remote, src.clone()));
                }
            }
            NIC => self.nic(&names, props, &psrc, scope)?,
            PIP => {
                self.check_props(PIP, props, &["ipAddress", "publicIPAllocationMethod", "publicIPAddressVersion", "ipConfiguration", "idleTimeoutInMinutes", "dnsSettings", "ipTags", "ddosSettings", "natGateway"], &psrc);
                if self.define(PIP, &names, src) {
                    let address = self.string(props, "ipAddress", &psrc, scope)?;
                    let sku = match obj.get("sku").and_then(|s| s.get("name")).and_then(Value::as_str) {
                        Some(s) if s.eq_ignore_ascii_case("basic") => SkuSpec::Basic,
                        _ => SkuSpec::Standard,
                    };
                    self.pips.push(PipRec { name: names[0].clone(), address, sku, src: src.clone() });
                }
            }
            ASG => {
                if self.define(ASG, &names, src) {
                    self.asgs.push(names[0].clone());
                }
            }
            VM => self.vm(&names, obj, props, &psrc, scope, src)?,
            BASTION => self.bastion(&names, props, &psrc, scope, src)?,
            JIT | JIT_SHORT => self.jit_policy(&names, props, &psrc, scope)?,
            _ => self.warn(src, format!("resource type '{kind}' is not imported (nsgsim models NSGs, VNets, NICs, public IPs, ASGs, VMs, Bastion hosts and JIT policies)")),
        }
        if let Some(Value::Array(children)) = obj.get("resources") {
            for (i, child) in children.iter().enumerate() {
                self.resource(child, &src.at(&format!("resources[{i}]")), scope, Some((&kind, &names)))?;
            }
        }
        Ok(())
    }

    fn nsg(
        &mut self,
        names: &[String],
        props: &Map<String, Value>,
        src: &Src,
        scope: &TemplateScope,
    ) -> Res<()> {
        self.check_props(
            NSG,
            props,
            &[
                "securityRules",
                "defaultSecurityRules",
                "networkInterfaces",
                "subnets",
                "flushConnection",
                "flowLogs",
            ],
            src,
        );
        if !self.define(NSG, names, src) {
            return Ok(());
        }
        let mut rules = Vec::new();
        if let Some(list) = props.get("securityRules") {
            let Value::Array(list) = list else {
                return Err(self.invalid(
                    &src.at("securityRules"),
                    &list.to_string(),
                    "expected a list of rules",
                ));
            };
            for (i, r) in list.iter().enumerate() {
                let rsrc = src.at(&format!("securityRules[{i}]"));
                let Value::Object(robj) = r else {
                    return Err(self.invalid(&rsrc, &r.to_string(), "expected a rule object"));
                };
                let name = self
                    .string(robj, "name", &rsrc, scope)?
                    .ok_or_else(|| self.invalid(&rsrc.at("name"), "", "a security rule needs a name"))?;
                let (rprops, rpsrc) = match robj.get("properties") {
                    Some(Value::Object(p)) => (p, rsrc.at("properties")),
                    _ => (robj, rsrc.clone()),
                };
                rules.push(self.rule(name, rprops, &rpsrc, scope)?);
            }
        }
        self.nsgs.push(NsgRec { name: names[0].clone(), rules });
        Ok(())
    }

    fn rule(
        &mut self,
        name: String,
        p: &Map<String, Value>,
        src: &Src,
        scope: &TemplateScope,
    ) -> Res<RuleRec> {
        self.check_props(
            RULE,
            p,
            &[
                "protocol",
                "sourcePortRange",
                "sourcePortRanges",
                "destinationPortRange",
                "destinationPortRanges",
                "sourceAddressPrefix",
                "sourceAddressPrefixes",
                "destinationAddressPrefix",
                "destinationAddressPrefixes",
                "sourceApplicationSecurityGroups",
                "destinationApplicationSecurityGroups",
                "access",
                "priority",
                "direction",
                "description",
            ],
            src,
        );
        let required = |me: &Self, field: &str| -> Res<String> {
            me.string(p, field, src, scope)?.ok_or_else(|| {
                me.invalid(&src.at(field), "", format!("security rule '{name}' has no '{field}'"))
            })
        };
        let priority_text = required(self, "priority")?;
        let priority: u32 = priority_text.trim().parse().map_err(|_| {
            self.invalid(&src.at("priority"), &priority_text, "a priority is an integer 100-4096")
        })?;
        let direction_text = required(self, "direction")?;
        let direction = match direction_text.to_ascii_lowercase().as_str() {
            "inbound" => DirectionSpec::Inbound,
            "outbound" => DirectionSpec::Outbound,
            _ => return Err(self.invalid(&src.at("direction"), &direction_text, "valid: Inbound, Outbound")),
        };
        let access_text = required(self, "access")?;
        let access = match access_text.to_ascii_lowercase().as_str() {
            "allow" => AccessSpec::Allow,
            "deny" => AccessSpec::Deny,
            _ => return Err(self.invalid(&src.at("access"), &access_text, "valid: Allow, Deny")),
        };
        let protocol_text = required(self, "protocol")?;
        let protocol = match protocol_text.to_ascii_lowercase().as_str() {
            "tcp" => ProtocolSpec::Tcp,
            "udp" => ProtocolSpec::Udp,
            "icmp" => ProtocolSpec::Icmp,
            "esp" => ProtocolSpec::Esp,
            "ah" => ProtocolSpec::Ah,
            "*" | "any" => ProtocolSpec::Any,
            _ => {
                return Err(self.invalid(
                    &src.at("protocol"),
                    &protocol_text,
                    "valid: Tcp, Udp, Icmp, Esp, Ah, *",
                ));
            }
        };
        let mut asgs = Vec::new();
        let mut side = |me: &mut Self,
                        prefix_field: &str,
                        list_field: &str,
                        asg_field: &str|
         -> Res<(Option<String>, Vec<String>)> {
            let list = me.strings(p, list_field, src, scope)?;
            let single = me.string(p, prefix_field, src, scope)?;
            let mut names = Vec::new();
            if let Some(Value::Array(items)) = p.get(asg_field) {
                for (i, item) in items.iter().enumerate() {
                    let at = src.at(&format!("{asg_field}[{i}]"));
                    let Value::Object(obj) = item else {
                        return Err(me.invalid(&at, &item.to_string(), "expected an object with an 'id'"));
                    };
                    let (r, rsrc) = me.id(obj, &at, scope)?;
                    names.push(r.name().to_string());
                    asgs.push((r, rsrc));
                }
            }
            let address = if !list.is_empty() {
                Some(list.join(","))
            } else if !names.is_empty() {
                None
            } else {
                Some(single.unwrap_or_else(|| "*".into()))
            };
            Ok((address, names))
        };
        let (source, source_asgs) =
            side(self, "sourceAddressPrefix", "sourceAddressPrefixes", "sourceApplicationSecurityGroups")?;
        let (destination, destination_asgs) = side(
            self,
            "destinationAddressPrefix",
            "destinationAddressPrefixes",
            "destinationApplicationSecurityGroups",
        )?;
        let ports = |me: &mut Self, single: &str, list: &str| -> Res<Option<String>> {
            let many = me.strings(p, list, src, scope)?;
            if !many.is_empty() {
                return Ok(Some(many.join(",")));
            }
            me.string(p, single, src, scope)
        };
        let source_ports = ports(self, "sourcePortRange", "sourcePortRanges")?;
        let destination_ports = match ports(self, "destinationPortRange", "destinationPortRanges")? {
            Some(p) => p,
            None => {
                self.warn(
                    src,
                    format!("security rule '{name}' has no destinationPortRange(s); imported as '*'"),
                );
                "*".into()
            }
        };
        let description = self.string(p, "description", src, scope)?.unwrap_or_default();
        let spec = RuleSpec {
            name,
            priority,
            direction,
            access,
            protocol,
            source: source.filter(|s| s != "*"),
            source_asgs,
            source_ports: source_ports.filter(|s| s != "*"),
            destination: destination.filter(|s| s != "*"),
            destination_asgs,
            destination_ports,
            description,
        };
        Ok(RuleRec { spec, asgs })
    }

    fn vnet(
        &mut self,
        names: &[String],
        p: &Map<String, Value>,
        src: &Src,
        scope: &TemplateScope,
    ) -> Res<()> {
        self.check_props(
            VNET,
            p,
            &[
                "addressSpace",
                "subnets",
                "virtualNetworkPeerings",
                "dhcpOptions",
                "enableDdosProtection",
                "enableVmProtection",
                "privateEndpointVNetPolicies",
            ],
            src,
        );
        if !self.define(VNET, names, src) {
            return Ok(());
        }
        let spaces = match p.get("addressSpace") {
            Some(Value::Object(a)) => self.strings(a, "addressPrefixes", &src.at("addressSpace"), scope)?,
            _ => Vec::new(),
        };
        if spaces.is_empty() {
            return Err(self.invalid(
                &src.at("addressSpace.addressPrefixes"),
                "",
                format!("virtual network '{}' has no address space", names[0]),
            ));
        }
        let mut subnets = Vec::new();
        if let Some(Value::Array(list)) = p.get("subnets") {
            for (i, s) in list.iter().enumerate() {
                let ssrc = src.at(&format!("subnets[{i}]"));
                let Value::Object(sobj) = s else {
                    return Err(self.invalid(&ssrc, &s.to_string(), "expected a subnet object"));
                };
                let name = self
                    .string(sobj, "name", &ssrc, scope)?
                    .ok_or_else(|| self.invalid(&ssrc.at("name"), "", "a subnet needs a name"))?;
                let (sprops, spsrc) = match sobj.get("properties") {
                    Some(Value::Object(x)) => (x, ssrc.at("properties")),
                    _ => (sobj, ssrc.clone()),
                };
                if !self.define(SUBNET, &[names[0].clone(), name.clone()], &ssrc) {
                    continue;
                }
                subnets.push(self.subnet(name, sprops, &spsrc, scope)?);
            }
        }
        let mut peers = Vec::new();
        if let Some(Value::Array(list)) = p.get("virtualNetworkPeerings") {
            for (i, peering) in list.iter().enumerate() {
                let psrc = src.at(&format!("virtualNetworkPeerings[{i}]"));
                let Value::Object(pobj) = peering else { continue };
                let pp = match pobj.get("properties") {
                    Some(Value::Object(x)) => x,
                    _ => pobj,
                };
                let ppsrc = if pobj.get("properties").is_some() { psrc.at("properties") } else { psrc };
                if let Some(r) = self.reference(pp, "remoteVirtualNetwork", &ppsrc, scope)? {
                    peers.push(r);
                }
            }
        }
        self.vnets.push(VnetRec { name: names[0].clone(), spaces, subnets, peers });
        Ok(())
    }

    fn subnet(
        &mut self,
        name: String,
        p: &Map<String, Value>,
        src: &Src,
        scope: &TemplateScope,
    ) -> Res<SubnetRec> {
        self.check_props(
            SUBNET,
            p,
            &[
                "addressPrefix",
                "addressPrefixes",
                "networkSecurityGroup",
                "ipConfigurations",
                "ipConfigurationProfiles",
                "purpose",
                "resourceNavigationLinks",
                "serviceAssociationLinks",
                "privateEndpointNetworkPolicies",
                "privateLinkServiceNetworkPolicies",
                "delegations",
                "serviceEndpoints",
                "defaultOutboundAccess",
            ],
            src,
        );
        let mut prefixes = self.strings(p, "addressPrefixes", src, scope)?;
        if prefixes.is_empty()
            && let Some(one) = self.string(p, "addressPrefix", src, scope)?
        {
            prefixes.push(one);
        }
        let Some(prefix) = prefixes.first().cloned() else {
            return Err(self.invalid(
                &src.at("addressPrefix"),
                "",
                format!("subnet '{name}' has no addressPrefix"),
            ));
        };
        if prefixes.len() > 1 {
            self.warn(
                &src.at("addressPrefixes"),
                format!("subnet '{name}' has {} prefixes; nsgsim models the first, {prefix}", prefixes.len()),
            );
        }
        let nsg = self.reference(p, "networkSecurityGroup", src, scope)?;
        Ok(SubnetRec { name, prefix, nsg })
    }

    fn nic(&mut self, names: &[String], p: &Map<String, Value>, src: &Src, scope: &TemplateScope) -> Res<()> {
        self.check_props(
            NIC,
            p,
            &[
                "ipConfigurations",
                "networkSecurityGroup",
                "virtualMachine",
                "primary",
                "macAddress",
                "enableAcceleratedNetworking",
                "dnsSettings",
                "hostedWorkloads",
                "tapConfigurations",
                "nicType",
                "vnetEncryptionSupported",
                "auxiliaryMode",
                "auxiliarySku",
                "allowPort25Out",
                "defaultOutboundConnectivityEnabled",
            ],
            src,
        );
        if !self.define(NIC, names, src) {
            return Ok(());
        }
        let Some(Value::Array(configs)) = p.get("ipConfigurations") else {
            return Err(self.invalid(
                &src.at("ipConfigurations"),
                "",
                format!("network interface '{}' has no ipConfigurations", names[0]),
            ));
        };
        let primary = configs
            .iter()
            .position(|c| {
                let props = c.get("properties").unwrap_or(c);
                props.get("primary").and_then(Value::as_bool) == Some(true)
            })
            .unwrap_or(0);
        if configs.len() > 1 {
            self.warn(
                &src.at("ipConfigurations"),
                format!(
                    "network interface '{}' has {} IP configurations; nsgsim models the primary one",
                    names[0],
                    configs.len()
                ),
            );
        }
        let csrc = src.at(&format!("ipConfigurations[{primary}]"));
        let Some(Value::Object(cobj)) = configs.get(primary) else {
            return Err(self.invalid(&csrc, "", "expected an IP configuration object"));
        };
        let (cp, cpsrc) = match cobj.get("properties") {
            Some(Value::Object(x)) => (x, csrc.at("properties")),
            _ => (cobj, csrc.clone()),
        };
        self.check_props(
            "ipConfiguration",
            cp,
            &[
                "privateIPAddress",
                "privateIPAllocationMethod",
                "subnet",
                "publicIPAddress",
                "applicationSecurityGroups",
                "primary",
                "privateIPAddressVersion",
                "privateIPAddressPrefixLength",
            ],
            &cpsrc,
        );
        let subnet = self.reference(cp, "subnet", &cpsrc, scope)?.ok_or_else(|| {
            self.invalid(&cpsrc.at("subnet"), "", format!("network interface '{}' has no subnet", names[0]))
        })?;
        let method =
            self.string(cp, "privateIPAllocationMethod", &cpsrc, scope)?.unwrap_or_else(|| "Dynamic".into());
        let mut private_ip = self.string(cp, "privateIPAddress", &cpsrc, scope)?;
        if private_ip.is_none() {
            self.warn(&cpsrc, format!("network interface '{}' has no privateIPAddress ({method} allocation); nsgsim assigns the subnet's first free address, as Azure's dynamic allocation does", names[0]));
        }
        if private_ip.as_deref() == Some("") {
            private_ip = None;
        }
        let mut asgs = Vec::new();
        if let Some(Value::Array(items)) = cp.get("applicationSecurityGroups") {
            for (i, item) in items.iter().enumerate() {
                let at = cpsrc.at(&format!("applicationSecurityGroups[{i}]"));
                let Value::Object(obj) = item else {
                    return Err(self.invalid(&at, &item.to_string(), "expected an object with an 'id'"));
                };
                asgs.push(self.id(obj, &at, scope)?);
            }
        }
        let public_ip = self.reference(cp, "publicIPAddress", &cpsrc, scope)?;
        let nsg = self.reference(p, "networkSecurityGroup", src, scope)?;
        let vm = self.reference(p, "virtualMachine", src, scope)?.map(|(r, _)| r);
        self.nics.push(NicRec {
            name: names[0].clone(),
            subnet,
            private_ip,
            nsg,
            public_ip,
            asgs,
            vm,
            src: src.clone(),
        });
        Ok(())
    }

    fn vm(
        &mut self,
        names: &[String],
        obj: &Map<String, Value>,
        p: &Map<String, Value>,
        src: &Src,
        scope: &TemplateScope,
        rsrc: &Src,
    ) -> Res<()> {
        if !self.define(VM, names, rsrc) {
            return Ok(());
        }
        let storage = p.get("storageProfile");
        let os_type =
            storage.and_then(|s| s.get("osDisk")).and_then(|d| d.get("osType")).and_then(Value::as_str);
        let os_profile = p.get("osProfile");
        let publisher = storage
            .and_then(|s| s.get("imageReference"))
            .and_then(|i| i.get("publisher"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let os = match os_type {
            Some(t) if t.eq_ignore_ascii_case("windows") => Some(OsSpec::Windows),
            Some(t) if t.eq_ignore_ascii_case("linux") => Some(OsSpec::Linux),
            _ if os_profile.and_then(|o| o.get("windowsConfiguration")).is_some_and(|v| !v.is_null()) => {
                Some(OsSpec::Windows)
            }
            _ if os_profile.and_then(|o| o.get("linuxConfiguration")).is_some_and(|v| !v.is_null()) => {
                Some(OsSpec::Linux)
            }
            _ if publisher.to_ascii_lowercase().contains("windows") => Some(OsSpec::Windows),
            _ => None,
        };
        let mut nics = Vec::new();
        let nsrc = src.at("networkProfile");
        if let Some(Value::Array(list)) = p.get("networkProfile").and_then(|n| n.get("networkInterfaces")) {
            let mut refs = Vec::new();
            for (i, item) in list.iter().enumerate() {
                let at = nsrc.at(&format!("networkInterfaces[{i}]"));
                let Value::Object(o) = item else {
                    return Err(self.invalid(&at, &item.to_string(), "expected an object with an 'id'"));
                };
                let primary =
                    o.get("properties").unwrap_or(item).get("primary").and_then(Value::as_bool) == Some(true);
                refs.push((primary, self.id(o, &at, scope)?));
            }
            // The primary NIC first, as the scenario format expects.
            refs.sort_by_key(|(primary, _)| !*primary);
            nics = refs.into_iter().map(|(_, r)| r).collect();
        }
        let id = obj.get("id").and_then(Value::as_str).and_then(parse_id);
        self.vms.push(VmRec {
            name: names[0].clone(),
            os,
            nics,
            subscription: id.as_ref().and_then(|r| r.subscription.clone()),
            resource_group: id.as_ref().and_then(|r| r.resource_group.clone()),
            src: rsrc.clone(),
        });
        Ok(())
    }

    fn bastion(
        &mut self,
        names: &[String],
        p: &Map<String, Value>,
        src: &Src,
        scope: &TemplateScope,
        rsrc: &Src,
    ) -> Res<()> {
        if !self.define(BASTION, names, rsrc) {
            return Ok(());
        }
        let Some(Value::Array(configs)) = p.get("ipConfigurations") else {
            return Err(self.invalid(
                &src.at("ipConfigurations"),
                "",
                format!("bastion host '{}' has no ipConfigurations", names[0]),
            ));
        };
        let csrc = src.at("ipConfigurations[0]");
        let Some(Value::Object(cobj)) = configs.first() else {
            return Err(self.invalid(&csrc, "", "expected an IP configuration object"));
        };
        let (cp, cpsrc) = match cobj.get("properties") {
            Some(Value::Object(x)) => (x, csrc.at("properties")),
            _ => (cobj, csrc.clone()),
        };
        let subnet = self
            .reference(cp, "subnet", &cpsrc, scope)?
            .ok_or_else(|| self.invalid(&cpsrc.at("subnet"), "", "a bastion host needs a subnet"))?;
        let public_ip = self.reference(cp, "publicIPAddress", &cpsrc, scope)?;
        self.bastions.push(BastionRec { name: names[0].clone(), subnet, public_ip });
        Ok(())
    }

    fn jit_policy(
        &mut self,
        names: &[String],
        p: &Map<String, Value>,
        src: &Src,
        scope: &TemplateScope,
    ) -> Res<()> {
        self.check_props(JIT, p, &["virtualMachines", "requests"], src);
        if p.get("requests").and_then(Value::as_array).is_some_and(|r| !r.is_empty()) {
            self.warn(
                &src.at("requests"),
                "JIT requests are history and are not imported; replay them as RequestJit steps if needed",
            );
        }
        let policy = names.last().cloned().unwrap_or_default();
        let Some(Value::Array(vms)) = p.get("virtualMachines") else {
            return Err(self.invalid(&src.at("virtualMachines"), "", "a JIT policy needs virtualMachines"));
        };
        for (i, v) in vms.iter().enumerate() {
            let vsrc = src.at(&format!("virtualMachines[{i}]"));
            let Value::Object(vobj) = v else {
                return Err(self.invalid(&vsrc, &v.to_string(), "expected a virtual machine object"));
            };
            self.check_props("jitVirtualMachine", vobj, &["ports"], &vsrc);
            if vobj.get("publicIpAddress").is_some() {
                self.warn(
                    &vsrc.at("publicIpAddress"),
                    "the Azure Firewall mapping of a JIT policy is not imported",
                );
            }
            let vm = self.id(vobj, &vsrc, scope)?;
            let Some(Value::Array(ports)) = vobj.get("ports") else {
                return Err(self.invalid(&vsrc.at("ports"), "", "a JIT virtual machine needs ports"));
            };
            let mut out = Vec::new();
            for (j, port) in ports.iter().enumerate() {
                let psrc = vsrc.at(&format!("ports[{j}]"));
                let Value::Object(pobj) = port else {
                    return Err(self.invalid(&psrc, &port.to_string(), "expected a port object"));
                };
                self.check_props(
                    "jitPort",
                    pobj,
                    &[
                        "number",
                        "protocol",
                        "allowedSourceAddressPrefix",
                        "allowedSourceAddressPrefixes",
                        "maxRequestAccessDuration",
                    ],
                    &psrc,
                );
                let number_text = self.string(pobj, "number", &psrc, scope)?.unwrap_or_default();
                let number: u16 = number_text.parse().map_err(|_| {
                    self.invalid(&psrc.at("number"), &number_text, "a port number is 0-65535")
                })?;
                let protocol_text =
                    self.string(pobj, "protocol", &psrc, scope)?.unwrap_or_else(|| "*".into());
                let protocol = match protocol_text.to_ascii_uppercase().as_str() {
                    "TCP" => JitProtocolSpec::Tcp,
                    "UDP" => JitProtocolSpec::Udp,
                    "*" | "ANY" => JitProtocolSpec::Any,
                    _ => {
                        return Err(self.invalid(&psrc.at("protocol"), &protocol_text, "valid: TCP, UDP, *"));
                    }
                };
                let mut sources = self.strings(pobj, "allowedSourceAddressPrefixes", &psrc, scope)?;
                if sources.is_empty()
                    && let Some(one) = self.string(pobj, "allowedSourceAddressPrefix", &psrc, scope)?
                {
                    sources.push(one);
                }
                let max_duration = self.string(pobj, "maxRequestAccessDuration", &psrc, scope)?;
                out.push(JitPortSpec {
                    number,
                    protocol: Some(protocol),
                    allowed_sources: if sources.is_empty() { None } else { Some(sources) },
                    max_duration,
                });
            }
            self.jit.push(JitRec { policy: policy.clone(), vm, ports: out });
        }
        Ok(())
    }

    /// The defined name `r` refers to, or an error naming what exists of that kind.
    fn resolve(&self, r: &ResourceRef, src: &Src, expected: &str) -> Res<String> {
        if !r.kind.eq_ignore_ascii_case(expected) {
            return Err(self.unresolved(
                src,
                r,
                format!("expected a reference to a {expected}, found {}", r.kind),
            ));
        }
        if let Some(name) = self.defined.get(&r.key()) {
            return Ok(name.clone());
        }
        let prefix = format!("{}|", expected.to_ascii_lowercase());
        let mut known: Vec<&String> =
            self.defined.iter().filter(|(k, _)| k.starts_with(&prefix)).map(|(k, _)| k).collect();
        known.sort();
        let known: Vec<String> = known.iter().map(|k| k[prefix.len()..].to_string()).collect();
        Err(self.unresolved(
            src,
            r,
            format!(
                "{} '{}' is not in the input; import the file that defines it (defined: {})",
                kind_label(&expected.to_ascii_lowercase()),
                r.names.join("/"),
                if known.is_empty() { "none".into() } else { known.join(", ") }
            ),
        ))
    }

    /// Resolves every reference and builds the scenario.
    pub(super) fn finish(mut self, options: &ImportOptions) -> Res<Imported> {
        for ((kind, prop), (file, path, count)) in std::mem::take(&mut self.ignored) {
            let times = if count > 1 { format!(" ({count} times)") } else { String::new() };
            self.warnings.push(Warning {
                file: self.files[file].clone(),
                path,
                message: format!("property '{prop}' of {kind} is not modelled; ignored{times}"),
            });
        }
        // Child resources join their parents.
        for (parent, rule, src) in std::mem::take(&mut self.child_rules) {
            let r = ResourceRef {
                kind: "Microsoft.Network/networkSecurityGroups".into(),
                names: parent,
                subscription: None,
                resource_group: None,
            };
            let name = self.resolve(&r, &src.at("name"), NSG)?;
            if let Some(n) = self.nsgs.iter_mut().find(|n| n.name == name) {
                n.rules.push(rule);
            }
        }
        for (parent, subnet, src) in std::mem::take(&mut self.child_subnets) {
            let r = ResourceRef {
                kind: "Microsoft.Network/virtualNetworks".into(),
                names: parent.clone(),
                subscription: None,
                resource_group: None,
            };
            let name = self.resolve(&r, &src.at("name"), VNET)?;
            let mut names = parent;
            names.push(subnet.name.clone());
            if !self.define(SUBNET, &names, &src) {
                continue;
            }
            if let Some(v) = self.vnets.iter_mut().find(|v| v.name == name) {
                v.subnets.push(subnet);
            }
        }
        for (parent, remote, _) in std::mem::take(&mut self.child_peerings) {
            if let Some(v) = self.vnets.iter_mut().find(|v| v.name.eq_ignore_ascii_case(&parent[0])) {
                v.peers.push(remote);
            }
        }
        for asg_ref in self.nsgs.iter().flat_map(|n| n.rules.iter().flat_map(|r| r.asgs.iter())) {
            self.resolve(&asg_ref.0, &asg_ref.1, ASG)?;
        }

        let mut vnets = Vec::new();
        let mut peerings: Vec<(String, String)> = Vec::new();
        for v in &self.vnets {
            let mut subnets = Vec::new();
            for s in &v.subnets {
                let nsg = match &s.nsg {
                    Some((r, src)) => Some(self.resolve(r, src, NSG)?),
                    None => None,
                };
                subnets.push(SubnetSpec {
                    name: s.name.clone(),
                    prefix: s.prefix.clone(),
                    nsg,
                    route_table: None,
                    default_outbound_access: None,
                });
            }
            for (r, src) in &v.peers {
                if self.defined.contains_key(&r.key()) {
                    let other = self.resolve(r, src, VNET)?;
                    let pair =
                        if v.name <= other { (v.name.clone(), other) } else { (other, v.name.clone()) };
                    if !peerings.contains(&pair) {
                        peerings.push(pair);
                    }
                } else {
                    let (file, path) = (self.files[src.file].clone(), src.path.clone());
                    self.warnings.push(Warning {
                        file,
                        path,
                        message: format!(
                            "peering to virtual network '{}', which is not in the input; not modelled",
                            r.name()
                        ),
                    });
                }
            }
            vnets.push(VnetSpec {
                name: v.name.clone(),
                address_space: v.spaces.clone(),
                subnets,
                on_premises: Vec::new(),
            });
        }

        // NICs: resolve, then give dynamic addresses the subnet's first free ones.
        let mut nic_specs: Vec<(NicSpec, Option<ResourceRef>, Src)> = Vec::new();
        for n in &self.nics {
            let subnet_name = self.resolve(&n.subnet.0, &n.subnet.1, SUBNET)?;
            let vnet_name = self.defined.get(&key(VNET, &n.subnet.0.names[..1])).cloned().unwrap_or_default();
            let nsg = match &n.nsg {
                Some((r, src)) => Some(self.resolve(r, src, NSG)?),
                None => None,
            };
            let public_ip = match &n.public_ip {
                Some((r, src)) => Some(self.resolve(r, src, PIP)?),
                None => None,
            };
            let mut asgs = Vec::new();
            for (r, src) in &n.asgs {
                asgs.push(self.resolve(r, src, ASG)?);
            }
            nic_specs.push((
                NicSpec {
                    name: n.name.clone(),
                    subnet: format!("{vnet_name}/{subnet_name}"),
                    private_ip: n.private_ip.clone().unwrap_or_default(),
                    nsg,
                    asgs,
                    public_ip,
                },
                n.vm.clone(),
                n.src.clone(),
            ));
        }
        let mut taken: Vec<IpAddr> =
            nic_specs.iter().filter_map(|(n, _, _)| n.private_ip.parse().ok()).collect();
        for (nic, _, src) in nic_specs.iter_mut().filter(|(n, _, _)| n.private_ip.is_empty()) {
            let prefix = vnets
                .iter()
                .flat_map(|v| v.subnets.iter().map(move |s| (format!("{}/{}", v.name, s.name), &s.prefix)))
                .find(|(name, _)| *name == nic.subnet)
                .and_then(|(_, p)| p.parse::<IpNet>().ok());
            let free = prefix.and_then(|p| first_free(&p, &taken));
            let Some(ip) = free else {
                return Err(self.invalid(
                    src,
                    &nic.subnet,
                    format!("no free address for network interface '{}' in its subnet", nic.name),
                ));
            };
            taken.push(ip);
            nic.private_ip = ip.to_string();
        }

        // VMs take their NICs; NICs no VM claims become VMs of their own.
        let mut vms = Vec::new();
        let mut claimed: HashMap<String, String> = HashMap::new();
        for v in &self.vms {
            let mut nics = Vec::new();
            for (r, src) in &v.nics {
                let name = self.resolve(r, src, NIC)?;
                if let Some(owner) = claimed.insert(name.clone(), v.name.clone()) {
                    return Err(self.unresolved(
                        src,
                        r,
                        format!(
                            "network interface '{name}' is already attached to virtual machine '{owner}'"
                        ),
                    ));
                }
                if let Some((spec, _, _)) = nic_specs.iter().find(|(n, _, _)| n.name == name) {
                    nics.push(clone_nic(spec));
                }
            }
            if nics.is_empty() {
                let (file, path) = (self.files[v.src.file].clone(), v.src.path.clone());
                self.warnings.push(Warning {
                    file,
                    path,
                    message: format!(
                        "virtual machine '{}' has no network interface in the input; not imported",
                        v.name
                    ),
                });
                continue;
            }
            let os = v.os.unwrap_or_else(|| {
                self.warnings.push(Warning {
                    file: self.files[v.src.file].clone(),
                    path: v.src.path.clone(),
                    message: format!(
                        "virtual machine '{}': the OS type is not given; imported as Linux",
                        v.name
                    ),
                });
                OsSpec::Linux
            });
            vms.push(VmSpec {
                name: v.name.clone(),
                os,
                classic: false,
                subscription: v.subscription.clone(),
                resource_group: v.resource_group.clone(),
                nics,
            });
        }
        for (nic, vm_ref, src) in &nic_specs {
            if claimed.contains_key(&nic.name) {
                continue;
            }
            let vm_name = vm_ref.as_ref().map(|r| r.name().to_string()).unwrap_or_else(|| nic.name.clone());
            let message = match vm_ref {
                Some(_) => format!(
                    "network interface '{}' belongs to virtual machine '{vm_name}', which is not in the input; imported as a Linux VM '{vm_name}'",
                    nic.name
                ),
                None => format!(
                    "network interface '{}' is attached to no virtual machine; imported as a Linux VM '{vm_name}'",
                    nic.name
                ),
            };
            self.warnings.push(Warning {
                file: self.files[src.file].clone(),
                path: src.path.clone(),
                message,
            });
            self.defined.entry(key(VM, std::slice::from_ref(&vm_name))).or_insert_with(|| vm_name.clone());
            match vms.iter_mut().find(|v: &&mut VmSpec| v.name == vm_name) {
                Some(vm) => vm.nics.push(clone_nic(nic)),
                None => vms.push(VmSpec {
                    name: vm_name,
                    os: OsSpec::Linux,
                    classic: false,
                    subscription: vm_ref.as_ref().and_then(|r| r.subscription.clone()),
                    resource_group: vm_ref.as_ref().and_then(|r| r.resource_group.clone()),
                    nics: vec![clone_nic(nic)],
                }),
            }
        }

        let mut public_ips = Vec::new();
        let mut next_placeholder = 10u8;
        for p in &self.pips {
            let address = match &p.address {
                Some(a) if !a.is_empty() => a.clone(),
                _ => {
                    let a = format!("192.0.2.{next_placeholder}");
                    next_placeholder = next_placeholder.saturating_add(1);
                    self.warnings.push(Warning { file: self.files[p.src.file].clone(), path: p.src.path.clone(), message: format!("public IP '{}' has no ipAddress (it is allocated at deployment); imported as the placeholder {a}", p.name) });
                    a
                }
            };
            public_ips.push(PublicIpSpec { name: p.name.clone(), address, sku: Some(p.sku) });
        }

        let mut bastions = Vec::new();
        for b in &self.bastions {
            self.resolve(&b.subnet.0, &b.subnet.1, SUBNET)?;
            let vnet = self.defined.get(&key(VNET, &b.subnet.0.names[..1])).cloned().unwrap_or_default();
            let public_ip = match &b.public_ip {
                Some((r, src)) => Some(self.resolve(r, src, PIP)?),
                None => None,
            };
            bastions.push(BastionSpec { name: b.name.clone(), vnet, public_ip });
        }

        let mut jit_policies = Vec::new();
        for j in &self.jit {
            let vm = self.resolve(&j.vm.0, &j.vm.1, VM)?;
            jit_policies.push(JitPolicySpec {
                name: format!("{}/{vm}", j.policy),
                scope: ScopeSpec::Vm(vm),
                ports: Some(j.ports.clone()),
                approvers: Vec::new(),
                enable_at_start: true,
            });
        }

        let nsgs = self
            .nsgs
            .iter()
            .map(|n| {
                let mut rules: Vec<RuleSpec> = n.rules.iter().map(|r| r.spec.clone()).collect();
                rules.sort_by_key(|r| (r.direction as u8, r.priority));
                NsgSpec { name: n.name.clone(), rules }
            })
            .collect();
        let sources: Vec<String> = self.files.iter().map(|f| f.display().to_string()).collect();
        let scenario = ScenarioFile {
            name: options.name.clone(),
            description: format!("Imported by nsgsim from {}", sources.join(", ")),
            start: options.start.clone(),
            service_tags: BTreeMap::new(),
            vnets,
            peerings: peerings.into_iter().map(PeeringSpec::from).collect(),
            nsgs,
            asgs: self.asgs.clone(),
            public_ips,
            vms,
            users: Vec::new(),
            route_tables: Vec::new(),
            firewalls: Vec::new(),
            bastions,
            roles: BTreeMap::new(),
            jit_policies,
            options: OptionsSpec::default(),
            timeline: Vec::new(),
        };
        Ok(Imported { scenario, warnings: self.warnings })
    }
}

fn clone_nic(n: &NicSpec) -> NicSpec {
    NicSpec {
        name: n.name.clone(),
        subnet: n.subnet.clone(),
        private_ip: n.private_ip.clone(),
        nsg: n.nsg.clone(),
        asgs: n.asgs.clone(),
        public_ip: n.public_ip.clone(),
    }
}

/// The lowest address Azure would hand out in `prefix` (from the fifth; the first four and the
/// last are reserved) that is not in `taken`.
fn first_free(prefix: &IpNet, taken: &[IpAddr]) -> Option<IpAddr> {
    match prefix {
        IpNet::V4(p) => {
            let lo = u32::from(p.network()).checked_add(4)?;
            let hi = u32::from(p.broadcast()).checked_sub(1)?;
            (lo..=hi).map(|n| IpAddr::from(std::net::Ipv4Addr::from(n))).find(|a| !taken.contains(a))
        }
        IpNet::V6(p) => {
            let lo = u128::from(p.network()).checked_add(4)?;
            let hi = u128::from(p.broadcast()).checked_sub(1)?;
            (lo..=hi.min(lo + 65536))
                .map(|n| IpAddr::from(std::net::Ipv6Addr::from(n)))
                .find(|a| !taken.contains(a))
        }
    }
}
