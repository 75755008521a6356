//! Reading Microsoft's "Azure IP Ranges and Service Tags" file: the weekly download
//! (`ServiceTags_Public.json`, `ServiceTags_AzureGovernment.json`, …) and what
//! `az network list-service-tags` prints, which have the same shape:
//!
//! ```json
//! { "changeNumber": 376, "cloud": "Public",
//!   "values": [ { "name": "Storage.WestEurope", "id": "Storage.WestEurope",
//!                 "properties": { "changeNumber": 12, "region": "westeurope", "regionId": 18,
//!                                 "platform": "Azure", "systemService": "AzureStorage",
//!                                 "addressPrefixes": ["20.38.96.0/19", "2603:1020:205::/48"],
//!                                 "networkFeatures": ["API", "NSG", "UDR", "FW"] } } ] }
//! ```
//!
//! The download writes `changeNumber` as a number, the REST API (and so `az`) as a string of
//! digits: both are read. Fields nsgsim does not use are ignored, as Microsoft may add some.
//! Every refusal is positioned (`file:line:column`, the JSON path, the value, what is valid),
//! and the file is bounded in size ([`MAX_TAG_FILE_BYTES`]) before it is read.

use crate::position::Position;
use std::path::Path;

use ipnet::IpNet;
use serde::Deserialize;

use super::{FieldPath, LoadError};
use crate::model::{ServiceTagFile, TagFacts};
use crate::net::AddrSet;
use crate::nsg::ServiceTag;
use crate::text::shown;

/// The largest service-tag file read: 64 MiB. Microsoft's public file is about 4 MB.
pub const MAX_TAG_FILE_BYTES: u64 = 64 << 20;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileSpec {
    #[serde(default)]
    change_number: Option<ChangeNumber>,
    #[serde(default)]
    cloud: String,
    values: Vec<TagSpec>,
}

#[derive(Deserialize)]
struct TagSpec {
    name: String,
    properties: PropertiesSpec,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PropertiesSpec {
    #[serde(default)]
    change_number: Option<ChangeNumber>,
    #[serde(default)]
    region: String,
    #[serde(default)]
    system_service: String,
    address_prefixes: Vec<Prefix>,
    #[serde(default)]
    network_features: Option<Vec<String>>,
}

/// A change number: a number in the download, a string of digits from the REST API.
struct ChangeNumber(u64);

impl<'de> Deserialize<'de> for ChangeNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Number(u64),
            Text(String),
        }
        match Either::deserialize(d).map_err(|_| {
            serde::de::Error::custom("a change number is a whole number of 0 or more (76, or \"76\")")
        })? {
            Either::Number(n) => Ok(ChangeNumber(n)),
            Either::Text(t) => t.trim().parse().map(ChangeNumber).map_err(|_| {
                serde::de::Error::custom(format!(
                    "'{}' is not a change number; valid: a whole number of 0 or more (76, or \"76\")",
                    shown(&t)
                ))
            }),
        }
    }
}

/// One address prefix, parsed where it is read so that a bad one is reported at its position.
struct Prefix(IpNet);

impl<'de> Deserialize<'de> for Prefix {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        crate::net::parse_prefix(&text).map(Prefix).map_err(|e| {
            serde::de::Error::custom(format!(
                "'{}' is not an address prefix ({e}); valid: an IPv4 or IPv6 CIDR prefix such as 20.38.96.0/19 or 2603:1020:205::/48",
                shown(&text)
            ))
        })
    }
}

/// Reads Microsoft's service-tag file at `path` (named `shown_path` in errors and outputs).
///
/// # Errors
/// A file that cannot be read, is larger than [`MAX_TAG_FILE_BYTES`], is not UTF-8 or not JSON
/// of the file's shape, holds a prefix that is not one, a tag name nsgsim cannot use, or the same
/// tag twice; each at its `file:line:column` with the JSON path and what is valid.
pub fn read_service_tag_file(path: &Path, shown_path: &str) -> Result<ServiceTagFile, LoadError> {
    let fail = |position: Option<Position>, field: Option<FieldPath>, message: String| LoadError {
        file: path.to_path_buf(),
        position,
        field,
        message,
    };
    let size = std::fs::metadata(path)
        .map_err(|e| fail(None, None, format!("cannot read the service tag file: {e}")))?
        .len();
    if size > MAX_TAG_FILE_BYTES {
        return Err(fail(
            None,
            None,
            format!(
                "the service tag file is {size} bytes; valid: at most {MAX_TAG_FILE_BYTES} bytes (Microsoft's public file is about 4 MB)"
            ),
        ));
    }
    let text = crate::text::read_file(path).map_err(|e| {
        let position = match &e {
            crate::text::ReadError::NotUtf8(at) => Some(at.position),
            crate::text::ReadError::Io(_) => None,
        };
        fail(position, None, e.to_string())
    })?;
    parse_service_tag_file(&text, path, shown_path)
}

/// Reads the text of a service-tag file (see [`read_service_tag_file`]).
///
/// # Errors
/// As [`read_service_tag_file`], for everything after reading.
pub fn parse_service_tag_file(
    text: &str,
    path: &Path,
    shown_path: &str,
) -> Result<ServiceTagFile, LoadError> {
    let fail = |position: Option<Position>, field: Option<FieldPath>, message: String| LoadError {
        file: path.to_path_buf(),
        position,
        field,
        message,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let spec: FileSpec = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        // serde_path_to_error's path, converted segment by segment; a path that writes as nothing
        // (the whole file, or one member with an empty name) names no field.
        let field = FieldPath::from_serde_path(e.path());
        let field = Some(field).filter(|f| !f.to_string().is_empty());
        let inner = e.into_inner();
        let position = (inner.line() > 0).then(|| Position::from_byte_column(text, inner.line(), inner.column()));
        fail(
            position,
            field,
            format!(
                "{}; valid: Microsoft's \"Azure IP Ranges and Service Tags\" JSON (changeNumber, cloud, values[].name, values[].properties.addressPrefixes, …) or what `az network list-service-tags` prints",
                strip_position(&inner.to_string())
            ),
        )
    })?;
    let mut file = ServiceTagFile {
        path: shown_path.to_string(),
        cloud: spec.cloud,
        change_number: spec.change_number.map_or(0, |c| c.0),
        ..ServiceTagFile::default()
    };
    let mut lower_names = std::collections::HashSet::new();
    for (i, tag) in spec.values.into_iter().enumerate() {
        let field = FieldPath::root("values").index(i).field("name");
        let at = || position_of_name(text, &tag.name);
        if !matches!(ServiceTag::parse(&tag.name), Some(ServiceTag::Other(_))) {
            return Err(fail(
                at(),
                Some(field.clone()),
                format!(
                    "'{}' cannot be a tag of the file: VirtualNetwork, Internet and AzureLoadBalancer are computed from the topology, and a tag name is a letter then letters, digits, '.', '_' or '-'; valid: a name such as AzureCloud or Storage.WestEurope",
                    shown(&tag.name)
                ),
            ));
        }
        if !lower_names.insert(tag.name.to_ascii_lowercase()) {
            return Err(fail(
                at(),
                Some(field),
                format!(
                    "the tag '{}' is listed twice (names compare without case); valid: each tag once",
                    shown(&tag.name)
                ),
            ));
        }
        let nets: Vec<IpNet> = tag.properties.address_prefixes.iter().map(|p| p.0).collect();
        file.ipv6_prefixes += nets.iter().filter(|n| matches!(n, IpNet::V6(_))).count();
        file.members.insert(tag.name.clone(), AddrSet::from_nets(&nets));
        file.facts.insert(
            tag.name,
            TagFacts {
                region: tag.properties.region,
                system_service: tag.properties.system_service,
                change_number: tag.properties.change_number.map_or(0, |c| c.0),
                network_features: tag.properties.network_features,
            },
        );
    }
    Ok(file)
}

/// serde_json's message without its own " at line L column C" (the diagnostic puts the
/// position in front).
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

/// Where the tag name `name` is written as a `"name": …` member: the last such place, which is
/// the one reported (a name listed twice is refused at its second listing). Found by scanning
/// the text, as serde keeps no positions once a value is read.
fn position_of_name(text: &str, name: &str) -> Option<Position> {
    let quoted = serde_json::to_string(name).ok()?;
    let at = text
        .match_indices(&quoted)
        .map(|(at, _)| at)
        .filter(|&at| {
            let before = text[..at].trim_end();
            before.strip_suffix(':').is_some_and(|b| b.trim_end().ends_with("\"name\""))
        })
        .last()?;
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(before.chars().count(), |nl| before[nl + 1..].chars().count()) + 1;
    Some(Position::new(line, column))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ServiceTagFile, LoadError> {
        parse_service_tag_file(text, Path::new("tags.json"), "tags.json")
    }

    const GOOD: &str = r#"{
  "changeNumber": 376,
  "cloud": "Public",
  "values": [
    { "name": "AzureCloud", "id": "AzureCloud",
      "properties": { "changeNumber": 9, "region": "", "regionId": 0, "platform": "Azure",
                      "systemService": "", "addressPrefixes": ["20.0.0.0/11", "2603:1000::/40"],
                      "networkFeatures": ["API", "NSG", "UDR", "FW"] } },
    { "name": "ActionGroup.WestEurope", "id": "ActionGroup.WestEurope",
      "properties": { "changeNumber": 1, "region": "westeurope", "regionId": 18, "platform": "Azure",
                      "systemService": "ActionGroup", "addressPrefixes": ["4.145.74.52/30"] } },
    { "name": "AzureResourceManager.NorwayEast", "id": "AzureResourceManager.NorwayEast",
      "properties": { "changeNumber": 2, "region": "norwayeast", "addressPrefixes": ["51.120.0.0/30"],
                      "networkFeatures": ["API"] } }
  ]
}"#;

    #[test]
    fn reads_the_downloads_shape_with_ipv6_and_features() {
        let file = parse(GOOD).expect("file");
        assert_eq!((file.cloud.as_str(), file.change_number), ("Public", 376));
        assert_eq!(file.members.len(), 3);
        assert!(file.members["AzureCloud"].contains("20.1.2.3".parse().expect("ip")));
        assert!(file.members["AzureCloud"].contains("2603:1000::1".parse().expect("ip")));
        assert_eq!(file.ipv6_prefixes, 1);
        assert_eq!(file.facts["AzureCloud"].usable_in_nsg(), Some(true));
        assert_eq!(file.facts["ActionGroup.WestEurope"].usable_in_nsg(), None);
        assert_eq!(file.facts["ActionGroup.WestEurope"].region, "westeurope");
        assert_eq!(file.facts["AzureResourceManager.NorwayEast"].usable_in_nsg(), Some(false));
        assert_eq!(file.label(), "Microsoft's service tags tags.json (cloud Public, changeNumber 376)");
    }

    #[test]
    fn reads_the_change_number_as_az_writes_it() {
        let az = r#"{"changeNumber": "63", "cloud": "Public", "id": "x", "name": "Public",
            "type": "Microsoft.Network/serviceTags",
            "values": [{"name": "Sql", "id": "Sql", "serviceTagChangeNumber": "63",
                        "properties": {"changeNumber": "7", "addressPrefixes": ["13.66.140.0/24"]}}]}"#;
        let file = parse(az).expect("file");
        assert_eq!(file.change_number, 63);
        assert_eq!(file.facts["Sql"].change_number, 7);
    }

    #[test]
    fn a_bad_prefix_is_positioned_with_its_path_and_what_is_valid() {
        let text = GOOD.replace("4.145.74.52/30", "4.145.74.520/30");
        let e = parse(&text).expect_err("bad prefix");
        assert_eq!(
            e.field,
            Some(FieldPath::root("values").index(1).field("properties").field("addressPrefixes").index(0))
        );
        assert_eq!(e.position.expect("position").line, 11);
        assert!(e.message.contains("'4.145.74.520/30' is not an address prefix"), "{e}");
        assert!(e.message.contains("valid: an IPv4 or IPv6 CIDR prefix"), "{e}");
        assert!(!e.message.contains(" at line "), "{e}");
    }

    #[test]
    fn shape_errors_name_the_field_and_the_shape() {
        let e = parse(r#"{"cloud": "Public", "values": [{"name": "X"}]}"#).expect_err("no properties");
        assert_eq!(e.field, Some(FieldPath::root("values").index(0)));
        assert!(e.message.contains("missing field `properties`"), "{e}");
        assert!(e.message.contains("valid: Microsoft's"), "{e}");
        let e = parse(r#"{"changeNumber": "x7", "values": []}"#).expect_err("bad change number");
        assert_eq!(e.field, Some(FieldPath::root("changeNumber")));
        let e = parse("[1, 2]").expect_err("not an object");
        assert_eq!(e.position.map(|p| p.line), Some(1));
        assert!(e.message.contains("expected struct FileSpec") || e.message.contains("invalid type"), "{e}");
        let e = parse("{\"values\": [").expect_err("truncated");
        assert!(e.position.is_some(), "{e}");
    }

    #[test]
    fn a_tag_listed_twice_or_named_as_a_computed_tag_is_refused_where_it_is() {
        let twice = GOOD.replace("AzureResourceManager.NorwayEast", "azurecloud");
        let e = parse(&twice).expect_err("twice");
        assert_eq!(e.field, Some(FieldPath::root("values").index(2).field("name")));
        assert_eq!(e.position.map(|p| p.line), Some(12));
        assert!(e.message.contains("listed twice"), "{e}");
        let computed = GOOD.replace("\"AzureCloud\"", "\"Internet\"");
        let e = parse(&computed).expect_err("computed");
        assert!(e.message.contains("computed from the topology"), "{e}");
    }
}
