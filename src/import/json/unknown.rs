//! Why a value is only known at deployment, as data (issue 23, "outcomes as data").
//!
//! The ARM and Terraform importers put an [`super::Unknown`] where a value cannot be made
//! offline. Its reason used to be a sentence that other code read back (whether it began with a
//! call decided how an expression error was worded); now it is an [`UnknownReason`] with the
//! facts of each case, `Display` writes the words the importer prints, and callers branch on
//! the variants or on [`UnknownReason::names_a_call`].
//!
//! ARM's `reference()` reads a declared resource's body as plain JSON, so an unknown value there
//! travels as a one-member marker object; [`UnknownReason::to_json`] and
//! [`UnknownReason::from_json`] keep the variant and its fields across that trip.

use std::fmt;

use serde_json::{Value as J, json};

/// Why a value cannot be known before the deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnknownReason {
    /// A template expression the evaluator cannot evaluate offline (a parameter given no value,
    /// a function only the deployment can call, a value it reads that is itself unknown): the
    /// evaluator's error as it prints it, and whether those words begin with the call that
    /// failed (`parameters('x'): …`), as the error said of itself.
    Expression {
        /// The evaluator's error, as printed.
        message: String,
        /// Whether `message` begins with a call, so that a caller names no call of its own.
        names_a_call: bool,
    },
    /// The count of a property copy loop that cannot be evaluated offline: the array it makes is
    /// unknown.
    CopyCount {
        /// The copy loop's name (the array it makes).
        copy: String,
        /// The evaluator's error for the count, as printed.
        message: String,
    },
    /// The `properties` of a resource declared `existing`: the template does not hold them.
    ExistingProperties {
        /// The resource's name.
        resource: String,
    },
    /// The `ipAddress` of a public IP declared without one: Azure allocates it at deployment.
    AllocatedAddress {
        /// The public IP's name.
        public_ip: String,
    },
    /// An output of a nested deployment that cannot be evaluated offline: the reason as printed
    /// and whether it begins with a call.
    NestedOutput {
        /// The nested evaluation's error, as printed.
        message: String,
        /// Whether `message` begins with a call.
        names_a_call: bool,
    },
    /// A Terraform attribute the plan shows as "(known after apply)".
    KnownAfterApply {
        /// The attribute's name (`next_hop_in_ip_address`).
        attribute: String,
    },
}

impl UnknownReason {
    /// Whether the words begin with a call (`name(`), so that an error quoting them adds no
    /// call name of its own.
    pub fn names_a_call(&self) -> bool {
        match self {
            UnknownReason::Expression { names_a_call, .. }
            | UnknownReason::NestedOutput { names_a_call, .. } => *names_a_call,
            UnknownReason::CopyCount { .. }
            | UnknownReason::ExistingProperties { .. }
            | UnknownReason::AllocatedAddress { .. }
            | UnknownReason::KnownAfterApply { .. } => false,
        }
    }

    /// The reason as a JSON object (`kind` and the fields), for a marker that crosses plain JSON.
    pub fn to_json(&self) -> J {
        match self {
            UnknownReason::Expression { message, names_a_call } => {
                json!({"kind": "expression", "message": message, "namesACall": names_a_call})
            }
            UnknownReason::CopyCount { copy, message } => {
                json!({"kind": "copyCount", "copy": copy, "message": message})
            }
            UnknownReason::ExistingProperties { resource } => {
                json!({"kind": "existingProperties", "resource": resource})
            }
            UnknownReason::AllocatedAddress { public_ip } => {
                json!({"kind": "allocatedAddress", "publicIp": public_ip})
            }
            UnknownReason::NestedOutput { message, names_a_call } => {
                json!({"kind": "nestedOutput", "message": message, "namesACall": names_a_call})
            }
            UnknownReason::KnownAfterApply { attribute } => {
                json!({"kind": "knownAfterApply", "attribute": attribute})
            }
        }
    }

    /// The reason [`UnknownReason::to_json`] wrote, or `None` for any other value.
    pub fn from_json(value: &J) -> Option<UnknownReason> {
        let m = value.as_object()?;
        let text = |k: &str| m.get(k).and_then(J::as_str).map(str::to_string);
        let flag = |k: &str| m.get(k).and_then(J::as_bool);
        Some(match m.get("kind").and_then(J::as_str)? {
            "expression" => {
                UnknownReason::Expression { message: text("message")?, names_a_call: flag("namesACall")? }
            }
            "copyCount" => UnknownReason::CopyCount { copy: text("copy")?, message: text("message")? },
            "existingProperties" => UnknownReason::ExistingProperties { resource: text("resource")? },
            "allocatedAddress" => UnknownReason::AllocatedAddress { public_ip: text("publicIp")? },
            "nestedOutput" => {
                UnknownReason::NestedOutput { message: text("message")?, names_a_call: flag("namesACall")? }
            }
            "knownAfterApply" => UnknownReason::KnownAfterApply { attribute: text("attribute")? },
            _ => return None,
        })
    }
}

impl fmt::Display for UnknownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnknownReason::Expression { message, .. } | UnknownReason::NestedOutput { message, .. } => {
                f.write_str(message)
            }
            UnknownReason::CopyCount { copy, message } => {
                write!(f, "the count of copy loop '{copy}': {message}")
            }
            UnknownReason::ExistingProperties { resource } => write!(
                f,
                "the properties of existing resource '{resource}' are not in the template: only known at deployment; valid: the resource declared in the template, or the value written into the template in its place"
            ),
            UnknownReason::AllocatedAddress { public_ip } => write!(
                f,
                "public IP '{public_ip}' gets its address from Azure at deployment, so its ipAddress is only known then; valid: the address written into the template in its place"
            ),
            UnknownReason::KnownAfterApply { attribute } => {
                write!(f, "'{attribute}' is only known after the apply")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<UnknownReason> {
        vec![
            UnknownReason::Expression { message: "parameters('x'): no value".into(), names_a_call: true },
            UnknownReason::ExistingProperties { resource: "hub".into() },
            UnknownReason::CopyCount { copy: "disks".into(), message: "parameters('n'): no value".into() },
            UnknownReason::AllocatedAddress { public_ip: "pip".into() },
            UnknownReason::NestedOutput { message: "the output has neither".into(), names_a_call: false },
            UnknownReason::KnownAfterApply { attribute: "next_hop_in_ip_address".into() },
        ]
    }

    #[test]
    fn every_reason_survives_a_marker() {
        for r in all() {
            assert_eq!(UnknownReason::from_json(&r.to_json()), Some(r.clone()), "{r:?}");
        }
        assert_eq!(UnknownReason::from_json(&json!("words")), None);
        assert_eq!(UnknownReason::from_json(&json!({"kind": "expression"})), None);
        assert_eq!(UnknownReason::from_json(&json!({"kind": "other"})), None);
    }

    #[test]
    fn only_an_expression_may_name_a_call() {
        let named: Vec<bool> = all().iter().map(UnknownReason::names_a_call).collect();
        assert_eq!(named, [true, false, false, false, false, false]);
    }

    #[test]
    fn expression_shows_the_evaluator_words() {
        assert_eq!(all()[0].to_string(), "parameters('x'): no value");
    }

    #[test]
    fn existing_properties_shows_the_resource() {
        assert_eq!(
            all()[1].to_string(),
            "the properties of existing resource 'hub' are not in the template: only known at deployment; valid: the resource declared in the template, or the value written into the template in its place"
        );
    }

    #[test]
    fn copy_count_shows_the_loop_and_the_evaluator_words() {
        assert_eq!(all()[2].to_string(), "the count of copy loop 'disks': parameters('n'): no value");
    }

    #[test]
    fn allocated_address_shows_the_public_ip() {
        assert_eq!(
            all()[3].to_string(),
            "public IP 'pip' gets its address from Azure at deployment, so its ipAddress is only known then; valid: the address written into the template in its place"
        );
    }

    #[test]
    fn nested_output_shows_the_nested_words() {
        assert_eq!(all()[4].to_string(), "the output has neither");
    }

    #[test]
    fn known_after_apply_shows_the_attribute() {
        assert_eq!(all()[5].to_string(), "'next_hop_in_ip_address' is only known after the apply");
    }
}
