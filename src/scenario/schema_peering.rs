//! The scenario format's peerings: `("hub", "spoke")` or `Peering(vnets: …, …)`, read by a
//! hand-written visitor so that a bad field is reported at its value (see [`PeeringSpec`]).

use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// A peering: `("hub", "spoke")`, or with gateway transit
/// `Peering(vnets: ("hub", "spoke"), allow_gateway_transit: true, use_remote_gateways: true)`,
/// or with a side that does not allow virtual network access
/// `Peering(vnets: ("hub", "spoke"), allow_virtual_network_access: (false, true))`, or only some
/// subnets of each (subnet peering) `Peering(vnets: ("hub", "spoke"), subnets: (["web"], ["app"]))`.
///
/// Deserialized by hand (`PeeringVisitor`) rather than as an untagged enum: an untagged enum
/// buffers the value and, when no form fits, can only say "a peering: …" at the end of it. The
/// visitor reads a tuple as the pair and the fields of `Peering(...)` one by one, so a bad field
/// is reported at its value, by name, with what it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeeringSpec {
    /// Two VNets, no gateway transit.
    Pair(String, String),
    /// Two VNets and the gateway flags.
    Options(PeeringOptionsSpec),
}

/// A peering written `Peering(...)`, with Azure's flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeeringOptionsSpec {
    /// `Peering(vnets: ("hub", "spoke"), allow_gateway_transit: true, use_remote_gateways: true)`.
    Peering {
        /// The two VNets: the first may share its gateway, the second may use it.
        vnets: (String, String),
        /// The first VNet's peering allows gateway transit (Azure's `allowGatewayTransit`).
        /// Default false.
        allow_gateway_transit: bool,
        /// The second VNet's peering uses the first's gateway (Azure's `useRemoteGateways`).
        /// Default false.
        use_remote_gateways: bool,
        /// Azure's `allowVirtualNetworkAccess` on each side: (the first VNet's peering to the
        /// second, the second's to the first). Default `(true, true)`, as in Azure.
        allow_virtual_network_access: (bool, bool),
        /// Subnet peering (Azure's `peerCompleteVnets: false`): (the first VNet's subnets, the
        /// second VNet's subnets) in the peering, Azure's `localSubnetNames` and
        /// `remoteSubnetNames` of the first VNet's side, e.g. `subnets: (["web"], ["app"])`.
        /// Default: none, the whole VNets are peered.
        subnets: Option<(Vec<String>, Vec<String>)>,
    },
}

/// Azure's default `allowVirtualNetworkAccess` on both sides of a peering.
fn both_sides_allow_access() -> (bool, bool) {
    (true, true)
}

/// What a peering may be, for errors that name no single field.
const PEERING_EXPECTED: &str = "a peering: (\"vnet-a\", \"vnet-b\") or Peering(vnets: (\"hub\", \"spoke\"), allow_gateway_transit: bool, use_remote_gateways: bool, allow_virtual_network_access: (bool, bool), subnets: ([\"subnet of vnet-a\"], [\"subnet of vnet-b\"])) where only vnets is required";

/// The fields of `Peering(...)`, with what each takes (for errors).
const PEERING_FIELDS: [(&str, &str); 5] = [
    ("vnets", "(\"vnet-a\", \"vnet-b\")"),
    ("allow_gateway_transit", "bool"),
    ("use_remote_gateways", "bool"),
    ("allow_virtual_network_access", "(bool, bool): the first VNet's side, then the second's"),
    ("subnets", "([\"subnet of vnet-a\", ...], [\"subnet of vnet-b\", ...])"),
];

impl<'de> Deserialize<'de> for PeeringSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<PeeringSpec, D::Error> {
        deserializer.deserialize_any(PeeringVisitor)
    }
}

/// Reads `("a", "b")` as [`PeeringSpec::Pair`] and `Peering(field: value, ...)` field by field.
struct PeeringVisitor;

impl PeeringVisitor {
    /// The next value of `map` as field `name`'s type; a bad value is reported there, naming the
    /// field and what it takes.
    fn field<'de, T: Deserialize<'de>, A: MapAccess<'de>>(map: &mut A, name: &str) -> Result<T, A::Error> {
        map.next_value().map_err(|e| {
            let takes = PEERING_FIELDS.iter().find(|(f, _)| *f == name).map_or("", |(_, t)| *t);
            de::Error::custom(format!("peering field {name}: {e}; valid: {name}: {takes}"))
        })
    }
}

impl<'de> Visitor<'de> for PeeringVisitor {
    type Value = PeeringSpec;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(PEERING_EXPECTED)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PeeringSpec, A::Error> {
        let a: String = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let b: String = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(1, &self))?;
        if seq.next_element::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(3, &self));
        }
        Ok(PeeringSpec::Pair(a, b))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PeeringSpec, A::Error> {
        let mut vnets = None;
        let mut allow_gateway_transit = None;
        let mut use_remote_gateways = None;
        let mut allow_virtual_network_access = None;
        let mut subnets = None;
        while let Some(key) = map.next_key::<String>()? {
            let seen = match key.as_str() {
                "vnets" => vnets.replace(Self::field(&mut map, &key)?).is_some(),
                "allow_gateway_transit" => {
                    allow_gateway_transit.replace(Self::field(&mut map, &key)?).is_some()
                }
                "use_remote_gateways" => use_remote_gateways.replace(Self::field(&mut map, &key)?).is_some(),
                "allow_virtual_network_access" => {
                    allow_virtual_network_access.replace(Self::field(&mut map, &key)?).is_some()
                }
                "subnets" => subnets.replace(Self::field(&mut map, &key)?).is_some(),
                other => {
                    let names: Vec<&str> = PEERING_FIELDS.iter().map(|(f, _)| *f).collect();
                    return Err(de::Error::custom(format!(
                        "unknown peering field '{other}'; valid: {}",
                        names.join(", ")
                    )));
                }
            };
            if seen {
                return Err(de::Error::custom(format!("peering field {key} is given twice")));
            }
        }
        let vnets = vnets
            .ok_or_else(|| de::Error::custom(format!("the peering has no vnets; {PEERING_EXPECTED}")))?;
        Ok(PeeringSpec::Options(PeeringOptionsSpec::Peering {
            vnets,
            allow_gateway_transit: allow_gateway_transit.unwrap_or(false),
            use_remote_gateways: use_remote_gateways.unwrap_or(false),
            allow_virtual_network_access: allow_virtual_network_access
                .unwrap_or_else(both_sides_allow_access),
            subnets,
        }))
    }
}

impl From<(String, String)> for PeeringSpec {
    fn from((a, b): (String, String)) -> PeeringSpec {
        PeeringSpec::Pair(a, b)
    }
}

impl PeeringSpec {
    /// The two VNets.
    pub fn vnets(&self) -> (&str, &str) {
        match self {
            PeeringSpec::Pair(a, b)
            | PeeringSpec::Options(PeeringOptionsSpec::Peering { vnets: (a, b), .. }) => (a, b),
        }
    }

    /// (allow gateway transit on the first VNet's side, use remote gateways on the second's).
    pub fn gateway_flags(&self) -> (bool, bool) {
        match self {
            PeeringSpec::Pair(..) => (false, false),
            PeeringSpec::Options(PeeringOptionsSpec::Peering {
                allow_gateway_transit,
                use_remote_gateways,
                ..
            }) => (*allow_gateway_transit, *use_remote_gateways),
        }
    }

    /// The subnets in a subnet peering (the first VNet's, the second's); `None` for a peering of
    /// whole VNets.
    pub fn subnets(&self) -> Option<(&[String], &[String])> {
        match self {
            PeeringSpec::Pair(..) => None,
            PeeringSpec::Options(PeeringOptionsSpec::Peering { subnets, .. }) => {
                subnets.as_ref().map(|(a, b)| (a.as_slice(), b.as_slice()))
            }
        }
    }

    /// Azure's `allowVirtualNetworkAccess` on (the first VNet's side, the second's); a pair
    /// allows it on both, as Azure's peerings do by default.
    pub fn virtual_network_access(&self) -> (bool, bool) {
        match self {
            PeeringSpec::Pair(..) => both_sides_allow_access(),
            PeeringSpec::Options(PeeringOptionsSpec::Peering { allow_virtual_network_access, .. }) => {
                *allow_virtual_network_access
            }
        }
    }
}
