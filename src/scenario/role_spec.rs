//! The scenario's custom roles: `["action", ...]`, or `Role(actions: [...], not_actions: [...])`
//! when the role subtracts actions as Azure RBAC's `NotActions` does.
//!
//! Deserialized by hand, as peerings are (see `schema::PeeringSpec`): a list is the role's
//! actions, and `Role(...)` is read field by field so that a bad field is reported at its value,
//! by name, with what it takes.

use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// One custom role: Azure RBAC's `Actions` and `NotActions`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleSpec {
    /// Action patterns the role allows (`Microsoft.Security/*`, `*/read`).
    pub actions: Vec<String>,
    /// Action patterns subtracted from `actions` (Azure's `NotActions`); default none.
    pub not_actions: Vec<String>,
}

/// What a role may be, for errors that name no single field.
const ROLE_EXPECTED: &str = "a role: [\"action pattern\", ...] or Role(actions: [\"action pattern\", ...], not_actions: [\"action pattern\", ...]) where only actions is required";

impl<'de> Deserialize<'de> for RoleSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RoleSpec, D::Error> {
        deserializer.deserialize_any(RoleVisitor)
    }
}

/// Reads a list as the role's actions and `Role(field: value, ...)` field by field.
struct RoleVisitor;

impl<'de> Visitor<'de> for RoleVisitor {
    type Value = RoleSpec;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(ROLE_EXPECTED)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RoleSpec, A::Error> {
        let mut actions = Vec::new();
        while let Some(action) = seq.next_element::<String>()? {
            actions.push(action);
        }
        Ok(RoleSpec { actions, not_actions: Vec::new() })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RoleSpec, A::Error> {
        let mut actions: Option<Vec<String>> = None;
        let mut not_actions: Option<Vec<String>> = None;
        while let Some(key) = map.next_key::<String>()? {
            let slot = match key.as_str() {
                "actions" => &mut actions,
                "not_actions" => &mut not_actions,
                other => {
                    return Err(de::Error::custom(format!(
                        "unknown role field '{other}'; valid: actions, not_actions"
                    )));
                }
            };
            let value = map.next_value::<Vec<String>>().map_err(|e| {
                de::Error::custom(format!("role field {key} takes a list of action patterns: {e}"))
            })?;
            if slot.replace(value).is_some() {
                return Err(de::Error::custom(format!("role field {key} is given twice")));
            }
        }
        let actions =
            actions.ok_or_else(|| de::Error::custom(format!("the role has no actions; {ROLE_EXPECTED}")))?;
        Ok(RoleSpec { actions, not_actions: not_actions.unwrap_or_default() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RoleSpec, ron::error::SpannedError> {
        ron::from_str(text)
    }

    #[test]
    fn a_list_or_a_role_with_not_actions() {
        assert_eq!(parse(r#"["*/read"]"#).unwrap().actions, vec!["*/read"]);
        let role =
            parse(r#"Role(actions: ["*"], not_actions: ["Microsoft.Authorization/*/Write"])"#).unwrap();
        assert_eq!(role.actions, vec!["*"]);
        assert_eq!(role.not_actions, vec!["Microsoft.Authorization/*/Write"]);
        assert_eq!(parse(r#"(actions: ["*"])"#).unwrap().not_actions, Vec::<String>::new());
    }

    #[test]
    fn bad_roles_say_what_is_wrong() {
        let err = |text: &str| parse(text).unwrap_err().to_string();
        assert!(err(r#"Role(actions: ["*"], notactions: [])"#).contains("unknown role field 'notactions'"));
        assert!(err(r#"Role(not_actions: ["*"])"#).contains("the role has no actions"));
        assert!(err(r#"Role(actions: "*")"#).contains("role field actions takes a list"));
        assert!(err(r#"Role(actions: [], actions: [])"#).contains("given twice"));
    }
}
