//! Azure's flow-log JSON, as Network Watcher writes it to storage (Microsoft Learn, "Flow logging
//! for network security groups" and "Virtual network flow logs", section "Log format").
//!
//! NSG flow logs: `records[].properties.flows[].flows[].flowTuples[]`, the NSG in the record's
//! `resourceId`, the rule in `properties.flows[].rule`. A version 1 tuple is
//! `time,src,dst,sport,dport,T|U,I|O,A|D`; version 2 adds the flow state `B|C|E` and four counts.
//!
//! Virtual network flow logs: `records[].flowRecords.flows[].flowGroups[].flowTuples[]`, the
//! NSG's resource GUID in `flows[].aclID`, the rule in `flowGroups[].rule`. A tuple is
//! `time,src,dst,sport,dport,protocol number,I|O,B|C|E|D,encryption,` and four counts; the
//! decision is the state: `D` denied, anything else allowed.
//!
//! Counts and encryption are not used. Times are Unix seconds; a virtual network flow log time
//! above 10^11 is taken as milliseconds (Microsoft's sample record writes milliseconds, its
//! bandwidth example seconds; 10^11 seconds is the year 5138).

use std::net::IpAddr;
use std::path::Path;

use serde_json::{Map, Value};

use super::{
    FlowLogError, FlowRecord, FlowState, Input, InputFormat, Logged, LoggedAt, LoggedRule, unix_instant,
};
use crate::import::json_position;
use crate::net::{Flow, IpProtocol};
use crate::nsg::{Access, Direction};

/// The category of NSG flow-log records.
const NSG_CATEGORY: &str = "NetworkSecurityGroupFlowEvent";
/// The category of virtual network flow-log records.
const VNET_CATEGORY: &str = "FlowLogFlowEvent";
/// Times above this are milliseconds (virtual network flow logs).
const MILLISECONDS_FROM: i64 = 100_000_000_000;

/// Parses a flow-log JSON document.
pub(super) fn parse(path: &Path, text: &str) -> Result<Input, FlowLogError> {
    let root: Value = serde_json::from_str(text).map_err(|e| {
        let (at, message) = crate::import::json_position::serde_error(text, &e);
        FlowLogError::At {
            file: path.to_path_buf(),
            line: at.line,
            column: at.column,
            message: format!("not valid JSON: {message}"),
        }
    })?;
    let p = Parser { path, text };
    let records = p.object(&root, "")?;
    let (records_key, records) = p.field(records, "", "records")?;
    let Some(records) = records.as_array() else {
        return Err(
            p.error(records_key, format!("{}: expected an array of flow-log records", shown(records)))
        );
    };
    let mut out = Vec::new();
    let mut nsg_version = None;
    let mut vnet = false;
    for (i, record) in records.iter().enumerate() {
        let at = format!("{records_key}[{i}]");
        let obj = p.object(record, &at)?;
        if obj.contains_key("flowRecords") {
            p.category(obj, &at, VNET_CATEGORY)?;
            p.vnet_record(obj, &at, &mut out)?;
            vnet = true;
        } else if obj.contains_key("properties") {
            p.category(obj, &at, NSG_CATEGORY)?;
            let version = p.nsg_record(obj, &at, &mut out)?;
            nsg_version = nsg_version.max(Some(version));
        } else {
            return Err(p.error(
                &at,
                "neither an NSG flow-log record (with properties.flows) nor a virtual network flow-log record (with flowRecords.flows)".into(),
            ));
        }
    }
    let format = match (nsg_version, vnet) {
        (Some(version), _) => InputFormat::NsgFlowLog { version },
        (None, true) => InputFormat::VnetFlowLog,
        (None, false) => InputFormat::NsgFlowLog { version: 2 },
    };
    Ok(Input { file: path.to_path_buf(), format, records: out })
}

/// A value as it appears in a message: strings quoted, long values cut.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 { format!("{}…", text.chars().take(60).collect::<String>()) } else { text }
}

/// Which flow log a tuple comes from.
#[derive(Clone, Copy)]
enum Kind {
    Nsg { version: u8 },
    Vnet,
}

struct Parser<'a> {
    path: &'a Path,
    /// The text parsed, to place errors (scanned again only when there is one).
    text: &'a str,
}

/// `at.name`, or `name` at the top.
fn member(at: &str, name: &str) -> String {
    if at.is_empty() { name.to_string() } else { format!("{at}.{name}") }
}

impl Parser<'_> {
    fn error(&self, at: &str, message: String) -> FlowLogError {
        FlowLogError::Field {
            file: self.path.to_path_buf(),
            position: json_position::locate(self.text, at),
            path: if at.is_empty() { "(document)".into() } else { at.to_string() },
            message,
        }
    }

    fn object<'v>(&self, value: &'v Value, at: &str) -> Result<&'v Map<String, Value>, FlowLogError> {
        value.as_object().ok_or_else(|| self.error(at, format!("{}: expected an object", shown(value))))
    }

    /// A member of `obj`, found without regard to case (Microsoft's field list writes
    /// `resourceid`, its samples `resourceId`), with its key as the file spells it (which paths
    /// use, so that they name the file's field and can be found in its text).
    fn field<'v>(
        &self,
        obj: &'v Map<String, Value>,
        at: &str,
        name: &str,
    ) -> Result<(&'v str, &'v Value), FlowLogError> {
        obj.get_key_value(name)
            .or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
            .map(|(k, v)| (k.as_str(), v))
            .ok_or_else(|| self.error(&member(at, name), format!("missing; a flow log has {name} here")))
    }

    fn array<'v>(
        &self,
        obj: &'v Map<String, Value>,
        at: &str,
        name: &str,
    ) -> Result<(String, &'v [Value]), FlowLogError> {
        let (key, value) = self.field(obj, at, name)?;
        let path = member(at, key);
        match value.as_array() {
            Some(items) => Ok((path, items)),
            None => Err(self.error(&path, format!("{}: expected an array", shown(value)))),
        }
    }

    /// A string member and its path.
    fn string<'v>(
        &self,
        obj: &'v Map<String, Value>,
        at: &str,
        name: &str,
    ) -> Result<(String, &'v str), FlowLogError> {
        let (key, value) = self.field(obj, at, name)?;
        let path = member(at, key);
        match value.as_str() {
            Some(text) => Ok((path, text)),
            None => Err(self.error(&path, format!("{}: expected a string", shown(value)))),
        }
    }

    fn category(&self, obj: &Map<String, Value>, at: &str, expected: &str) -> Result<(), FlowLogError> {
        match obj.get("category") {
            None => Ok(()),
            Some(Value::String(c)) if c.eq_ignore_ascii_case(expected) => Ok(()),
            Some(other) => Err(self.error(
                &format!("{at}.category"),
                format!("{}: valid for this record's shape: \"{expected}\"", shown(other)),
            )),
        }
    }

    /// One NSG flow-log record; returns its version.
    fn nsg_record(
        &self,
        obj: &Map<String, Value>,
        at: &str,
        out: &mut Vec<FlowRecord>,
    ) -> Result<u8, FlowLogError> {
        let (resource_at, resource) = self.string(obj, at, "resourceId")?;
        let nsg = nsg_name(resource).ok_or_else(|| {
            self.error(
                &resource_at,
                format!("'{resource}': expected an NSG resource ID ending in /NETWORKSECURITYGROUPS/NAME"),
            )
        })?;
        let (props_key, props) = self.field(obj, at, "properties")?;
        let props_at = member(at, props_key);
        let props = self.object(props, &props_at)?;
        let (version_key, version_value) = self.field(props, &props_at, "Version")?;
        let version = match version_value.as_u64() {
            Some(1) => 1,
            Some(2) => 2,
            _ => {
                return Err(self.error(
                    &member(&props_at, version_key),
                    format!("{}: valid: 1 or 2", shown(version_value)),
                ));
            }
        };
        let (groups_at, groups) = self.array(props, &props_at, "flows")?;
        for (i, group) in groups.iter().enumerate() {
            let group_at = format!("{groups_at}[{i}]");
            let group = self.object(group, &group_at)?;
            let rule = LoggedRule::parse(self.string(group, &group_at, "rule")?.1);
            let (macs_at, macs) = self.array(group, &group_at, "flows")?;
            for (j, per_mac) in macs.iter().enumerate() {
                let mac_at = format!("{macs_at}[{j}]");
                let per_mac = self.object(per_mac, &mac_at)?;
                let at_nsg = LoggedAt::Nsg(nsg.to_string());
                self.tuples(per_mac, &mac_at, Kind::Nsg { version }, &at_nsg, &rule, out)?;
            }
        }
        Ok(version)
    }

    /// One virtual network flow-log record.
    fn vnet_record(
        &self,
        obj: &Map<String, Value>,
        at: &str,
        out: &mut Vec<FlowRecord>,
    ) -> Result<(), FlowLogError> {
        let (records_key, records) = self.field(obj, at, "flowRecords")?;
        let records_at = member(at, records_key);
        let records = self.object(records, &records_at)?;
        let (acls_at, acls) = self.array(records, &records_at, "flows")?;
        for (i, acl) in acls.iter().enumerate() {
            let acl_at = format!("{acls_at}[{i}]");
            let acl = self.object(acl, &acl_at)?;
            let acl_id = LoggedAt::Acl(self.string(acl, &acl_at, "aclID")?.1.to_string());
            let (groups_at, groups) = self.array(acl, &acl_at, "flowGroups")?;
            for (j, group) in groups.iter().enumerate() {
                let group_at = format!("{groups_at}[{j}]");
                let group = self.object(group, &group_at)?;
                let rule = LoggedRule::parse(self.string(group, &group_at, "rule")?.1);
                self.tuples(group, &group_at, Kind::Vnet, &acl_id, &rule, out)?;
            }
        }
        Ok(())
    }

    fn tuples(
        &self,
        obj: &Map<String, Value>,
        at: &str,
        kind: Kind,
        logged_at: &LoggedAt,
        rule: &LoggedRule,
        out: &mut Vec<FlowRecord>,
    ) -> Result<(), FlowLogError> {
        let (tuples_at, tuples) = self.array(obj, at, "flowTuples")?;
        for (k, tuple) in tuples.iter().enumerate() {
            let tuple_at = format!("{tuples_at}[{k}]");
            let Some(text) = tuple.as_str() else {
                return Err(
                    self.error(&tuple_at, format!("{}: expected a comma-separated string", shown(tuple)))
                );
            };
            let record = parse_tuple(text, kind, logged_at, rule)
                .map_err(|m| self.error(&tuple_at, format!("{m} in \"{text}\"")))?;
            out.push(FlowRecord { origin: format!("{}: {tuple_at}", self.path.display()), ..record });
        }
        Ok(())
    }
}

/// The NSG name in a resource ID `.../NETWORKSECURITYGROUPS/NAME` (any case).
fn nsg_name(resource_id: &str) -> Option<&str> {
    let mut parts = resource_id.split('/');
    parts.by_ref().find(|p| p.eq_ignore_ascii_case("networkSecurityGroups"))?;
    parts.next().filter(|n| !n.is_empty())
}

/// The names of tuple fields, for messages (1-based positions).
fn field_name(index: usize, kind: Kind) -> &'static str {
    match (index, kind) {
        (0, _) => "time",
        (1, _) => "source IP",
        (2, _) => "destination IP",
        (3, _) => "source port",
        (4, _) => "destination port",
        (5, _) => "protocol",
        (6, _) => "direction",
        (7, Kind::Nsg { .. }) => "decision",
        (7, Kind::Vnet) => "flow state",
        (8, Kind::Nsg { .. }) => "flow state",
        (8, Kind::Vnet) => "encryption",
        _ => "count",
    }
}

/// Parses one tuple; the error says which field is wrong, the value, and what is valid.
fn parse_tuple(
    text: &str,
    kind: Kind,
    logged_at: &LoggedAt,
    rule: &LoggedRule,
) -> Result<FlowRecord, String> {
    let fields: Vec<&str> = text.split(',').map(str::trim).collect();
    let expected = match kind {
        Kind::Nsg { version: 1 } => 8,
        Kind::Nsg { .. } | Kind::Vnet => 13,
    };
    if fields.len() != expected {
        let what = match kind {
            Kind::Nsg { version: 1 } => {
                "a version 1 NSG flow tuple has 8 fields (time,src,dst,sport,dport,T|U,I|O,A|D)"
            }
            Kind::Nsg { .. } => {
                "a version 2 NSG flow tuple has 13 fields (time,src,dst,sport,dport,T|U,I|O,A|D,B|C|E, then 4 counts that may be empty)"
            }
            Kind::Vnet => {
                "a virtual network flow tuple has 13 fields (time,src,dst,sport,dport,protocol number,I|O,B|C|E|D,encryption, then 4 counts)"
            }
        };
        return Err(format!("{} fields; {what}", fields.len()));
    }
    let bad = |i: usize, valid: &str| {
        format!("field {} ({}) '{}': valid: {valid}", i + 1, field_name(i, kind), fields[i])
    };
    let mut time: i64 = fields[0].parse().map_err(|_| bad(0, "a Unix time in seconds"))?;
    if matches!(kind, Kind::Vnet) && time >= MILLISECONDS_FROM {
        time /= 1000;
    }
    let time = unix_instant(time).ok_or_else(|| bad(0, "a Unix time within the years -9999..9999"))?;
    let src: IpAddr = fields[1].parse().map_err(|_| bad(1, "an IPv4 or IPv6 address"))?;
    let dst: IpAddr = fields[2].parse().map_err(|_| bad(2, "an IPv4 or IPv6 address"))?;
    let protocol = match kind {
        Kind::Nsg { .. } => match fields[5] {
            "T" | "t" => IpProtocol::TCP,
            "U" | "u" => IpProtocol::UDP,
            _ => return Err(bad(5, "T (TCP) or U (UDP)")),
        },
        Kind::Vnet => IpProtocol(
            fields[5]
                .parse()
                .map_err(|_| bad(5, "an IANA protocol number 0-255, e.g. 6 (TCP), 17 (UDP), 1 (ICMP)"))?,
        ),
    };
    let port = |i: usize| -> Result<u16, String> {
        if fields[i].is_empty() && !protocol.has_ports() {
            return Ok(0);
        }
        fields[i].parse().map_err(|_| bad(i, "a port 0-65535"))
    };
    let (src_port, dst_port) = (port(3)?, port(4)?);
    let direction = match fields[6] {
        "I" | "i" => Direction::Inbound,
        "O" | "o" => Direction::Outbound,
        _ => return Err(bad(6, "I (inbound) or O (outbound)")),
    };
    let state_of = |i: usize, valid: &str| -> Result<FlowState, String> {
        match fields[i] {
            "B" | "b" => Ok(FlowState::Begin),
            "C" | "c" => Ok(FlowState::Continuing),
            "E" | "e" => Ok(FlowState::End),
            "D" | "d" if matches!(kind, Kind::Vnet) => Ok(FlowState::Denied),
            _ => Err(bad(i, valid)),
        }
    };
    let (access, state) = match kind {
        Kind::Nsg { version } => {
            let access = match fields[7] {
                "A" | "a" => Access::Allow,
                "D" | "d" => Access::Deny,
                _ => return Err(bad(7, "A (allowed) or D (denied)")),
            };
            let state =
                if version >= 2 { Some(state_of(8, "B (begin), C (continuing) or E (end)")?) } else { None };
            (access, state)
        }
        Kind::Vnet => {
            let state = state_of(7, "B (begin), C (continuing), E (end) or D (denied)")?;
            let access = if state == FlowState::Denied { Access::Deny } else { Access::Allow };
            (access, Some(state))
        }
    };
    Ok(FlowRecord {
        origin: String::new(),
        flow: Flow::new(protocol, src, src_port, dst, dst_port),
        time: Some(time),
        at: None,
        logged: Some(Logged { at: logged_at.clone(), direction, access, rule: rule.clone(), state }),
        expected: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Microsoft's version 2 sample (abridged): one record, two rules.
    const NSG_V2: &str = r#"{
 "records": [
  {
   "time": "2018-11-13T12:00:35.3899262Z",
   "systemId": "66aa66aa-bb77-cc88-dd99-00ee00ee00ee",
   "category": "NetworkSecurityGroupFlowEvent",
   "resourceId": "/SUBSCRIPTIONS/AAAA0A0A-BB1B-CC2C-DD3D-EEEEEE4E4E4E/RESOURCEGROUPS/FABRIKAMRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/FABRIAKMVM1-NSG",
   "operationName": "NetworkSecurityGroupFlowEvents",
   "properties": {
    "Version": 2,
    "flows": [
     {
      "rule": "DefaultRule_DenyAllInBound",
      "flows": [
       {
        "mac": "000D3AF87856",
        "flowTuples": [
         "1542110402,192.0.2.190,10.5.16.4,28746,443,U,I,D,B,,,,",
         "1542110424,203.0.113.10,10.5.16.4,56509,59336,T,I,D,B,,,,"
        ]
       }
      ]
     },
     {
      "rule": "DefaultRule_AllowInternetOutBound",
      "flows": [
       {
        "mac": "000D3AF87856",
        "flowTuples": [
         "1542110377,10.5.16.4,203.0.113.118,59831,443,T,O,A,B,,,,",
         "1542110379,10.5.16.4,203.0.113.117,59932,443,T,O,A,E,1,66,1,66"
        ]
       }
      ]
     }
    ]
   }
  }
 ]
}"#;

    /// Microsoft's version 1 sample (abridged).
    const NSG_V1: &str = r#"{"records": [{"time": "2017-02-16T22:00:32.8950000Z",
 "category": "NetworkSecurityGroupFlowEvent",
 "resourceId": "/SUBSCRIPTIONS/X/RESOURCEGROUPS/FABRIKAMRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/FABRIAKMVM1-NSG",
 "operationName": "NetworkSecurityGroupFlowEvents",
 "properties": {"Version": 1, "flows": [
   {"rule": "UserRule_default-allow-rdp", "flows": [{"mac": "000D3AF8801A", "flowTuples": [
     "1487282370,192.0.2.17,10.1.0.4,61771,3389,T,I,A",
     "1487282393,203.0.113.34,10.1.0.4,58596,3389,T,I,A"]}]}]}}]}"#;

    /// Microsoft's virtual network flow-log sample (abridged).
    const VNET: &str = r#"{"records": [{"time": "2022-09-14T09:00:52.5625085Z", "flowLogVersion": 4,
 "macAddress": "00224871C205", "category": "FlowLogFlowEvent",
 "targetResourceID": "/subscriptions/0/resourceGroups/myResourceGroup/providers/Microsoft.Network/virtualNetworks/myVNet",
 "operationName": "FlowLogFlowEvent",
 "flowRecords": {"flows": [
   {"aclID": "00000000-1234-abcd-ef00-c1c2c3c4c5c6", "flowGroups": [
     {"rule": "DefaultRule_AllowInternetOutBound", "flowTuples": [
       "1663146003599,10.0.0.6,52.239.184.180,23956,443,6,O,B,NX,0,0,0,0",
       "1663146003606,10.0.0.6,52.239.184.180,23956,443,6,O,E,NX,3,767,2,1580"]}]},
   {"aclID": "01020304-abcd-ef00-1234-102030405060", "flowGroups": [
     {"rule": "BlockHighRiskTCPPortsFromInternet", "flowTuples": [
       "1663145998065,101.33.218.153,10.0.0.6,55188,22,6,I,D,NX,0,0,0,0"]}]}]}}]}"#;

    fn parse_str(text: &str) -> Result<Input, FlowLogError> {
        super::parse(Path::new("log.json"), text)
    }

    fn error(text: &str) -> String {
        parse_str(text).expect_err("the input is malformed").to_string()
    }

    #[test]
    fn version_2_tuples_carry_nsg_rule_decision_and_state() {
        let input = parse_str(NSG_V2).expect("Microsoft's sample parses");
        assert_eq!(input.format, InputFormat::NsgFlowLog { version: 2 });
        assert_eq!(input.records.len(), 4);
        let first = &input.records[0];
        assert_eq!(first.flow.protocol, IpProtocol::UDP);
        assert_eq!(first.flow.src.to_string(), "192.0.2.190");
        assert_eq!((first.flow.src_port, first.flow.dst_port), (28746, 443));
        assert_eq!(first.time.map(|t| t.to_string()).as_deref(), Some("2018-11-13T12:00:02Z"));
        let logged = first.logged.as_ref().expect("flow logs carry Azure's decision");
        assert_eq!(logged.at, LoggedAt::Nsg("FABRIAKMVM1-NSG".into()));
        assert_eq!(logged.direction, Direction::Inbound);
        assert_eq!(logged.access, Access::Deny);
        assert_eq!(logged.rule, LoggedRule::Default("DenyAllInBound".into()));
        assert_eq!(logged.state, Some(FlowState::Begin));
        let last = input.records[3].logged.as_ref().expect("logged");
        assert_eq!(
            (last.direction, last.access, last.state),
            (Direction::Outbound, Access::Allow, Some(FlowState::End))
        );
        assert_eq!(
            input.records[3].origin,
            "log.json: records[0].properties.flows[1].flows[0].flowTuples[1]"
        );
    }

    #[test]
    fn version_1_tuples_have_no_state() {
        let input = parse_str(NSG_V1).expect("Microsoft's sample parses");
        assert_eq!(input.format, InputFormat::NsgFlowLog { version: 1 });
        assert_eq!(input.records.len(), 2);
        let logged = input.records[1].logged.as_ref().expect("logged");
        assert_eq!(logged.rule, LoggedRule::User("default-allow-rdp".into()));
        assert_eq!(logged.state, None);
        assert_eq!(input.records[1].flow.dst_port, 3389);
    }

    #[test]
    fn virtual_network_tuples_take_the_decision_from_the_state_and_times_in_milliseconds() {
        let input = parse_str(VNET).expect("Microsoft's sample parses");
        assert_eq!(input.format, InputFormat::VnetFlowLog);
        assert_eq!(input.records.len(), 3);
        let out = input.records[0].logged.as_ref().expect("logged");
        assert_eq!(out.at, LoggedAt::Acl("00000000-1234-abcd-ef00-c1c2c3c4c5c6".into()));
        assert_eq!((out.access, out.state), (Access::Allow, Some(FlowState::Begin)));
        assert_eq!(input.records[0].time.map(|t| t.to_string()).as_deref(), Some("2022-09-14T09:00:03Z"));
        let denied = input.records[2].logged.as_ref().expect("logged");
        assert_eq!((denied.access, denied.state), (Access::Deny, Some(FlowState::Denied)));
        assert_eq!(denied.rule, LoggedRule::Other("BlockHighRiskTCPPortsFromInternet".into()));
        assert_eq!(input.records[2].flow.protocol, IpProtocol::TCP);
    }

    #[test]
    fn json_syntax_errors_have_line_and_column() {
        let text = "{\"records\": [\n  {\"time\": }\n]}";
        let err = error(text);
        assert!(err.starts_with("log.json:2:12: not valid JSON"), "{err}");
    }

    #[test]
    fn a_bad_tuple_field_names_the_path_the_field_the_value_and_what_is_valid() {
        let text = NSG_V2.replace("28746,443,U,I,D,B", "28746,443,X,I,D,B");
        assert_eq!(
            error(&text),
            "log.json:18:10: records[0].properties.flows[0].flows[0].flowTuples[0]: field 6 (protocol) 'X': valid: T (TCP) or U (UDP) in \"1542110402,192.0.2.190,10.5.16.4,28746,443,X,I,D,B,,,,\""
        );
        let text = NSG_V2.replace("203.0.113.118,59831,443,T,O,A,B", "203.0.113.118,59831,443,T,O,A,Q");
        assert!(error(&text).starts_with("log.json:30:10: records[0].properties.flows[1].flows[0].flowTuples[0]: field 9 (flow state) 'Q': valid: B (begin), C (continuing) or E (end)"));
        let text = NSG_V2.replace("10.5.16.4,28746,443", "10.5.16.400,28746,443");
        assert!(
            error(&text).contains("field 3 (destination IP) '10.5.16.400': valid: an IPv4 or IPv6 address")
        );
        let text = NSG_V2.replace("28746,443,U", "28746,70000,U");
        assert!(error(&text).contains("field 5 (destination port) '70000': valid: a port 0-65535"));
        let text = VNET.replace("10.0.0.6,55188,22,6,I,D", "10.0.0.6,55188,22,6,X,D");
        assert!(error(&text).starts_with("log.json:12:8: records[0].flowRecords.flows[1].flowGroups[0].flowTuples[0]: field 7 (direction) 'X': valid: I (inbound) or O (outbound)"));
        let text = VNET.replace("55188,22,6,I", "55188,22,tcp,I");
        assert!(error(&text).contains("field 6 (protocol) 'tcp': valid: an IANA protocol number"));
    }

    #[test]
    fn tuples_with_the_wrong_number_of_fields_say_how_many_are_expected() {
        let text = NSG_V1.replace("61771,3389,T,I,A", "61771,3389,T,I,A,B,,,,");
        assert!(error(&text).contains("flowTuples[0]: 13 fields; a version 1 NSG flow tuple has 8 fields"));
        let text = NSG_V2.replace("28746,443,U,I,D,B,,,,", "28746,443,U,I,D");
        assert!(error(&text).contains("8 fields; a version 2 NSG flow tuple has 13 fields"));
    }

    #[test]
    fn the_shape_of_records_is_checked_with_line_column_and_path() {
        // A missing member is placed at the object that lacks it.
        assert_eq!(error("{\"value\": []}"), "log.json:1:1: records: missing; a flow log has records here");
        assert_eq!(
            error("{\"records\": {}}"),
            "log.json:1:13: records: {}: expected an array of flow-log records"
        );
        assert!(
            error("{\"records\": [{\"time\": 1}]}")
                .starts_with("log.json:1:14: records[0]: neither an NSG flow-log record")
        );
        let text = NSG_V2.replace("\"Version\": 2", "\"Version\": 3");
        assert_eq!(error(&text), "log.json:10:16: records[0].properties.Version: 3: valid: 1 or 2");
        let text = NSG_V2.replace("\"Version\": 2,", "");
        assert_eq!(
            error(&text),
            "log.json:9:18: records[0].properties.Version: missing; a flow log has Version here"
        );
        let text = NSG_V2.replace("NETWORKSECURITYGROUPS/FABRIAKMVM1-NSG", "VIRTUALNETWORKS/X");
        assert!(
            error(&text).starts_with("log.json:7:18: records[0].resourceId: '/SUBSCRIPTIONS/"),
            "{}",
            error(&text)
        );
        assert!(error(&text).contains("expected an NSG resource ID ending in /NETWORKSECURITYGROUPS/NAME"));
        let text = NSG_V2
            .replace("\"category\": \"NetworkSecurityGroupFlowEvent\"", "\"category\": \"FlowLogFlowEvent\"");
        assert_eq!(
            error(&text),
            "log.json:6:16: records[0].category: \"FlowLogFlowEvent\": valid for this record's shape: \"NetworkSecurityGroupFlowEvent\""
        );
        let text = NSG_V2.replacen("\"1542110402,192.0.2.190,10.5.16.4,28746,443,U,I,D,B,,,,\"", "42", 1);
        assert_eq!(
            error(&text),
            "log.json:18:10: records[0].properties.flows[0].flows[0].flowTuples[0]: 42: expected a comma-separated string"
        );
    }

    #[test]
    fn a_field_found_without_regard_to_case_is_named_and_placed_as_the_file_spells_it() {
        let text = NSG_V2
            .replace("\"resourceId\"", "\"resourceid\"")
            .replace("NETWORKSECURITYGROUPS/FABRIAKMVM1-NSG", "VIRTUALNETWORKS/X");
        assert!(
            error(&text).starts_with("log.json:7:18: records[0].resourceid: '/SUBSCRIPTIONS/"),
            "{}",
            error(&text)
        );
        let text = NSG_V2.replace("\"flowTuples\"", "\"FLOWTUPLES\"").replace("28746,443,U", "28746,443,X");
        assert!(
            error(&text).starts_with(
                "log.json:18:10: records[0].properties.flows[0].flows[0].FLOWTUPLES[0]: field 6"
            ),
            "{}",
            error(&text)
        );
    }

    #[test]
    fn a_byte_order_mark_is_not_a_column() {
        // Field errors and syntax errors count the same way: from the character after the mark.
        let err = super::super::parse(Path::new("log.json"), "\u{feff}{\"records\": {}}")
            .expect_err("records is not an array")
            .to_string();
        assert!(err.starts_with("log.json:1:13: records: {}"), "{err}");
        let err = super::super::parse(Path::new("log.json"), "\u{feff}{\"records\": }")
            .expect_err("not JSON")
            .to_string();
        assert!(err.starts_with("log.json:1:13: not valid JSON"), "{err}");
    }

    #[test]
    fn nsg_names_come_from_resource_ids_in_any_case() {
        assert_eq!(
            nsg_name(
                "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/networkSecurityGroups/web-nsg"
            ),
            Some("web-nsg")
        );
        assert_eq!(nsg_name("/A/NETWORKSECURITYGROUPS/WEB-NSG"), Some("WEB-NSG"));
        assert_eq!(nsg_name("/A/NETWORKSECURITYGROUPS/"), None);
        assert_eq!(nsg_name("web-nsg"), None);
    }
}
