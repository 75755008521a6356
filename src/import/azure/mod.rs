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

mod transit;

use transit::peering_line;

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde_json::{Map, Value};

use super::arm::{
    ArmValue, ResourceRef, TemplateScope, eval_condition, eval_count, eval_string, eval_value,
    expand_property_copies, key, parse_id, property_copy_loops,
};
use super::json_position::{JsonIndex, Position};
use super::{ImportError, ImportOptions, Imported, Origin, Warning};
use crate::net::{PortRange, parse_prefix};
use crate::nsg::ServiceTag;
use crate::scenario::schema::{
    AccessSpec, BastionSpec, DirectionSpec, JitPolicySpec, JitPortSpec, JitProtocolSpec, NicSpec, NsgSpec,
    OptionsSpec, OsSpec, PeeringOptionsSpec, PeeringSpec, ProtocolSpec, PublicIpSpec, RuleSpec, ScenarioFile,
    ScopeSpec, SkuSpec, SubnetSpec, VmSpec, VnetSpec,
};

type Res<T> = Result<T, ImportError>;

/// Where a value was read: the file (index) and the JSON path. The path is that of the value as
/// read: after a resource copy loop it carries the iteration (`resources[2](copyIndex=1)`), and
/// inside a property copy loop it names the array the loop makes (`securityRules[3]`); see
/// [`Importer::text_path`] for the path of the text that wrote it.
#[derive(Clone, Debug)]
struct Src {
    file: usize,
    path: String,
}

impl Src {
    /// The path for people: `(root)` for the document itself.
    fn shown(&self) -> String {
        if self.path.is_empty() { "(root)".into() } else { self.path.clone() }
    }

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
const GATEWAY: &str = "microsoft.network/virtualnetworkgateways";
const LOCAL_GATEWAY: &str = "microsoft.network/localnetworkgateways";
const CONNECTION: &str = "microsoft.network/connections";
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
    "copy",
];

struct RuleRec {
    spec: RuleSpec,
    asgs: Vec<(ResourceRef, Src)>,
    /// Where the rule is defined (its object).
    src: Src,
    /// Where its properties are.
    psrc: Src,
}

struct NsgRec {
    name: String,
    rules: Vec<RuleRec>,
    src: Src,
}

struct SubnetRec {
    name: String,
    prefix: String,
    nsg: Option<(ResourceRef, Src)>,
    /// Azure's `defaultOutboundAccess` (false: a private subnet), when the JSON says.
    default_outbound_access: Option<bool>,
    src: Src,
}

struct VnetRec {
    name: String,
    spaces: Vec<String>,
    subnets: Vec<SubnetRec>,
    peers: Vec<PeeringRec>,
    src: Src,
}

/// One side of a peering, as Azure stores it: the peering resource of one VNet to another.
/// The scenario's peering is both sides merged (see `Importer::peerings`).
struct PeeringRec {
    /// The peering's own name (`hub-to-spoke`).
    name: String,
    remote: (ResourceRef, Src),
    /// `allowGatewayTransit`: the remote VNet may use this VNet's gateway.
    allow_gateway_transit: bool,
    /// `useRemoteGateways`: this VNet uses the remote VNet's gateway.
    use_remote_gateways: bool,
    /// `allowVirtualNetworkAccess` (default true).
    allow_virtual_network_access: bool,
    /// `peeringState` as exported (`Connected`, `Initiated`, `Disconnected`); absent in templates.
    state: Option<String>,
    /// Subnet peering: `Some((localSubnetNames, remoteSubnetNames))` when `peerCompleteVnets` is
    /// false; `None` for a peering of whole VNets (Azure's default).
    subnets: Option<(Vec<String>, Vec<String>)>,
    /// `enableOnlyIPv6Peering` (default false).
    only_ipv6: bool,
    /// Where its properties are.
    src: Src,
}

/// A virtual network gateway (VPN or ExpressRoute) and the subnet it sits in.
struct GatewayRec {
    name: String,
    subnet: Option<(ResourceRef, Src)>,
    /// `vpnClientConfiguration.vpnClientAddressPool.addressPrefixes`: point-to-site clients.
    client_pool: Vec<String>,
    src: Src,
}

/// A local network gateway: an on-premises site and its address space.
struct LocalGatewayRec {
    name: String,
    prefixes: Vec<String>,
    src: Src,
}

/// A gateway connection (`Microsoft.Network/connections`).
struct ConnectionRec {
    name: String,
    /// `connectionType`: `IPsec`, `Vnet2Vnet`, `ExpressRoute`, `VPNClient`.
    kind: String,
    gateway: Option<(ResourceRef, Src)>,
    local: Option<(ResourceRef, Src)>,
    bgp: bool,
    src: Src,
}

struct NicRec {
    name: String,
    subnet: (ResourceRef, Src),
    private_ip: Option<String>,
    /// Where the private IP is given (or, when it is not, the IP configuration).
    ip_src: Src,
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
    src: Src,
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
pub(super) struct Importer<'t> {
    options: ImportOptions,
    files: Vec<PathBuf>,
    /// Each file's text as parsed (without a byte order mark), to place errors and warnings.
    texts: Vec<&'t str>,
    /// Each file's index of value positions, built when a first position is wanted.
    indexes: Vec<OnceCell<Option<JsonIndex<'t>>>>,
    /// (file, text path of the array a property copy loop makes) → text path of the loop.
    copy_loops: HashMap<(usize, String), String>,
    warnings: Vec<Warning>,
    /// (resource kind, property) → (first file, first path, count), for one warning each.
    ignored: BTreeMap<(String, String), (usize, String, usize)>,
    nsgs: Vec<NsgRec>,
    child_rules: Vec<(Vec<String>, RuleRec, Src)>,
    vnets: Vec<VnetRec>,
    child_subnets: Vec<(Vec<String>, SubnetRec, Src)>,
    child_peerings: Vec<(Vec<String>, PeeringRec, Src)>,
    gateways: Vec<GatewayRec>,
    local_gateways: Vec<LocalGatewayRec>,
    connections: Vec<ConnectionRec>,
    nics: Vec<NicRec>,
    pips: Vec<PipRec>,
    asgs: Vec<String>,
    vms: Vec<VmRec>,
    bastions: Vec<BastionRec>,
    jit: Vec<JitRec>,
    /// Every resource defined: key → display name.
    defined: HashMap<String, String>,
    /// Service tags nsgsim does not know, by lower-case name: (the first spelling, where).
    placeholder_tags: BTreeMap<String, (String, Src)>,
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
        GATEWAY => "virtual network gateway",
        LOCAL_GATEWAY => "local network gateway",
        CONNECTION => "connection",
        _ => "resource",
    }
}

impl<'t> Importer<'t> {
    pub(super) fn new(options: &ImportOptions) -> Importer<'t> {
        Importer { options: options.clone(), ..Importer::default() }
    }

    pub(super) fn add_file(&mut self, path: &Path, text: &'t str) -> Res<()> {
        let file = self.files.len();
        self.files.push(path.to_path_buf());
        // Windows tools (PowerShell's Out-File, Notepad) write a UTF-8 byte order mark. Positions
        // are counted without it, as serde_json counts those of syntax errors.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        self.texts.push(text);
        self.indexes.push(OnceCell::new());
        let root: Value = serde_json::from_str(text).map_err(|e| {
            let (at, message) = super::json_position::serde_error(text, &e);
            ImportError::Json { file: path.to_path_buf(), line: at.line, column: at.column, message }
        })?;
        let top = Src { file, path: String::new() };
        let plain = TemplateScope::new(self.options.deployment.clone());
        let mut scope = plain.clone();
        match &root {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.resource(item, &top.at(&format!("[{i}]")), &plain, None)?;
                }
            }
            Value::Object(obj) if obj.get("resources").is_some_and(Value::is_array) => {
                scope.parameters =
                    obj.get("parameters").and_then(Value::as_object).cloned().unwrap_or_default();
                scope.variables =
                    obj.get("variables").and_then(Value::as_object).cloned().unwrap_or_default();
                for (i, item) in obj["resources"].as_array().into_iter().flatten().enumerate() {
                    self.resource(item, &top.at(&format!("resources[{i}]")), &scope, None)?;
                }
            }
            Value::Object(obj) if obj.get("value").is_some_and(Value::is_array) => {
                for (i, item) in obj["value"].as_array().into_iter().flatten().enumerate() {
                    self.resource(item, &top.at(&format!("value[{i}]")), &plain, None)?;
                }
            }
            Value::Object(_) => self.resource(&root, &top, &plain, None)?,
            other => {
                return Err(self.invalid(
                    &top,
                    &other.to_string(),
                    "the file is neither an ARM template (an object with 'resources'), a resource (an object with 'type'), a REST list ({\"value\": [...]}) nor a list of resources",
                ));
            }
        }
        for function in scope.take_stand_ins().into_iter().chain(plain.take_stand_ins()) {
            let d = &self.options.deployment;
            let answer = match function.as_str() {
                "resourceGroup()" => format!(
                    "resource group '{}' in location '{}' (set them with --resource-group and --location)",
                    d.resource_group, d.location
                ),
                _ => format!("subscription '{}' (set it with --subscription)", d.subscription),
            };
            self.warn(&top, format!("{function} is only known at deployment; evaluated offline as {answer}"));
        }
        Ok(())
    }

    /// The path in the file's text of the value read at `src`: without the iteration of a
    /// resource copy loop (every iteration is the one template), and with a property copy loop's
    /// array item rewritten to the loop's `input` (`securityRules[3].properties` →
    /// `copy[0].input.properties`), loop by loop for nested loops.
    fn text_path<'p>(&self, src: &'p Src) -> Cow<'p, str> {
        let mut path = without_copy_index(&src.path);
        if self.copy_loops.is_empty() {
            return path;
        }
        // Each rewrite consumes one item index of a made array; the bound guards against a loop
        // whose name makes the rewritten path match again (a loop named `copy`).
        for _ in 0..=path.matches('[').count() {
            let rewrite = path.char_indices().filter(|&(_, c)| c == '[').map(|(k, _)| k).find_map(|k| {
                let made = self.copy_loops.get(&(src.file, path[..k].to_string()))?;
                let close = k + path[k..].find(']')?;
                Some(format!("{made}.input{}", &path[close + 1..]))
            });
            match rewrite {
                Some(p) => path = Cow::Owned(p),
                None => break,
            }
        }
        if let Some(made) = self.copy_loops.get(&(src.file, path.to_string())) {
            // The made array itself: its loop.
            path = Cow::Owned(made.clone());
        }
        path
    }

    /// Where the value read at `src` starts in its file: for a missing member, the object that
    /// lacks it; for a value a template expression makes, that expression.
    fn position(&self, src: &Src) -> Option<Position> {
        let index = self.indexes[src.file].get_or_init(|| JsonIndex::new(self.texts[src.file]));
        index.as_ref()?.value_object_or_expression_at(&self.text_path(src))
    }

    /// `file:LINE:COLUMN: PATH` (or `file: PATH`), for messages that point at another place.
    fn place(&self, src: &Src) -> String {
        let file = super::json_position::file_position(&self.files[src.file], self.position(src));
        format!("{file}: {}", src.shown())
    }

    fn warning(&self, src: &Src, message: impl Into<String>) -> Warning {
        Warning {
            file: self.files[src.file].clone(),
            position: if src.path.is_empty() { None } else { self.position(src) },
            path: src.path.clone(),
            message: message.into(),
        }
    }

    fn warn(&mut self, src: &Src, message: impl Into<String>) {
        let warning = self.warning(src, message);
        self.warnings.push(warning);
    }

    fn invalid(&self, src: &Src, value: &str, message: impl Into<String>) -> ImportError {
        ImportError::Invalid {
            file: self.files[src.file].clone(),
            position: self.position(src),
            path: src.shown(),
            value: value.to_string(),
            message: message.into(),
        }
    }

    fn unresolved(&self, src: &Src, reference: &ResourceRef, message: impl Into<String>) -> ImportError {
        ImportError::Unresolved {
            file: self.files[src.file].clone(),
            position: self.position(src),
            path: src.shown(),
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
        let shown = v.as_str().map_or_else(|| v.to_string(), str::to_string);
        match eval_value(v, scope).map_err(|e| self.invalid(&at, &shown, e))? {
            ArmValue::Str(s) => Ok(Some(s)),
            ArmValue::Int(n) => Ok(Some(n.to_string())),
            ArmValue::Json(Value::Bool(b)) => Ok(Some(b.to_string())),
            other => Err(self.invalid(&at, &v.to_string(), format!("expected a string, found {other:?}"))),
        }
    }

    /// A list of strings (each evaluated); empty when absent.
    /// The array at `field` of `m`: `None` when absent or null; an error for anything else: the
    /// expression's own error when it is one that cannot be evaluated (a variable that refers to
    /// itself), else what was expected. (An expression that makes a list was already replaced by
    /// it, see `arm::expand_property_copies`.)
    fn list<'v>(
        &self,
        m: &'v Map<String, Value>,
        field: &str,
        src: &Src,
        what: &str,
        scope: &TemplateScope,
    ) -> Res<Option<&'v Vec<Value>>> {
        let at = src.at(field);
        match m.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(list)) => Ok(Some(list)),
            Some(other) => {
                if let Value::String(text) = other
                    && let Err(e) = eval_string(text, scope)
                {
                    return Err(self.invalid(&at, text, e));
                }
                Err(self.invalid(&at, &other.to_string(), format!("expected a list of {what}")))
            }
        }
    }

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

    /// One resource, at `src`, or one per iteration of its resource copy loop. `parent` =
    /// (type, names) of the enclosing resource for nested template resources.
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
        let Some(copy) = obj.get("copy") else {
            return self.deployed_resource(obj, src, scope, parent);
        };
        // A resource copy loop: `"copy": {"name": "loop", "count": n}`; copyIndex() is the
        // iteration. (`mode` and `batchSize` order the deployment and change nothing here.)
        let at = src.at("copy");
        let Value::Object(copy) = copy else {
            return Err(self.invalid(
                &at,
                &copy.to_string(),
                "a resource copy loop is an object {\"name\": ..., \"count\": ...} (property loops go inside 'properties')",
            ));
        };
        let name = match copy.get("name") {
            Some(Value::String(n)) => n.clone(),
            _ => return Err(self.invalid(&at.at("name"), "", "a resource copy loop needs a name")),
        };
        let Some(count) = copy.get("count") else {
            return Err(self.invalid(&at.at("count"), "", "a resource copy loop needs a count"));
        };
        let count =
            eval_count(count, scope).map_err(|e| self.invalid(&at.at("count"), &count.to_string(), e))?;
        for i in 0..count {
            let inner = scope.with_copy(&name, i, true);
            let isrc = Src { file: src.file, path: format!("{}(copyIndex={i})", src.path) };
            self.deployed_resource(obj, &isrc, &inner, parent)?;
        }
        Ok(())
    }

    /// One resource as deployed: skipped when its `condition` is false, its property copy
    /// loops expanded.
    fn deployed_resource(
        &mut self,
        obj: &Map<String, Value>,
        src: &Src,
        scope: &TemplateScope,
        parent: Option<(&str, &[String])>,
    ) -> Res<()> {
        let deploy = match obj.get("condition") {
            Some(condition) => eval_condition(condition, scope)
                .map_err(|e| self.invalid(&src.at("condition"), &condition.to_string(), e))?,
            None => true,
        };
        let expanded = if deploy {
            let original = Value::Object(obj.clone());
            let expanded = expand_property_copies(&original, scope)
                .map_err(|(path, e)| self.invalid(&src.at(&path), "", e))?;
            let base = without_copy_index(&src.path).into_owned();
            for (made, copy) in property_copy_loops(&original) {
                let full = |p: &str| Src { file: src.file, path: base.clone() }.at(p).path;
                self.copy_loops.insert((src.file, full(&made)), full(&copy));
            }
            expanded
        } else {
            Value::Object(obj.clone())
        };
        let Value::Object(obj) = &expanded else {
            return Err(self.invalid(src, "", "expected a resource object"));
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
        if !deploy {
            // ARM does not cascade a condition to child resources: they keep their own.
            let condition = obj.get("condition").map(Value::to_string).unwrap_or_default();
            self.warn(
                src,
                format!(
                    "the condition {condition} is false: {kind} '{}' is not deployed, and not imported",
                    names.join("/")
                ),
            );
        } else {
            self.deployed(&lower, &kind, &names, obj, props, src, &psrc, scope)?;
        }
        if let Some(Value::Array(children)) = obj.get("resources") {
            for (i, child) in children.iter().enumerate() {
                self.resource(child, &src.at(&format!("resources[{i}]")), scope, Some((&kind, &names)))?;
            }
        }
        Ok(())
    }

    /// Reads a deployed resource of type `lower` into its record.
    #[expect(
        clippy::too_many_arguments,
        reason = "the resource's fields as the caller read them; phase 2 of issue 23 gives them a type"
    )]
    fn deployed(
        &mut self,
        lower: &str,
        kind: &str,
        names: &[String],
        obj: &Map<String, Value>,
        props: &Map<String, Value>,
        src: &Src,
        psrc: &Src,
        scope: &TemplateScope,
    ) -> Res<()> {
        let names = names.to_vec();
        let psrc = psrc.clone();
        match lower {
            NSG => self.nsg(&names, props, &psrc, scope)?,
            RULE => {
                let rule = self.rule(names[1].clone(), props, &psrc, src, scope)?;
                self.child_rules.push((names[..1].to_vec(), rule, src.clone()));
            }
            VNET => self.vnet(&names, props, &psrc, scope)?,
            SUBNET => {
                let subnet = self.subnet(names[1].clone(), props, &psrc, scope)?;
                self.child_subnets.push((names[..1].to_vec(), subnet, src.clone()));
            }
            PEERING => {
                if let Some(peering) = self.peering(names[1].clone(), props, &psrc, scope)? {
                    self.child_peerings.push((names[..1].to_vec(), peering, src.clone()));
                }
            }
            NIC => self.nic(&names, props, &psrc, scope)?,
            PIP => {
                self.check_props(PIP, props, &["ipAddress", "publicIPAllocationMethod", "publicIPAddressVersion", "ipConfiguration", "idleTimeoutInMinutes", "dnsSettings", "ipTags", "ddosSettings", "natGateway"], &psrc);
                if self.define(PIP, &names, src) {
                    let address = self.string(props, "ipAddress", &psrc, scope)?;
                    if let Some(a) = address.as_deref().filter(|a| !a.is_empty())
                        && a.trim().parse::<IpAddr>().is_err()
                    {
                        return Err(self.invalid(&psrc.at("ipAddress"), a, "not an IP address (valid: e.g. 20.50.1.10)"));
                    }
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
            GATEWAY => self.gateway(&names, props, &psrc, scope, src)?,
            LOCAL_GATEWAY => self.local_gateway(&names, props, &psrc, scope, src)?,
            CONNECTION => self.connection(&names, props, &psrc, scope, src)?,
            JIT | JIT_SHORT => self.jit_policy(&names, props, &psrc, scope)?,
            _ => self.warn(src, format!("resource type '{kind}' is not imported (nsgsim models NSGs, VNets, NICs, public IPs, ASGs, VMs, Bastion hosts, VPN gateways with their connections and local network gateways, and JIT policies)")),
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
        if let Some(list) = self.list(props, "securityRules", src, "rules", scope)? {
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
                if let Some(first) = rules.iter().find(|r: &&RuleRec| r.spec.name.eq_ignore_ascii_case(&name))
                {
                    return Err(self.invalid(
                        &rsrc.at("name"),
                        &name,
                        format!(
                            "rule name '{name}' is used twice in the NSG's securityRules (first at {}); names must be unique within an NSG, across both directions (Azure rejects the NSG)",
                            self.place(&first.src)
                        ),
                    ));
                }
                rules.push(self.rule(name, rprops, &rpsrc, &rsrc, scope)?);
            }
        }
        self.nsgs.push(NsgRec { name: names[0].clone(), rules, src: src.clone() });
        Ok(())
    }

    /// One security rule: `p` its properties (at `src`), `rsrc` the rule object. Every value is
    /// checked here, where its JSON path is known, with the checks the scenario loader makes.
    fn rule(
        &mut self,
        name: String,
        p: &Map<String, Value>,
        src: &Src,
        rsrc: &Src,
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
        let priority: u32 = match priority_text.trim().parse() {
            Ok(n) if (100..=4096).contains(&n) => n,
            _ => {
                return Err(self.invalid(
                    &src.at("priority"),
                    &priority_text,
                    format!("security rule '{name}': a rule's priority is an integer 100-4096 (lower is evaluated first)"),
                ));
            }
        };
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
            if let Some(items) = me.list(p, asg_field, src, "application security groups", scope)? {
                if items.len() > crate::nsg::MAX_ASGS_PER_FIELD {
                    return Err(me.invalid(
                        &src.at(asg_field),
                        &items.len().to_string(),
                        format!("security rule '{name}' lists {} application security groups; Azure allows at most {}", items.len(), crate::nsg::MAX_ASGS_PER_FIELD),
                    ));
                }
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
                let entries: Vec<(String, Src)> = list
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (e.clone(), src.at(&format!("{list_field}[{i}]"))))
                    .collect();
                Some(me.addresses(&entries, &name)?)
            } else if !names.is_empty() {
                None
            } else {
                match single {
                    Some(text) => {
                        let at = src.at(prefix_field);
                        let entries: Vec<(String, Src)> =
                            text.split(',').map(|e| (e.trim().to_string(), at.clone())).collect();
                        Some(me.addresses(&entries, &name)?)
                    }
                    None => Some("*".into()),
                }
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
                for (i, entry) in many.iter().enumerate() {
                    me.port_range(entry, &src.at(&format!("{list}[{i}]")))?;
                }
                return Ok(Some(many.join(",")));
            }
            let one = me.string(p, single, src, scope)?;
            if let Some(text) = &one {
                me.port_range(text, &src.at(single))?;
            }
            Ok(one)
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
        // Azure's rules for names and descriptions, as the scenario loader applies them.
        let probe = crate::nsg::SecurityRule {
            name: name.clone(),
            priority: crate::nsg::Priority(100),
            direction: crate::nsg::Direction::Inbound,
            access: crate::nsg::Access::Allow,
            protocol: crate::nsg::RuleProtocol::Any,
            source: crate::nsg::AddressSpec::Any,
            source_ports: crate::nsg::PortSpec::any(),
            destination: crate::nsg::AddressSpec::Any,
            destination_ports: crate::nsg::PortSpec::any(),
            description: description.clone(),
            kind: crate::nsg::RuleKind::Security,
        };
        if let Err(e) = crate::nsg::validate_rule(&probe) {
            let (at, value) = match e {
                crate::nsg::NsgError::DescriptionTooLong { .. } => {
                    (src.at("description"), description.clone())
                }
                _ => (rsrc.at("name"), name.clone()),
            };
            return Err(self.invalid(&at, &value, e.to_string()));
        }
        let spec = RuleSpec {
            name,
            priority: priority.into(),
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
        Ok(RuleRec { spec, asgs, src: rsrc.clone(), psrc: src.clone() })
    }

    /// A port, a range `1000-2000`, `*`, or a comma-separated list of those.
    fn port_range(&self, text: &str, at: &Src) -> Res<()> {
        for piece in text.split(',').map(str::trim) {
            if piece == "*" {
                continue;
            }
            if let Err(e) = piece.parse::<PortRange>() {
                // The parse error already says what is valid.
                return Err(self.invalid(at, piece, e.to_string()));
            }
        }
        Ok(())
    }

    /// The address field of a rule from its entries (each with its JSON path): `*`, one
    /// service tag (spelt as nsgsim knows it), or IPs and CIDRs.
    fn addresses(&mut self, entries: &[(String, Src)], rule: &str) -> Res<String> {
        if entries.len() > crate::nsg::MAX_PREFIXES_PER_FIELD {
            let at = &entries[0].1;
            return Err(self.invalid(
                at,
                &entries.len().to_string(),
                format!(
                    "security rule '{rule}' lists {} addresses; Azure allows at most {}",
                    entries.len(),
                    crate::nsg::MAX_PREFIXES_PER_FIELD
                ),
            ));
        }
        if let [(one, at)] = entries {
            if one == "*" || one.eq_ignore_ascii_case("any") {
                return Ok("*".into());
            }
            if parse_prefix(one).is_err() && ServiceTag::parse(one).is_some() {
                return Ok(self.service_tag(one, at));
            }
        }
        let mut out = Vec::new();
        for (entry, at) in entries {
            if entry.is_empty() {
                return Err(self.invalid(
                    at,
                    entry,
                    format!("security rule '{rule}': an empty address entry"),
                ));
            }
            match parse_prefix(entry) {
                Ok(_) => out.push(entry.clone()),
                Err(_) if entry == "*" || ServiceTag::parse(entry).is_some() => {
                    return Err(self.invalid(
                        at,
                        entry,
                        format!("security rule '{rule}': '{entry}' cannot be combined with other entries; a rule holds '*', one service tag, or a list of IPs/CIDRs"),
                    ));
                }
                Err(e) => {
                    return Err(self.invalid(
                        at,
                        entry,
                        format!("{} (or '*', or a service tag such as Internet)", e.reason),
                    ));
                }
            }
        }
        Ok(out.join(","))
    }

    /// A service tag as nsgsim spells it. Azure compares tag names without regard to case.
    /// Tags that are neither computed (`VirtualNetwork`, `Internet`, `AzureLoadBalancer`) nor
    /// in nsgsim's sample table become placeholders in the scenario's `service_tags`, with a
    /// warning: their members are Microsoft's current prefixes, which only the user can supply.
    fn service_tag(&mut self, text: &str, at: &Src) -> String {
        let lower = text.to_ascii_lowercase();
        let computed = match lower.as_str() {
            "virtualnetwork" | "virtual_network" => Some("VirtualNetwork"),
            "internet" => Some("Internet"),
            "azureloadbalancer" | "azure_loadbalancer" => Some("AzureLoadBalancer"),
            _ => None,
        };
        if let Some(name) = computed {
            return name.to_string();
        }
        if let Some(name) =
            crate::model::sample_service_tags().into_keys().find(|k| k.eq_ignore_ascii_case(text))
        {
            return name;
        }
        if let Some((first, _)) = self.placeholder_tags.get(&lower) {
            return first.clone();
        }
        self.placeholder_tags.insert(lower, (text.to_string(), at.clone()));
        text.to_string()
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
        for (i, space) in spaces.iter().enumerate() {
            let at = src.at(&format!("addressSpace.addressPrefixes[{i}]"));
            parse_prefix(space).map_err(|e| self.invalid(&at, space, e.reason))?;
        }
        if spaces.is_empty() {
            return Err(self.invalid(
                &src.at("addressSpace.addressPrefixes"),
                "",
                format!("virtual network '{}' has no address space", names[0]),
            ));
        }
        let mut subnets = Vec::new();
        if let Some(list) = self.list(p, "subnets", src, "subnets", scope)? {
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
        if let Some(list) = self.list(p, "virtualNetworkPeerings", src, "peerings", scope)? {
            for (i, peering) in list.iter().enumerate() {
                let psrc = src.at(&format!("virtualNetworkPeerings[{i}]"));
                let Value::Object(pobj) = peering else { continue };
                let pp = match pobj.get("properties") {
                    Some(Value::Object(x)) => x,
                    _ => pobj,
                };
                let ppsrc =
                    if pobj.get("properties").is_some() { psrc.at("properties") } else { psrc.clone() };
                let name = self.string(pobj, "name", &psrc, scope)?.unwrap_or_else(|| format!("peering{i}"));
                if let Some(peering) = self.peering(name, pp, &ppsrc, scope)? {
                    peers.push(peering);
                }
            }
        }
        self.vnets.push(VnetRec { name: names[0].clone(), spaces, subnets, peers, src: src.clone() });
        Ok(())
    }

    /// A boolean property (`true`/`false`, or an expression that gives one); `None` when absent.
    fn flag(
        &self,
        m: &Map<String, Value>,
        field: &str,
        src: &Src,
        scope: &TemplateScope,
        what: &str,
    ) -> Res<Option<bool>> {
        match self.string(m, field, src, scope)? {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => {
                Err(self.invalid(&src.at(field), &v, format!("{what}: {field} must be true or false")))
            }
        }
    }

    /// One side of a peering (inline in its VNet or a child resource), `p` its properties at
    /// `src`; `None` when it names no remote VNet.
    fn peering(
        &mut self,
        name: String,
        p: &Map<String, Value>,
        src: &Src,
        scope: &TemplateScope,
    ) -> Res<Option<PeeringRec>> {
        self.check_props(
            PEERING,
            p,
            &[
                "remoteVirtualNetwork",
                "allowVirtualNetworkAccess",
                "allowForwardedTraffic",
                "allowGatewayTransit",
                "useRemoteGateways",
                "peeringState",
                "peeringSyncLevel",
                "remoteAddressSpace",
                "remoteVirtualNetworkAddressSpace",
                "doNotVerifyRemoteGateways",
                "remoteBgpCommunities",
                "remoteGateways",
                "peerCompleteVnets",
                "localSubnetNames",
                "remoteSubnetNames",
                "enableOnlyIPv6Peering",
                "localAddressSpace",
                "localVirtualNetworkAddressSpace",
            ],
            src,
        );
        let Some(remote) = self.reference(p, "remoteVirtualNetwork", src, scope)? else { return Ok(None) };
        let what = format!("peering '{name}'");
        let allow_gateway_transit = self.flag(p, "allowGatewayTransit", src, scope, &what)?.unwrap_or(false);
        let use_remote_gateways = self.flag(p, "useRemoteGateways", src, scope, &what)?.unwrap_or(false);
        let allow_virtual_network_access =
            self.flag(p, "allowVirtualNetworkAccess", src, scope, &what)?.unwrap_or(true);
        // `allowForwardedTraffic` is not read: nsgsim passes forwarded traffic over every
        // peering, and the import brings no appliance that could forward any (docs/fidelity.md).
        let state = self.string(p, "peeringState", src, scope)?;
        // Subnet peering: the subnets are Azure's `localSubnetNames` and `remoteSubnetNames`
        // (`localAddressSpace`/`remoteAddressSpace` are their prefixes, derived by Azure, so not
        // read); `Importer::peerings` merges and checks the two sides.
        let complete = self.flag(p, "peerCompleteVnets", src, scope, &what)?.unwrap_or(true);
        let subnets = if complete {
            None
        } else {
            Some((
                self.strings(p, "localSubnetNames", src, scope)?,
                self.strings(p, "remoteSubnetNames", src, scope)?,
            ))
        };
        let only_ipv6 = self.flag(p, "enableOnlyIPv6Peering", src, scope, &what)?.unwrap_or(false);
        Ok(Some(PeeringRec {
            name,
            remote,
            allow_gateway_transit,
            use_remote_gateways,
            allow_virtual_network_access,
            state,
            subnets,
            only_ipv6,
            src: src.clone(),
        }))
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
        let at = if p.get("addressPrefixes").is_some_and(|v| !v.is_null()) {
            src.at("addressPrefixes[0]")
        } else {
            src.at("addressPrefix")
        };
        parse_prefix(&prefix).map_err(|e| self.invalid(&at, &prefix, e.reason))?;
        if prefixes.len() > 1 {
            self.warn(
                &src.at("addressPrefixes"),
                format!("subnet '{name}' has {} prefixes; nsgsim models the first, {prefix}", prefixes.len()),
            );
        }
        let nsg = self.reference(p, "networkSecurityGroup", src, scope)?;
        let default_outbound_access =
            self.flag(p, "defaultOutboundAccess", src, scope, &format!("subnet '{name}'"))?;
        Ok(SubnetRec { name, prefix, nsg, default_outbound_access, src: src.clone() })
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
        let Some(configs) = self.list(p, "ipConfigurations", src, "IP configurations", scope)? else {
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
        let ip_src = if private_ip.is_some() { cpsrc.at("privateIPAddress") } else { cpsrc.clone() };
        if let Some(ip) = &private_ip
            && ip.trim().parse::<IpAddr>().is_err()
        {
            return Err(self.invalid(&ip_src, ip, "not an IP address (valid: e.g. 10.0.1.4)"));
        }
        let mut asgs = Vec::new();
        if let Some(items) =
            self.list(cp, "applicationSecurityGroups", &cpsrc, "application security groups", scope)?
        {
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
            ip_src,
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
        if let Some(Value::Object(np)) = p.get("networkProfile") {
            self.check_props(
                "networkProfile",
                np,
                &["networkInterfaces", "networkApiVersion"],
                &src.at("networkProfile"),
            );
        }
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
        if let Some(Value::Object(profile)) = p.get("networkProfile")
            && let Some(list) = self.list(profile, "networkInterfaces", &nsrc, "network interfaces", scope)?
        {
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
        self.check_props(
            BASTION,
            p,
            &[
                "ipConfigurations",
                "dnsName",
                "scaleUnits",
                "enableTunneling",
                "enableIpConnect",
                "enableShareableLink",
                "enableFileCopy",
                "disableCopyPaste",
                "enableKerberos",
                "enableSessionRecording",
            ],
            src,
        );
        if !self.define(BASTION, names, rsrc) {
            return Ok(());
        }
        let Some(configs) = self.list(p, "ipConfigurations", src, "IP configurations", scope)? else {
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
        self.bastions.push(BastionRec { name: names[0].clone(), src: rsrc.clone(), subnet, public_ip });
        Ok(())
    }

    /// A virtual network gateway: which VNet it serves (from its IP configuration's subnet) and
    /// its point-to-site client pool.
    fn gateway(
        &mut self,
        names: &[String],
        p: &Map<String, Value>,
        src: &Src,
        scope: &TemplateScope,
        rsrc: &Src,
    ) -> Res<()> {
        self.check_props(
            GATEWAY,
            p,
            &[
                "ipConfigurations",
                "gatewayType",
                "vpnType",
                "vpnGatewayGeneration",
                "activeActive",
                "enableBgp",
                "bgpSettings",
                "vpnClientConfiguration",
                "enablePrivateIpAddress",
            ],
            src,
        );
        if !self.define(GATEWAY, names, rsrc) {
            return Ok(());
        }
        let mut subnet = None;
        if let Some(configs) = self.list(p, "ipConfigurations", src, "IP configurations", scope)? {
            for (i, config) in configs.iter().enumerate() {
                let csrc = src.at(&format!("ipConfigurations[{i}]"));
                let Value::Object(cobj) = config else {
                    return Err(self.invalid(
                        &csrc,
                        &config.to_string(),
                        "expected an IP configuration object",
                    ));
                };
                let (cp, cpsrc) = match cobj.get("properties") {
                    Some(Value::Object(x)) => (x, csrc.at("properties")),
                    _ => (cobj, csrc.clone()),
                };
                // Active-active gateways have two configurations, both in the GatewaySubnet.
                if let Some(r) = self.reference(cp, "subnet", &cpsrc, scope)? {
                    subnet.get_or_insert(r);
                }
            }
        }
        let mut client_pool = Vec::new();
        if let Some(Value::Object(vpn)) = p.get("vpnClientConfiguration") {
            let vsrc = src.at("vpnClientConfiguration");
            if let Some(Value::Object(pool)) = vpn.get("vpnClientAddressPool") {
                let psrc = vsrc.at("vpnClientAddressPool");
                client_pool = self.prefixes(pool, "addressPrefixes", &psrc, scope)?;
            }
        }
        self.gateways.push(GatewayRec { name: names[0].clone(), subnet, client_pool, src: rsrc.clone() });
        Ok(())
    }

    /// A local network gateway: the on-premises site's address space.
    fn local_gateway(
        &mut self,
        names: &[String],
        p: &Map<String, Value>,
        src: &Src,
        scope: &TemplateScope,
        rsrc: &Src,
    ) -> Res<()> {
        self.check_props(
            LOCAL_GATEWAY,
            p,
            &["localNetworkAddressSpace", "gatewayIpAddress", "fqdn", "bgpSettings"],
            src,
        );
        if !self.define(LOCAL_GATEWAY, names, rsrc) {
            return Ok(());
        }
        let prefixes = match p.get("localNetworkAddressSpace") {
            Some(Value::Object(a)) => {
                self.prefixes(a, "addressPrefixes", &src.at("localNetworkAddressSpace"), scope)?
            }
            _ => Vec::new(),
        };
        self.local_gateways.push(LocalGatewayRec { name: names[0].clone(), prefixes, src: rsrc.clone() });
        Ok(())
    }

    /// A gateway connection: which gateway connects to which site.
    fn connection(
        &mut self,
        names: &[String],
        p: &Map<String, Value>,
        src: &Src,
        scope: &TemplateScope,
        rsrc: &Src,
    ) -> Res<()> {
        self.check_props(
            CONNECTION,
            p,
            &[
                "connectionType",
                "virtualNetworkGateway1",
                "virtualNetworkGateway2",
                "localNetworkGateway2",
                "peer",
                "enableBgp",
                "sharedKey",
                "authorizationKey",
                "connectionStatus",
                "tunnelConnectionStatus",
                "connectionProtocol",
                "connectionMode",
                "routingWeight",
                "ipsecPolicies",
                "dpdTimeoutSeconds",
                "ingressBytesTransferred",
                "egressBytesTransferred",
            ],
            src,
        );
        if !self.define(CONNECTION, names, rsrc) {
            return Ok(());
        }
        let kind = self.string(p, "connectionType", src, scope)?.unwrap_or_default();
        let what = format!("connection '{}'", names[0]);
        let bgp = self.flag(p, "enableBgp", src, scope, &what)?.unwrap_or(false);
        let gateway = self.reference(p, "virtualNetworkGateway1", src, scope)?;
        let local = self.reference(p, "localNetworkGateway2", src, scope)?;
        self.connections.push(ConnectionRec {
            name: names[0].clone(),
            kind,
            gateway,
            local,
            bgp,
            src: rsrc.clone(),
        });
        Ok(())
    }

    /// A list of CIDR prefixes at `m[field]`, each checked at its JSON path.
    fn prefixes(
        &self,
        m: &Map<String, Value>,
        field: &str,
        src: &Src,
        scope: &TemplateScope,
    ) -> Res<Vec<String>> {
        let prefixes = self.strings(m, field, src, scope)?;
        for (i, prefix) in prefixes.iter().enumerate() {
            parse_prefix(prefix)
                .map_err(|e| self.invalid(&src.at(&format!("{field}[{i}]")), prefix, e.reason))?;
        }
        Ok(prefixes)
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
        let Some(vms) = self.list(p, "virtualMachines", src, "virtual machines", scope)? else {
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
            let Some(ports) = self.list(vobj, "ports", &vsrc, "ports", scope)? else {
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
                    number: number.into(),
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
            let warning = self.warning(
                &Src { file, path },
                format!("property '{prop}' of {kind} is not modelled; ignored{times}"),
            );
            self.warnings.push(warning);
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
            let Some(ni) = self.nsgs.iter().position(|n| n.name == name) else { continue };
            // The same rule inline and as a child resource (the portal's "Export template", or
            // `az network nsg show` with `az network nsg rule list`): ARM deploys the child
            // after its NSG, so the child's definition is the one that stands.
            let same =
                self.nsgs[ni].rules.iter().position(|r| r.spec.name.eq_ignore_ascii_case(&rule.spec.name));
            match same {
                Some(k) => {
                    let (was, now) = (
                        super::emit::rule_line(&self.nsgs[ni].rules[k].spec),
                        super::emit::rule_line(&rule.spec),
                    );
                    if was != now {
                        let first = &self.nsgs[ni].rules[k].src;
                        let message = format!(
                            "security rule '{}' of NSG '{name}' is also defined at {}, differently; the child resource is deployed after its NSG, so its definition stands (as in Azure): {now} (the other said {was})",
                            rule.spec.name,
                            self.place(first)
                        );
                        self.warn(&rule.src, message);
                    }
                    self.nsgs[ni].rules[k] = rule;
                }
                None => self.nsgs[ni].rules.push(rule),
            }
        }
        // Azure's rules for a whole NSG, reported where the JSON says them.
        for n in &self.nsgs {
            if n.rules.len() > crate::nsg::MAX_RULES_PER_NSG {
                return Err(self.invalid(
                    &n.src,
                    &n.rules.len().to_string(),
                    format!(
                        "NSG '{}' has {} rules; Azure allows at most {}",
                        n.name,
                        n.rules.len(),
                        crate::nsg::MAX_RULES_PER_NSG
                    ),
                ));
            }
            for (i, r) in n.rules.iter().enumerate() {
                if let Some(e) = n.rules[..i].iter().find(|e| {
                    e.spec.direction as u8 == r.spec.direction as u8 && e.spec.priority == r.spec.priority
                }) {
                    return Err(self.invalid(
                        &r.psrc.at("priority"),
                        &r.spec.priority.to_string(),
                        format!(
                            "security rules '{}' ({}) and '{}' of NSG '{}' have the same priority and direction; Azure rejects this (SecurityRuleConflict): give one of them another priority",
                            e.spec.name,
                            self.place(&e.src),
                            r.spec.name,
                            n.name
                        ),
                    ));
                }
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
            let Some(vi) = self.vnets.iter().position(|v| v.name == name) else { continue };
            // Inline in its VNet and again as a child resource (the portal's export): as with
            // rules, the child is deployed after its VNet and its definition stands.
            let same = self.vnets[vi].subnets.iter().position(|s| s.name.eq_ignore_ascii_case(&subnet.name));
            match same {
                Some(k) => {
                    let old = &self.vnets[vi].subnets[k];
                    let nsg_key = |s: &SubnetRec| s.nsg.as_ref().map(|(r, _)| r.key());
                    if old.prefix != subnet.prefix || nsg_key(old) != nsg_key(&subnet) {
                        let message = format!(
                            "subnet '{}' is also defined at {}, differently; the child resource is deployed after its virtual network, so its definition stands (as in Azure): prefix {}, NSG {} (the other said prefix {}, NSG {})",
                            names.join("/"),
                            self.place(&old.src),
                            subnet.prefix,
                            subnet.nsg.as_ref().map_or("none", |(r, _)| r.name()),
                            old.prefix,
                            old.nsg.as_ref().map_or("none", |(r, _)| r.name()),
                        );
                        self.warn(&src, message);
                    }
                    self.vnets[vi].subnets[k] = subnet;
                }
                None => {
                    self.define(SUBNET, &names, &src);
                    self.vnets[vi].subnets.push(subnet);
                }
            }
        }
        for (parent, peering, src) in std::mem::take(&mut self.child_peerings) {
            let Some(vi) = self.vnets.iter().position(|v| v.name.eq_ignore_ascii_case(&parent[0])) else {
                continue;
            };
            // Inline in its VNet and again as a child resource (the portal's export): as with
            // subnets, the child is deployed after its VNet and its definition stands.
            let same = self.vnets[vi].peers.iter().position(|p| p.name.eq_ignore_ascii_case(&peering.name));
            match same {
                Some(k) => {
                    let old = &self.vnets[vi].peers[k];
                    let (was, now) = (peering_line(old), peering_line(&peering));
                    if was != now {
                        let message = format!(
                            "peering '{}/{}' is also defined at {}, differently; the child resource is deployed after its virtual network, so its definition stands (as in Azure): {now} (the other said {was})",
                            self.vnets[vi].name,
                            peering.name,
                            self.place(&old.src),
                        );
                        self.warn(&src, message);
                    }
                    self.vnets[vi].peers[k] = peering;
                }
                None => self.vnets[vi].peers.push(peering),
            }
        }
        for asg_ref in self.nsgs.iter().flat_map(|n| n.rules.iter().flat_map(|r| r.asgs.iter())) {
            self.resolve(&asg_ref.0, &asg_ref.1, ASG)?;
        }

        let sites = self.sites()?;
        let mut vnets = Vec::new();
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
                    default_outbound_access: s.default_outbound_access,
                });
            }
            let on_premises = sites.get(&v.name).map(|s| s.spaces.clone()).unwrap_or_default();
            vnets.push(VnetSpec {
                name: v.name.clone(),
                address_space: v.spaces.clone(),
                subnets,
                on_premises,
            });
        }
        let peerings = self.peerings(&sites)?;

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
        let subnet_prefix = |subnet: &str| {
            vnets
                .iter()
                .flat_map(|v| v.subnets.iter().map(move |s| (format!("{}/{}", v.name, s.name), &s.prefix)))
                .find(|(name, _)| *name == subnet)
                .and_then(|(_, p)| p.parse::<IpNet>().ok())
        };
        for (n, (spec, _, _)) in self.nics.iter().zip(&nic_specs) {
            let Ok(ip) = spec.private_ip.trim().parse::<IpAddr>() else { continue };
            if let Some(prefix) = subnet_prefix(&spec.subnet)
                && !prefix.contains(&ip)
            {
                return Err(self.invalid(
                    &n.ip_src,
                    &spec.private_ip,
                    format!(
                        "network interface '{}': the address is outside its subnet '{}' ({prefix})",
                        spec.name, spec.subnet
                    ),
                ));
            }
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
                let warning = self.warning(
                    &v.src,
                    format!(
                        "virtual machine '{}' has no network interface in the input; not imported",
                        v.name
                    ),
                );
                self.warnings.push(warning);
                continue;
            }
            let os = match v.os {
                Some(os) => os,
                None => {
                    let warning = self.warning(
                        &v.src,
                        format!("virtual machine '{}': the OS type is not given; imported as Linux", v.name),
                    );
                    self.warnings.push(warning);
                    OsSpec::Linux
                }
            };
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
            // Scenario names of VMs and NICs share one namespace (flows name either), so a VM made
            // for a lone NIC cannot take the NIC's own name.
            let vm_name =
                vm_ref.as_ref().map(|r| r.name().to_string()).unwrap_or_else(|| format!("{}-vm", nic.name));
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
            let warning = self.warning(src, message);
            self.warnings.push(warning);
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
                    let warning = self.warning(&p.src, format!("public IP '{}' has no ipAddress (it is allocated at deployment); imported as the placeholder {a}", p.name));
                    self.warnings.push(warning);
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

        let nsgs: Vec<NsgSpec> = self
            .nsgs
            .iter()
            .map(|n| {
                let mut rules: Vec<RuleSpec> = n.rules.iter().map(|r| r.spec.clone()).collect();
                rules.sort_by_key(|r| (r.direction as u8, r.priority));
                NsgSpec { name: n.name.clone(), rules }
            })
            .collect();
        let mut service_tags = BTreeMap::new();
        let used = |tag: &str| {
            nsgs.iter()
                .flat_map(|n| n.rules.iter())
                .any(|r| r.source.as_deref() == Some(tag) || r.destination.as_deref() == Some(tag))
        };
        for (name, src) in std::mem::take(&mut self.placeholder_tags).into_values().filter(|(n, _)| used(n)) {
            let message = format!(
                "service tag '{name}' has no members in nsgsim (it computes VirtualNetwork, Internet and AzureLoadBalancer and has samples of {}); the scenario gets a placeholder `service_tags` entry with no members, so rules naming it match nothing until you fill in its prefixes (from `az network list-service-tags --location <region>` or Microsoft's weekly JSON)",
                crate::model::sample_service_tags().into_keys().collect::<Vec<_>>().join(", ")
            );
            self.warn(&src, message);
            service_tags.insert(name, Vec::new());
        }
        let origins = self.origins(&vnets, &nsgs, &vms, &public_ips, &bastions, &jit_policies);
        let sources: Vec<String> = self.files.iter().map(|f| f.display().to_string()).collect();
        let scenario = ScenarioFile {
            name: options.name.clone(),
            description: format!("Imported by nsgsim from {}", sources.join(", ")),
            start: options.start.clone(),
            service_tags,
            vnets,
            peerings,
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
            caveats: Vec::new(),
        };
        Ok(Imported { scenario, warnings: self.warnings, origins })
    }

    /// Where each part of the scenario came from, so that a problem the scenario loader finds
    /// can still be reported at its JSON path.
    fn origins(
        &self,
        vnets: &[VnetSpec],
        nsgs: &[NsgSpec],
        vms: &[VmSpec],
        public_ips: &[PublicIpSpec],
        bastions: &[BastionSpec],
        jit: &[JitPolicySpec],
    ) -> Vec<Origin> {
        let mut out = Vec::new();
        let mut add = |field: String, src: &Src| {
            out.push(Origin {
                field,
                file: self.files[src.file].clone(),
                position: self.position(src),
                path: src.shown(),
            });
        };
        for (i, v) in vnets.iter().enumerate() {
            let Some(rec) = self.vnets.iter().find(|r| r.name == v.name) else { continue };
            add(format!("vnets[{i}]"), &rec.src);
            for (j, s) in v.subnets.iter().enumerate() {
                if let Some(sr) = rec.subnets.iter().find(|r| r.name == s.name) {
                    add(format!("vnets[{i}].subnets[{j}]"), &sr.src);
                }
            }
        }
        for (i, n) in nsgs.iter().enumerate() {
            let Some(rec) = self.nsgs.iter().find(|r| r.name == n.name) else { continue };
            add(format!("nsgs[{i}]"), &rec.src);
            for (j, r) in n.rules.iter().enumerate() {
                if let Some(rr) = rec.rules.iter().find(|x| x.spec.name == r.name) {
                    add(format!("nsgs[{i}].rules[{j}]"), &rr.psrc);
                }
            }
        }
        for (i, v) in vms.iter().enumerate() {
            if let Some(rec) = self.vms.iter().find(|r| r.name == v.name) {
                add(format!("vms[{i}]"), &rec.src);
            }
            for (j, n) in v.nics.iter().enumerate() {
                if let Some(rec) = self.nics.iter().find(|r| r.name == n.name) {
                    add(format!("vms[{i}].nics[{j}]"), &rec.src);
                }
            }
        }
        for (i, p) in public_ips.iter().enumerate() {
            if let Some(rec) = self.pips.iter().find(|r| r.name == p.name) {
                add(format!("public_ips[{i}]"), &rec.src);
            }
        }
        for (i, b) in bastions.iter().enumerate() {
            if let Some(rec) = self.bastions.iter().find(|r| r.name == b.name) {
                add(format!("bastions[{i}]"), &rec.src);
            }
        }
        for (i, _) in jit.iter().enumerate() {
            if let Some(rec) = self.jit.get(i) {
                add(format!("jit_policies[{i}]"), &rec.vm.1);
            }
        }
        out
    }
}

/// `path` without the iterations of resource copy loops (`resources[2](copyIndex=1).name` →
/// `resources[2].name`): every iteration is read from the one template in the text.
fn without_copy_index(path: &str) -> Cow<'_, str> {
    const MARK: &str = "(copyIndex=";
    if !path.contains(MARK) {
        return Cow::Borrowed(path);
    }
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(k) = rest.find(MARK) {
        let after = &rest[k + MARK.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && after[digits..].starts_with(')') {
            out.push_str(&rest[..k]);
            rest = &after[digits + 1..];
        } else {
            out.push_str(&rest[..k + MARK.len()]);
            rest = after;
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::import::{ImportError, import_texts, to_ron};
    use crate::scenario::load_str;

    pub(super) fn import(files: &[(&str, &str)]) -> Result<Imported, ImportError> {
        let inputs: Vec<(PathBuf, String)> =
            files.iter().map(|(name, text)| (PathBuf::from(name), text.to_string())).collect();
        import_texts(&inputs, &ImportOptions::default())
    }

    /// Imports one file, checks that the scenario loader accepts the output, returns both.
    pub(super) fn ok(text: &str) -> (Imported, String) {
        let imported = import(&[("t.json", text)]).unwrap_or_else(|e| panic!("import fails: {e}"));
        let ron = to_ron(&imported.scenario);
        load_str(&ron, Path::new("t.ron")).unwrap_or_else(|e| panic!("the output does not load: {e}\n{ron}"));
        (imported, ron)
    }

    pub(super) fn err(text: &str) -> String {
        match import(&[("t.json", text)]) {
            Ok(i) => panic!("imported, expected an error:\n{}", to_ron(&i.scenario)),
            Err(e) => e.to_string(),
        }
    }

    pub(super) fn warnings(i: &Imported) -> String {
        i.warnings.iter().map(|w| format!("{w}\n")).collect()
    }

    /// `t.json:LINE:COLUMN` of the `nth` (0-based) occurrence of `needle` in `text`, the column
    /// in characters; counted here independently of the scanner under test.
    pub(super) fn place_of(text: &str, needle: &str, nth: usize) -> String {
        let (offset, _) = text.match_indices(needle).nth(nth).expect("the needle occurs");
        let line_start = text[..offset].rfind('\n').map_or(0, |n| n + 1);
        let column = text[line_start..offset].chars().count() + 1;
        format!("t.json:{}:{column}", text[..offset].matches('\n').count() + 1)
    }

    const RULE: &str = r#"{"protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "443", "sourceAddressPrefix": "*", "destinationAddressPrefix": "*", "access": "Allow", "priority": 100, "direction": "Inbound"}"#;

    fn nsg_with(rules: &str) -> String {
        format!(
            r#"{{"resources": [{{"type": "Microsoft.Network/networkSecurityGroups", "name": "n", "properties": {{"securityRules": [{rules}]}}}}]}}"#
        )
    }

    fn rule_with(field: &str, value: &str) -> String {
        let mut v: Value = serde_json::from_str(RULE).expect("json");
        v[field] = serde_json::from_str(value).expect("json value");
        format!(r#"{{"name": "r", "properties": {v}}}"#)
    }

    #[test]
    fn export_template_rules_inline_and_as_child_resources_import_once() {
        let text = format!(
            r#"{{"resources": [
                {{"type": "Microsoft.Network/networkSecurityGroups", "name": "web-nsg", "properties": {{"securityRules": [{{"name": "allow-https", "properties": {RULE}}}]}}}},
                {{"type": "Microsoft.Network/networkSecurityGroups/securityRules", "name": "web-nsg/allow-https", "properties": {RULE}}},
                {{"type": "Microsoft.Network/virtualNetworks", "name": "v", "properties": {{"addressSpace": {{"addressPrefixes": ["10.0.0.0/16"]}},
                    "subnets": [{{"name": "web", "properties": {{"addressPrefix": "10.0.1.0/24"}}}}]}}}},
                {{"type": "Microsoft.Network/virtualNetworks/subnets", "name": "v/web", "properties": {{"addressPrefix": "10.0.1.0/24"}}}}
            ]}}"#
        );
        let (i, _) = ok(&text);
        assert_eq!(i.scenario.nsgs[0].rules.len(), 1);
        assert_eq!(i.scenario.vnets[0].subnets.len(), 1);
        let w = warnings(&i);
        assert!(!w.contains("more than once") && !w.contains("differently"), "{w}");
    }

    #[test]
    fn a_differing_child_rule_replaces_the_inline_one_with_a_warning() {
        let child = RULE.replace("\"443\"", "\"8443\"");
        let text = format!(
            r#"{{"resources": [
                {{"type": "Microsoft.Network/networkSecurityGroups", "name": "n", "properties": {{"securityRules": [{{"name": "R", "properties": {RULE}}}]}}}},
                {{"type": "Microsoft.Network/networkSecurityGroups/securityRules", "name": "n/r", "properties": {child}}}
            ]}}"#
        );
        let (i, _) = ok(&text);
        let rules = &i.scenario.nsgs[0].rules;
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].destination_ports, "8443");
        let w = warnings(&i);
        assert!(w.contains("t.json:3:17: resources[1]: security rule 'r' of NSG 'n' is also defined at t.json:2:115: resources[0].properties.securityRules[0], differently"), "{w}");
    }

    #[test]
    fn az_show_with_az_rule_list_of_the_same_nsg() {
        let show = format!(
            r#"{{"type": "Microsoft.Network/networkSecurityGroups", "name": "nsgA",
                "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsgA",
                "securityRules": [{{"name": "web", {}}}]}}"#,
            &RULE[1..RULE.len() - 1]
        );
        let list = format!(
            r#"[{{"name": "web", "type": "Microsoft.Network/networkSecurityGroups/securityRules",
                "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsgA/securityRules/web", {}}}]"#,
            &RULE[1..RULE.len() - 1]
        );
        let i = import(&[("show.json", &show), ("list.json", &list)]).expect("imports");
        assert_eq!(i.scenario.nsgs[0].rules.len(), 1);
    }

    #[test]
    fn rest_list_shape_nested_children_and_bom() {
        let rest = format!(
            "\u{feff}{{\"value\": [{{\"type\": \"Microsoft.Network/networkSecurityGroups\", \"name\": \"a\", \"properties\": {{\"securityRules\": []}},
                \"resources\": [{{\"type\": \"securityRules\", \"name\": \"nested\", \"properties\": {RULE}}}]}}]}}"
        );
        let (i, ron) = ok(&rest);
        assert_eq!(i.scenario.nsgs[0].rules[0].name, "nested");
        assert!(ron.contains("Rule(name: \"nested\", priority: 100"), "{ron}");
    }

    #[test]
    fn template_expressions_copy_loops_and_conditions() {
        let text = r#"{"parameters": {"ports": {"type": "array", "defaultValue": ["22", "3389"]},
                                      "withWeb": {"type": "bool", "defaultValue": false},
                                      "location": {"type": "string", "defaultValue": "[resourceGroup().location]"}},
            "variables": {"nsg": "[format('{0}-nsg', 'app')]"},
            "resources": [
              {"type": "Microsoft.Network/networkSecurityGroups", "name": "[variables('nsg')]", "location": "[parameters('location')]",
               "properties": {"copy": [{"name": "securityRules", "count": "[length(parameters('ports'))]",
                 "input": {"name": "[concat('deny-', parameters('ports')[copyIndex('securityRules')])]",
                   "properties": {"priority": "[add(100, copyIndex('securityRules'))]", "direction": "Inbound", "access": "Deny",
                     "protocol": "Tcp", "sourceAddressPrefix": "*", "destinationPortRange": "[parameters('ports')[copyIndex('securityRules')]]"}}}]}},
              {"type": "Microsoft.Network/networkSecurityGroups/securityRules", "name": "[concat(variables('nsg'), '/allow-', copyIndex(1))]",
               "copy": {"name": "extra", "count": 2},
               "properties": {"priority": "[add(200, copyIndex())]", "direction": "Inbound", "access": "Allow", "protocol": "Udp",
                 "sourceAddressPrefix": "VirtualNetwork", "destinationPortRange": "[string(add(5000, copyIndex()))]"}},
              {"condition": "[parameters('withWeb')]", "type": "Microsoft.Network/networkSecurityGroups/securityRules", "name": "app-nsg/web",
               "properties": {"priority": 300, "direction": "Inbound", "access": "Allow", "protocol": "Tcp", "destinationPortRange": "80"}},
              {"condition": false, "type": "Microsoft.Compute/virtualMachines", "name": "skipped", "properties": {}},
              {"type": "Microsoft.Network/applicationSecurityGroups", "name": "[concat('asg-', parameters('location'))]"}
            ]}"#;
        let (i, _) = ok(text);
        let n = &i.scenario.nsgs[0];
        assert_eq!(n.name, "app-nsg");
        let names: Vec<(&str, i64, &str)> =
            n.rules.iter().map(|r| (r.name.as_str(), r.priority, r.destination_ports.as_str())).collect();
        assert_eq!(
            names,
            [
                ("deny-22", 100, "22"),
                ("deny-3389", 101, "3389"),
                ("allow-1", 200, "5000"),
                ("allow-2", 201, "5001")
            ]
        );
        let w = warnings(&i);
        assert!(w.contains("resources[2]: the condition \"[parameters('withWeb')]\" is false"), "{w}");
        assert!(w.contains("resources[3]: the condition false is false"), "{w}");
        assert!(w.contains("resourceGroup() is only known at deployment"), "{w}");
        assert_eq!(i.scenario.asgs, ["asg-westeurope"]);
    }

    #[test]
    fn default_outbound_access_makes_a_private_subnet() {
        let vnet = |value: &str| {
            format!(
                r#"{{"resources": [{{"type": "Microsoft.Network/virtualNetworks", "name": "v", "properties": {{"addressSpace": {{"addressPrefixes": ["10.0.0.0/16"]}}, "subnets": [{{"name": "private", "properties": {{"addressPrefix": "10.0.1.0/24", "defaultOutboundAccess": {value}}}}}, {{"name": "plain", "properties": {{"addressPrefix": "10.0.2.0/24"}}}}]}}}}]}}"#
            )
        };
        let (imported, ron) = ok(&vnet("false"));
        let subnets = &imported.scenario.vnets[0].subnets;
        assert_eq!(subnets[0].default_outbound_access, Some(false), "{ron}");
        assert_eq!(subnets[1].default_outbound_access, None, "{ron}");
        assert!(
            ron.contains(
                "Subnet(name: \"private\", prefix: \"10.0.1.0/24\", default_outbound_access: false)"
            ),
            "{ron}"
        );
        assert!(warnings(&imported).is_empty(), "{}", warnings(&imported));
        let (imported, _) = ok(&vnet("true"));
        assert_eq!(imported.scenario.vnets[0].subnets[0].default_outbound_access, Some(true));
        let e = err(&vnet("\"sometimes\""));
        assert!(
            e.contains("resources[0].properties.subnets[0].properties.defaultOutboundAccess")
                && e.contains("'sometimes'")
                && e.contains("must be true or false"),
            "{e}"
        );
    }

    #[test]
    fn expression_errors_name_the_json_path() {
        let text = r#"{"variables": {"a": "[variables('a')]"}, "resources": [{"type": "Microsoft.Network/applicationSecurityGroups", "name": "[variables('a')]"}]}"#;
        let e = err(text);
        assert!(
            e.starts_with(&format!(
                "{}: resources[0].name: '[variables('a')]': variables('a') refers to itself",
                place_of(text, "\"[variables('a')]\"", 1)
            )),
            "{e}"
        );
        let text = r#"{"resources": [{"type": "Microsoft.Network/networkSecurityGroups", "name": "n", "properties": {"copy": [{"name": "securityRules", "count": 1, "input": {"name": "[concat('r', copyIndex('other'))]"}}]}}]}"#;
        let e = err(text);
        assert!(
            e.starts_with(&format!(
                "{}: resources[0].properties.copy[0].input.name",
                place_of(text, "\"[concat", 0)
            )),
            "{e}"
        );
        let text = r#"{"resources": [{"condition": "[reference('x').enabled]", "type": "Microsoft.Network/applicationSecurityGroups", "name": "a"}]}"#;
        let e = err(text);
        assert!(
            e.starts_with(&format!("{}: resources[0].condition", place_of(text, "\"[reference", 0)))
                && e.contains("deployment"),
            "{e}"
        );
        assert!(err("42").starts_with("t.json:1:1: (root): '42'"));
        assert!(err("\n  [42]").starts_with("t.json:2:4: [0]: '42': expected a resource object"));
    }

    #[test]
    fn arrays_from_variables_and_parameters_are_read_like_literal_ones() {
        let text = format!(
            r#"{{"parameters": {{"prefixes": {{"type": "array", "defaultValue": ["10.0.0.0/16"]}},
                              "subnets": {{"type": "array", "defaultValue": [{{"name": "app", "properties": {{"addressPrefix": "10.0.1.0/24"}}}}]}}}},
              "variables": {{"rules": [{{"name": "https", "properties": {RULE}}}]}},
              "resources": [
                {{"type": "Microsoft.Network/networkSecurityGroups", "name": "n", "properties": {{"securityRules": "[variables('rules')]"}}}},
                {{"type": "Microsoft.Network/virtualNetworks", "name": "v",
                  "properties": {{"addressSpace": {{"addressPrefixes": "[parameters('prefixes')]"}}, "subnets": "[parameters('subnets')]"}}}}]}}"#
        );
        let (i, ron) = ok(&text);
        assert_eq!(i.scenario.vnets[0].subnets.len(), 1, "{ron}");
        assert!(ron.contains(r#"Subnet(name: "app", prefix: "10.0.1.0/24")"#), "{ron}");
        assert!(ron.contains(r#"Rule(name: "https", priority: 100"#), "{ron}");
        assert!(warnings(&i).is_empty(), "{}", warnings(&i));
        // Any expression that makes an array: ARM's idiom for a base list plus additions.
        let extra = RULE.replace(r#""priority": 100"#, r#""priority": 200"#).replace("443", "80");
        let joined = text
            .replace(r#""[variables('rules')]""#, r#""[concat(variables('rules'), variables('more'))]""#)
            .replace(
                r#""variables": {"#,
                &format!(r#""variables": {{"more": [{{"name": "http", "properties": {extra}}}],"#),
            );
        let (_, ron) = ok(&joined);
        assert!(
            ron.contains(r#"Rule(name: "https", priority: 100"#)
                && ron.contains(r#"Rule(name: "http", priority: 200"#),
            "{ron}"
        );
        // An error inside the made array names the item and points at the expression.
        let bad = text.replace(r#""priority": 100"#, r#""priority": 99"#);
        assert_eq!(
            err(&bad),
            format!(
                "{}: resources[0].properties.securityRules[0].properties.priority: '99': security rule 'https': a rule's priority is an integer 100-4096 (lower is evaluated first)",
                place_of(&bad, "\"[variables('rules')]\"", 0)
            )
        );
        // An expression that makes a string stays a string, read (and reported) where it is used.
        let text = r#"{"variables": {"s": "10.0.1.0/24"}, "resources": [{"type": "Microsoft.Network/virtualNetworks", "name": "v",
            "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, "subnets": "[variables('s')]"}}]}"#;
        let e = err(text);
        assert!(
            e.ends_with(
                r#"resources[0].properties.subnets: '"[variables('s')]"': expected a list of subnets"#
            ),
            "{e}"
        );
        // A list variable that refers to itself reports that, not the shape.
        let text = text.replace(r#""s": "10.0.1.0/24""#, r#""s": ["[variables('s')]"]"#);
        let e = err(&text);
        assert!(e.ends_with("variables('s') refers to itself: variables('s') -> variables('s')"), "{e}");
    }

    #[test]
    fn a_value_an_expression_makes_is_placed_at_the_expression() {
        let rule = RULE.replace(
            r#""destinationPortRange": "443""#,
            r#""destinationPortRanges": "[variables('ports')]""#,
        );
        let text = format!(
            r#"{{"variables": {{"ports": ["443", "70000"]}},
              "resources": [{{"type": "Microsoft.Network/networkSecurityGroups", "name": "n",
                "properties": {{"securityRules": [{{"name": "r", "properties": {rule}}}]}}}}]}}"#
        );
        let e = err(&text);
        assert_eq!(
            e,
            format!(
                "{}: resources[0].properties.securityRules[0].properties.destinationPortRanges[1]: '70000': '70000' is not a port range: a port must be at most 65535 (valid: '*', a port 0-65535, or a range like '1000-2000')",
                place_of(&text, "\"[variables('ports')]\"", 0)
            )
        );
    }

    #[test]
    fn values_made_by_copy_loops_are_placed_at_the_template_that_wrote_them() {
        // A property copy loop: the rule the loop makes is placed in the loop's input, not in a
        // literal `securityRules` array of the same name, which the loop replaces.
        let text = r#"{"resources": [{"type": "Microsoft.Network/networkSecurityGroups", "name": "n", "properties": {
            "securityRules": [{"name": "literal", "properties": {"protocol": "Tcp"}}],
            "copy": [{"name": "securityRules", "count": 2, "input": {
                "name": "[concat('r', copyIndex('securityRules'))]",
                "properties": {"priority": "[add(100, copyIndex('securityRules'))]", "direction": "Inbound", "access": "Allow", "protocol": "Foo"}}}]}}]}"#;
        let e = err(text);
        assert!(
            e.starts_with(&format!(
                "{}: resources[0].properties.securityRules[0].properties.protocol: 'Foo': valid: Tcp",
                place_of(text, "\"Foo\"", 0)
            )),
            "{e}"
        );
        // A rule with no priority: placed at the input's properties object that lacks it.
        let text = text.replace("\"priority\": \"[add(100, copyIndex('securityRules'))]\", ", "");
        let e = err(&text);
        assert!(
            e.starts_with(&format!(
                "{}: resources[0].properties.securityRules[0].properties.priority: security rule 'r0' has no 'priority'",
                place_of(&text, "{\"direction\"", 0)
            )),
            "{e}"
        );
        // A resource copy loop: every iteration is placed at the one template.
        let text = r#"{"resources": [{"type": "Microsoft.Network/networkSecurityGroups", "name": "[concat('n', copyIndex())]",
            "copy": {"name": "nsgs", "count": 2},
            "properties": {"securityRules": [{"name": "r", "properties": {"priority": 100, "direction": "Sideways", "access": "Allow", "protocol": "Tcp"}}]}}]}"#;
        let e = err(text);
        assert!(
            e.starts_with(&format!(
                "{}: resources[0](copyIndex=0).properties.securityRules[0].properties.direction: 'Sideways'",
                place_of(text, "\"Sideways\"", 0)
            )),
            "{e}"
        );
    }

    #[test]
    fn warnings_and_origins_carry_line_and_column() {
        let text = "{\"resources\": [\n  {\"type\": \"Microsoft.Network/networkSecurityGroups\", \"name\": \"n\", \"properties\": {\"odd.key\": {\"x\": 1}, \"securityRules\": []}},\n  {\"type\": \"Microsoft.Storage/storageAccounts\", \"name\": \"s\"}\n]}";
        let (i, _) = ok(text);
        let w = warnings(&i);
        // A key with a dot is found as the key it is.
        assert!(
            w.contains(&format!(
                "{}: resources[0].properties.odd.key: property 'odd.key' of microsoft.network/networksecuritygroups is not modelled",
                place_of(text, "{\"x\"", 0)
            )),
            "{w}"
        );
        assert!(
            w.contains(
                "t.json:3:3: resources[1]: resource type 'Microsoft.Storage/storageAccounts' is not imported"
            ),
            "{w}"
        );
        let o = i.origin_of("nsgs[0]").expect("an origin");
        assert_eq!(o.position, Some(Position { line: 2, column: 82 }), "{o:?}");
        assert_eq!(&text.lines().nth(1).expect("line 2")[81..82], "{");
        // With a byte order mark, columns start after it (as serde_json's do).
        let e = err("\u{feff}[42]");
        assert!(e.starts_with("t.json:1:2: [0]: '42': expected a resource object"), "{e}");
        let e = err("\u{feff}[{\"type\": \"Microsoft.Network/networkSecurityGroups\", \"name\": []}]");
        assert!(e.starts_with("t.json:1:62: [0].name: '[]'"), "{e}");
    }

    #[test]
    fn service_tags_compare_without_case_and_unknown_ones_become_placeholders() {
        let rules = [
            "Storage.WestEurope",
            "sql.westeurope",
            "AzureKeyVault",
            "AzureFrontDoor.Backend",
            "internet",
            "STORAGE",
            "storage.westeurope",
        ]
        .iter()
        .enumerate()
        .map(|(k, tag)| {
            rule_with("destinationAddressPrefix", &format!("{tag:?}"))
                .replace("\"name\": \"r\"", &format!("\"name\": \"r{k}\""))
                .replace("\"priority\":100", &format!("\"priority\":{}", 100 + k))
        })
        .collect::<Vec<_>>()
        .join(",");
        let (i, ron) = ok(&nsg_with(&rules));
        let destinations: Vec<&str> =
            i.scenario.nsgs[0].rules.iter().filter_map(|r| r.destination.as_deref()).collect();
        assert_eq!(
            destinations,
            [
                "Storage.WestEurope",
                "sql.westeurope",
                "AzureKeyVault",
                "AzureFrontDoor.Backend",
                "Internet",
                "Storage",
                "Storage.WestEurope"
            ]
        );
        let tags: Vec<&String> = i.scenario.service_tags.keys().collect();
        assert_eq!(tags, ["AzureFrontDoor.Backend", "AzureKeyVault", "Storage.WestEurope", "sql.westeurope"]);
        assert!(ron.contains("// Placeholder: fill in this tag's prefixes"), "{ron}");
        assert!(warnings(&i).contains("service tag 'AzureKeyVault' has no members in nsgsim"));
    }

    #[test]
    fn columns_count_characters_after_non_ascii_text() {
        // The NSG's name, before the bad value on the same line, has 2-byte characters: the
        // column is the character column, as in syntax errors and scenario errors.
        let text =
            nsg_with(&rule_with("priority", "5000")).replace("\"name\": \"n\"", "\"name\": \"réseau-ü\"");
        let e = err(&text);
        let at = place_of(&text, "5000", 0);
        assert!(e.starts_with(&format!("{at}: resources[0]")), "{e}");
        let bytes = text.find("5000").expect("there") + 1;
        assert_ne!(at, format!("t.json:1:{bytes}"), "the byte column differs: the test would prove nothing");
    }

    #[test]
    fn rule_values_are_checked_at_their_json_path() {
        let at = |field: &str, value: &str| err(&nsg_with(&rule_with(field, value)));
        let e = at("destinationPortRanges", r#"["80", "443", "70000"]"#);
        let text = nsg_with(&rule_with("destinationPortRanges", r#"["80", "443", "70000"]"#));
        assert!(
            e.starts_with(&format!(
                "{}: resources[0].properties.securityRules[0].properties.destinationPortRanges[2]: '70000'",
                place_of(&text, "\"70000\"", 0)
            )),
            "{e}"
        );
        let e = at("destinationPortRange", r#""443-80""#);
        assert!(e.contains("securityRules[0].properties.destinationPortRange: '443-80'"), "{e}");
        // An ASG field that is not a list used to be ignored, which widened the rule to any
        // source; now it is an error.
        let e = at("sourceApplicationSecurityGroups", r#""web""#);
        assert!(
            e.ends_with(r#"securityRules[0].properties.sourceApplicationSecurityGroups: '"web"': expected a list of application security groups"#),
            "{e}"
        );
        let e = at("sourceAddressPrefixes", r#"["10.0.0.0/8", "10.1.2.3/16"]"#);
        assert!(e.contains("properties.sourceAddressPrefixes[1]: '10.1.2.3/16': host bits are set"), "{e}");
        let e = at("priority", "5000");
        let text = nsg_with(&rule_with("priority", "5000"));
        assert!(
            e.starts_with(&format!("{}: resources[0]", place_of(&text, "5000", 0)))
                && e.contains("properties.priority: '5000'")
                && e.contains("100-4096"),
            "{e}"
        );
        let e = at("sourceAddressPrefix", r#""10.0.0.0/8,Internet""#);
        assert!(
            e.contains("properties.sourceAddressPrefix: 'Internet'") && e.contains("cannot be combined"),
            "{e}"
        );
        let e = at("sourceAddressPrefix", r#""10.0.0.300""#);
        assert!(e.contains("properties.sourceAddressPrefix: '10.0.0.300'"), "{e}");
        let bad_name = rule_with("priority", "100").replace("\"name\": \"r\"", "\"name\": \"-r\"");
        let e = err(&nsg_with(&bad_name));
        assert!(e.contains("securityRules[0].name: '-r': rule name '-r' is invalid"), "{e}");
        let two = format!(
            "{},{}",
            rule_with("priority", "100"),
            rule_with("priority", "200").replace("\"r\"", "\"R\"")
        );
        let e = err(&nsg_with(&two));
        let first = place_of(&nsg_with(&two), "{\"name\": \"r\"", 0);
        assert!(
            e.starts_with(&format!(
                "{}: resources[0].properties.securityRules[1].name: 'R': rule name 'R' is used twice",
                place_of(&nsg_with(&two), "\"R\"", 0)
            )) && e.contains(&format!("first at {first}: resources[0].properties.securityRules[0]")),
            "{e}"
        );
        let clash = format!(
            "{},{}",
            rule_with("priority", "100"),
            rule_with("priority", "100").replace("\"r\"", "\"s\"")
        );
        let e = err(&nsg_with(&clash));
        let rules = nsg_with(&clash);
        let expected = format!(
            "{}: resources[0].properties.securityRules[1].properties.priority: '100': security rules 'r' ({}: resources[0].properties.securityRules[0]) and 's'",
            place_of(&rules, "100", 1),
            place_of(&rules, "{\"name\": \"r\"", 0)
        );
        assert!(e.starts_with(&expected) && e.contains("SecurityRuleConflict"), "{e}");
    }

    #[test]
    fn network_values_are_checked_at_their_json_path() {
        let vnet = |space: &str, subnet: &str, ip: &str| {
            format!(
                r#"{{"resources": [{{"type": "Microsoft.Network/virtualNetworks", "name": "v", "properties": {{"addressSpace": {{"addressPrefixes": ["{space}"]}},
                    "subnets": [{{"name": "s", "properties": {{"addressPrefix": "{subnet}"}}}}]}}}},
                  {{"type": "Microsoft.Network/networkInterfaces", "name": "nic", "properties": {{"ipConfigurations": [{{"name": "c", "properties": {{
                    "privateIPAddress": "{ip}", "subnet": {{"id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'v', 's')]"}}}}}}]}}}}]}}"#
            )
        };
        ok(&vnet("10.0.0.0/16", "10.0.1.0/24", "10.0.1.4"));
        let e = err(&vnet("10.0.0.0/33", "10.0.1.0/24", "10.0.1.4"));
        assert!(e.contains("resources[0].properties.addressSpace.addressPrefixes[0]: '10.0.0.0/33'"), "{e}");
        let e = err(&vnet("10.0.0.0/16", "10.0.1.1/24", "10.0.1.4"));
        assert!(
            e.contains("resources[0].properties.subnets[0].properties.addressPrefix: '10.0.1.1/24'"),
            "{e}"
        );
        let e = err(&vnet("10.0.0.0/16", "10.0.1.0/24", "10.0.2.4"));
        assert!(
            e.contains("resources[1].properties.ipConfigurations[0].properties.privateIPAddress: '10.0.2.4'")
                && e.contains("outside its subnet"),
            "{e}"
        );
    }

    #[test]
    fn scenario_fields_map_back_to_their_json() {
        let (i, _) = ok(&nsg_with(&rule_with("priority", "100")));
        let o = i.origin_of("nsgs[0].rules[0].destination_ports").expect("an origin");
        assert_eq!(o.path, "resources[0].properties.securityRules[0].properties");
        assert_eq!(i.origin_of("nsgs[0]").map(|o| o.path.as_str()), Some("resources[0].properties"));
        assert!(i.origin_of("nsgs[10]").is_none());
    }

    #[test]
    fn unmodelled_properties_of_vms_and_bastions_are_reported() {
        let text = r#"[{"type": "Microsoft.Compute/virtualMachines", "name": "vm", "properties": {"hardwareProfile": {}, "spotMagic": 1,
                        "networkProfile": {"networkInterfaceConfigurations": []}}},
                       {"type": "Microsoft.Network/bastionHosts", "name": "b", "properties": {"virtualNetwork": {"id": "x"}, "ipConfigurations": [
                        {"name": "c", "properties": {"subnet": {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v/subnets/AzureBastionSubnet"}}}]}}]"#;
        let imported = import(&[("t.json", text)]);
        // The bastion's subnet is not in the input: an error, but the warnings come first.
        assert!(imported.is_err());
        let mut importer = Importer::new(&ImportOptions::default());
        importer.add_file(Path::new("t.json"), text).expect("reads");
        let notes: Vec<String> = importer.ignored.keys().map(|(k, p)| format!("{k}.{p}")).collect();
        assert_eq!(
            notes,
            [
                "microsoft.compute/virtualmachines.spotMagic",
                "microsoft.network/bastionhosts.virtualNetwork",
                "networkProfile.networkInterfaceConfigurations"
            ]
        );
    }
}
