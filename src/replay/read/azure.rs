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
//!
//! One record is read at a time from its chunk ([`super::RawChunk`]): its members are found
//! first (so that they may come in any order), then its tuples are read in place. Inside a record
//! the members that a level needs before its tuples (`Version`, `rule`) are read first when the
//! file writes them first, as Network Watcher does; otherwise the tuples are read after them.

use std::borrow::Cow;
use std::path::Path;

use super::json::{Containers, Cursor, Kind as JsonKind, SyntaxError, value_end};
use super::source::shown;
use super::tuple::{Kind, parse_tuple, parse_tuple_raw};
use super::{
    BadInput, BadKind, Catalog, Chunk, FlowLogError, Group, LoggedAt, LoggedRule, Origin, RawChunk, Tuple,
    TupleLog,
};

/// The category of NSG flow-log records.
const NSG_CATEGORY: &str = "NetworkSecurityGroupFlowEvent";
/// The category of virtual network flow-log records.
const VNET_CATEGORY: &str = "FlowLogFlowEvent";

/// Parses the records of a chunk into `chunk`: `records` are their (index, offset) pairs and
/// `containers` their structure at the chunk's offsets, found as they were cut.
pub(super) fn parse(
    raw: &RawChunk,
    (records, containers): (&[(u32, usize)], &Containers),
    records_key: &str,
    catalog: &Catalog,
    name: &Path,
    skip_bad: bool,
    chunk: &mut Chunk,
) -> Result<(), FlowLogError> {
    for (k, &(index, offset)) in records.iter().enumerate() {
        let end = records.get(k + 1).map_or(raw.bytes.len(), |r| r.1);
        let before = (chunk.tuples.len(), chunk.groups.len(), chunk.bad.len());
        let result = match std::str::from_utf8(&raw.bytes[offset..end]) {
            Ok(text) => {
                let mut w = Walker {
                    text,
                    base: offset,
                    raw,
                    name,
                    catalog,
                    chunk: &mut *chunk,
                    skip_bad,
                    index,
                    containers,
                };
                w.record(records_key)
            }
            Err(e) => {
                let p = raw.position(offset + e.valid_up_to());
                Err(FlowLogError::At {
                    file: name.into(),
                    position: p,
                    message: crate::text::not_utf8_message(&raw.bytes[offset..end], e),
                })
            }
        };
        if let Err(error) = result {
            if !skip_bad {
                return Err(error);
            }
            // The whole record goes: drop what was read of it.
            chunk.tuples.truncate(before.0);
            chunk.groups.truncate(before.1);
            chunk.bad.truncate(before.2);
            let ordinal = chunk.ordinal(before.0);
            chunk.bad.push(BadInput { ordinal, error, what: BadKind::Record });
        }
    }
    Ok(())
}

/// A member of an object: its key as written, where the key and the value start.
struct Member<'a> {
    key: Cow<'a, str>,
    value: usize,
}

/// Reads one record.
struct Walker<'a, 'c> {
    /// The record's text (and what follows it in the chunk, up to the next record).
    text: &'a str,
    /// Where `text` starts in the chunk.
    base: usize,
    raw: &'c RawChunk,
    name: &'c Path,
    catalog: &'c Catalog,
    chunk: &'c mut Chunk,
    skip_bad: bool,
    index: u32,
    /// Where the chunk's objects and arrays end (offsets in the chunk).
    containers: &'c Containers,
}

/// `at.name`, or `name` at the top.
fn member(at: &str, name: &str) -> String {
    if at.is_empty() { name.to_string() } else { format!("{at}.{name}") }
}

impl<'a> Walker<'a, '_> {
    fn field_error(&self, pos: usize, path: &str, message: String) -> FlowLogError {
        FlowLogError::Field {
            file: self.name.into(),
            position: Some(self.raw.position(self.base + pos)),
            path: path.to_string(),
            message,
        }
    }

    fn syntax(&self, e: SyntaxError) -> FlowLogError {
        let p = self.raw.position(self.base + e.offset);
        FlowLogError::At {
            file: self.name.into(),
            position: p,
            message: format!("not valid JSON: {}", e.message),
        }
    }

    fn cursor(&self, pos: usize) -> Cursor<'a> {
        Cursor::new(self.text, pos)
    }

    /// The value at `pos` as written, for messages.
    fn shown_at(&self, pos: usize) -> String {
        let mut c = self.cursor(pos);
        match c.skip() {
            Ok(start) => shown(c.text_since(start)),
            Err(_) => shown(&self.text[pos..]),
        }
    }

    /// The members of the object at `pos`; the cursor after it. The values of the members named
    /// in `walked` (the ones the caller walks into, such as the tuples) are only skipped over by
    /// their structure here, to be checked as they are walked; every other value is checked now.
    fn members(
        &self,
        pos: usize,
        path: &str,
        walked: &[&str],
    ) -> Result<(Vec<Member<'a>>, usize), FlowLogError> {
        let mut c = self.cursor(pos);
        if c.kind() != JsonKind::Object {
            let at = c.pos();
            return Err(self.field_error(at, path, format!("{}: expected an object", self.shown_at(at))));
        }
        let mut m = c.members().map_err(|e| self.syntax(e))?;
        let mut out = Vec::new();
        let mut stack = Vec::new();
        while let Some((key, _)) = m.next_key(&mut c).map_err(|e| self.syntax(e))? {
            let value = c.pos();
            if walked.iter().any(|w| key.eq_ignore_ascii_case(w)) {
                if let Some(end) = self.containers.end_of(self.base + value).map(|e| e - self.base) {
                    c = self.cursor(end);
                    out.push(Member { key, value });
                    continue;
                }
                match value_end(&self.text.as_bytes()[value..], &mut stack) {
                    Ok(Some(len)) => c = self.cursor(value + len),
                    Ok(None) => {
                        return Err(self.syntax(SyntaxError {
                            offset: self.text.len(),
                            message: "the record ends inside a value".into(),
                        }));
                    }
                    Err(e) => {
                        return Err(self.syntax(SyntaxError { offset: value + e.offset, message: e.message }));
                    }
                }
            } else {
                c.skip().map_err(|e| self.syntax(e))?;
            }
            out.push(Member { key, value });
        }
        Ok((out, c.pos()))
    }

    /// A member found without regard to case (Microsoft's field list writes `resourceid`, its
    /// samples `resourceId`), preferring the exact spelling and, for a repeated key, the last.
    fn find<'m>(members: &'m [Member<'a>], name: &str) -> Option<&'m Member<'a>> {
        members
            .iter()
            .rev()
            .find(|m| m.key == name)
            .or_else(|| members.iter().find(|m| m.key.eq_ignore_ascii_case(name)))
    }

    fn required<'m>(
        &self,
        members: &'m [Member<'a>],
        object_at: usize,
        path: &str,
        name: &str,
    ) -> Result<&'m Member<'a>, FlowLogError> {
        Self::find(members, name).ok_or_else(|| {
            self.field_error(object_at, &member(path, name), format!("missing; a flow log has {name} here"))
        })
    }

    /// A string member: its text.
    fn string_of(&self, m: &Member<'a>, path: &str) -> Result<Cow<'a, str>, FlowLogError> {
        let mut c = self.cursor(m.value);
        if c.kind() != JsonKind::String {
            return Err(self.field_error(
                m.value,
                &member(path, &m.key),
                format!("{}: expected a string", self.shown_at(m.value)),
            ));
        }
        c.string().map_err(|e| self.syntax(e))
    }

    fn record(&mut self, records_key: &str) -> Result<(), FlowLogError> {
        let at = format!("{records_key}[{}]", self.index);
        let (members, _) = self.members(0, &at, &["properties", "flowRecords"])?;
        let start = {
            let mut c = self.cursor(0);
            c.skip_ws();
            c.pos()
        };
        if let Some(m) = Self::find(&members, "flowRecords") {
            self.category(&members, &at, VNET_CATEGORY)?;
            self.chunk.vnet = true;
            let path = member(&at, &m.key);
            let key = m.key.clone();
            let (inner, _) = self.members(m.value, &path, &["flows"])?;
            let acls = self.required(&inner, m.value, &path, "flows")?;
            let acls_key = acls.key.clone();
            let acls_path = member(&path, &acls.key);
            self.array(acls.value, &acls_path, |w, i, pos| {
                let acl_at = format!("{acls_path}[{i}]");
                let (obj, end) = w.members(pos, &acl_at, &["flowGroups"])?;
                let acl = w.string_of(w.required(&obj, pos, &acl_at, "aclID")?, &acl_at)?;
                let place = LoggedAt::Acl(acl.into_owned());
                let groups = w.required(&obj, pos, &acl_at, "flowGroups")?;
                let groups_path = member(&acl_at, &groups.key);
                let keys = [records_key, &key, &acls_key, &groups.key, "flowTuples"];
                let groups_key = groups.key.clone();
                w.array(groups.value, &groups_path, |w, j, pos| {
                    let group_at = format!("{groups_path}[{j}]");
                    w.rule_group(
                        pos,
                        &group_at,
                        &place,
                        Kind::Vnet,
                        [keys[0], keys[1], keys[2], &groups_key],
                        (i, j),
                    )
                })?;
                Ok(end)
            })
            .map(|_| ())
        } else if let Some(m) = Self::find(&members, "properties") {
            self.category(&members, &at, NSG_CATEGORY)?;
            let resource = self.required(&members, start, &at, "resourceId")?;
            let resource_at = member(&at, &resource.key);
            let resource_id = self.string_of(resource, &at)?;
            let Some(nsg) = nsg_name(&resource_id) else {
                return Err(self.field_error(
                    resource.value,
                    &resource_at,
                    format!(
                        "'{resource_id}': expected an NSG resource ID ending in /NETWORKSECURITYGROUPS/NAME"
                    ),
                ));
            };
            let place = LoggedAt::Nsg(nsg.to_string());
            let path = member(&at, &m.key);
            let props_key = m.key.clone();
            let (props, _) = self.members(m.value, &path, &["flows"])?;
            let props_start = m.value;
            let version = self.required(&props, props_start, &path, "Version")?;
            let version_value = {
                let mut c = self.cursor(version.value);
                let start = c.skip().map_err(|e| self.syntax(e))?;
                c.text_since(start)
            };
            let version = match version_value {
                "1" => 1,
                "2" => 2,
                _ => {
                    return Err(self.field_error(
                        version.value,
                        &member(&path, &version.key),
                        format!("{}: valid: 1 or 2", shown(version_value)),
                    ));
                }
            };
            self.chunk.nsg_version = self.chunk.nsg_version.max(Some(version));
            let groups = self.required(&props, props_start, &path, "flows")?;
            let groups_path = member(&path, &groups.key);
            let groups_key = groups.key.clone();
            self.array(groups.value, &groups_path, |w, i, pos| {
                let group_at = format!("{groups_path}[{i}]");
                let (obj, end) = w.members(pos, &group_at, &["flows"])?;
                let rule =
                    LoggedRule::parse(&w.string_of(w.required(&obj, pos, &group_at, "rule")?, &group_at)?);
                let macs = w.required(&obj, pos, &group_at, "flows")?;
                let macs_path = member(&group_at, &macs.key);
                let macs_key = macs.key.clone();
                w.array(macs.value, &macs_path, |w, j, pos| {
                    let mac_at = format!("{macs_path}[{j}]");
                    let (obj, end) = w.members(pos, &mac_at, &["flowTuples"])?;
                    let tuples = w.required(&obj, pos, &mac_at, "flowTuples")?;
                    let spelling =
                        w.catalog.spelling([records_key, &props_key, &groups_key, &macs_key, &tuples.key]);
                    let group = w.group(place.clone(), rule.clone());
                    w.tuples(tuples, &mac_at, Kind::Nsg { version }, group, spelling, (i, j))?;
                    Ok(end)
                })?;
                Ok(end)
            })
            .map(|_| ())
        } else {
            Err(self.field_error(
                start,
                &at,
                "neither an NSG flow-log record (with properties.flows) nor a virtual network flow-log record (with flowRecords.flows)".into(),
            ))
        }
    }

    /// A virtual network flow-log rule group.
    fn rule_group(
        &mut self,
        pos: usize,
        at: &str,
        place: &LoggedAt,
        kind: Kind,
        keys: [&str; 4],
        (outer, inner): (u32, u32),
    ) -> Result<usize, FlowLogError> {
        let (obj, end) = self.members(pos, at, &["flowTuples"])?;
        let rule = LoggedRule::parse(&self.string_of(self.required(&obj, pos, at, "rule")?, at)?);
        let tuples = self.required(&obj, pos, at, "flowTuples")?;
        let spelling = self.catalog.spelling([keys[0], keys[1], keys[2], keys[3], &tuples.key]);
        let group = self.group(place.clone(), rule);
        self.tuples(tuples, at, kind, group, spelling, (outer, inner))?;
        Ok(end)
    }

    fn group(&mut self, at: LoggedAt, rule: LoggedRule) -> u32 {
        let place = self.catalog.place(&at);
        let rule_id = self.catalog.rule(&rule);
        self.chunk.groups.push(Group { at, rule, place, rule_id });
        (self.chunk.groups.len() - 1) as u32
    }

    fn category(&self, members: &[Member<'a>], at: &str, expected: &str) -> Result<(), FlowLogError> {
        let Some(m) = members.iter().rev().find(|m| m.key == "category") else {
            return Ok(());
        };
        let mut c = self.cursor(m.value);
        if c.kind() == JsonKind::String && c.string().is_ok_and(|v| v.eq_ignore_ascii_case(expected)) {
            return Ok(());
        }
        Err(self.field_error(
            m.value,
            &format!("{at}.category"),
            format!("{}: valid for this record's shape: \"{expected}\"", self.shown_at(m.value)),
        ))
    }

    /// Calls `each(walker, index, position)` for every item of the array at `pos`.
    fn array(
        &mut self,
        pos: usize,
        path: &str,
        mut each: impl FnMut(&mut Self, u32, usize) -> Result<usize, FlowLogError>,
    ) -> Result<usize, FlowLogError> {
        let mut c = self.cursor(pos);
        if c.kind() != JsonKind::Array {
            let at = c.pos();
            return Err(self.field_error(at, path, format!("{}: expected an array", self.shown_at(at))));
        }
        let mut items = c.items().map_err(|e| self.syntax(e))?;
        let mut i = 0u32;
        while items.next(&mut c).map_err(|e| self.syntax(e))? {
            let item = c.pos();
            let end = each(self, i, item)?;
            c = self.cursor(end);
            i += 1;
        }
        Ok(c.pos())
    }

    /// The tuples of `m` (a `flowTuples` member), read in place.
    fn tuples(
        &mut self,
        m: &Member<'a>,
        at: &str,
        kind: Kind,
        group: u32,
        spelling: u32,
        (outer, inner): (u32, u32),
    ) -> Result<(), FlowLogError> {
        let path = member(at, &m.key);
        let mut c = self.cursor(m.value);
        if c.kind() != JsonKind::Array {
            let at = c.pos();
            return Err(self.field_error(at, &path, format!("{}: expected an array", self.shown_at(at))));
        }
        let mut items = c.items().map_err(|e| self.syntax(e))?;
        let mut k = 0u32;
        let bytes = self.text.as_bytes();
        while items.next(&mut c).map_err(|e| self.syntax(e))? {
            let item = c.pos();
            // A tuple as Network Watcher writes it is read straight from the text; any other
            // string is read as JSON first, and then by its fields.
            let raw = match bytes.get(item..) {
                Some([b'"', rest @ ..]) => parse_tuple_raw(rest, kind),
                _ => None,
            };
            let result = if let Some((parsed, end)) = raw {
                c = self.cursor(item + 1 + end + 1);
                Ok(parsed)
            } else if c.kind() == JsonKind::String {
                let text = c.string().map_err(|e| self.syntax(e))?;
                parse_tuple(&text, kind).map_err(|e| format!("{e} in \"{text}\""))
            } else {
                c.skip().map_err(|e| self.syntax(e))?;
                Err(format!("{}: expected a comma-separated string", self.shown_at(item)))
            };
            match result {
                Ok(parsed) => self.chunk.tuples.push(Tuple {
                    flow: parsed.flow,
                    time: Some(parsed.time),
                    at: None,
                    expected: None,
                    logged: Some(TupleLog {
                        group,
                        direction: parsed.direction,
                        access: parsed.access,
                        state: parsed.state,
                    }),
                    origin: Origin::Json { record: self.index, outer, inner, tuple: k, spelling },
                }),
                Err(message) => {
                    let error = self.field_error(item, &format!("{path}[{k}]"), message);
                    if !self.skip_bad {
                        return Err(error);
                    }
                    let ordinal = self.chunk.ordinal(self.chunk.tuples.len());
                    self.chunk.bad.push(BadInput { ordinal, error, what: BadKind::Tuple });
                }
            }
            k += 1;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::IpProtocol;
    use crate::nsg::{Access, Direction};
    use crate::replay::read::FlowState;
    use crate::replay::read::{Input, InputFormat};

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
        super::super::parse(Path::new("log.json"), text)
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
    fn a_tuple_with_escapes_is_read_as_its_value_through_the_json_reader() {
        // `\u0031` is `1`: the in-place reader leaves strings with escapes to the JSON
        // reader, and the tuples are the same.
        let plain = parse_str(NSG_V2).expect("Microsoft's sample parses");
        let text = NSG_V2.replacen("\"1542110402,", "\"\\u0031542110402,", 1).replacen(
            "T,O,A,E,1,66,1,66",
            "T,O,A,E,1,66,\\u0031,66",
            1,
        );
        assert_ne!(text, NSG_V2);
        let escaped = parse_str(&text).expect("escapes are JSON");
        assert_eq!(escaped.records, plain.records);
        // And a wrong one is placed and told as before, with the string's value.
        let text = NSG_V2.replacen(
            "\"1542110402,192.0.2.190,10.5.16.4,28746,443,U",
            "\"\\u0031542110402,192.0.2.190,10.5.16.4,28746,443,X",
            1,
        );
        assert_eq!(
            error(&text),
            "log.json:18:10: records[0].properties.flows[0].flows[0].flowTuples[0]: field 6 (protocol) 'X': valid: T (TCP) or U (UDP) in \"1542110402,192.0.2.190,10.5.16.4,28746,443,X,I,D,B,,,,\""
        );
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
