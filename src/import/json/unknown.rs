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
    /// A template expression the evaluator cannot evaluate offline, for a failure that has no
    /// better shape here: a function given arguments it does not take, a name the template does
    /// not declare, a syntax error, a bound reached, a nested template that cannot be read, …
    /// The evaluator's error as it prints it, and whether those words begin with the call that
    /// failed (`parameters('x'): …`), as the error said of itself. A parameter given no value, a
    /// function only the deployment can call and a value read through calls from another
    /// unknown value have variants of their own.
    Expression {
        /// The evaluator's error, as printed.
        message: String,
        /// Whether `message` begins with a call, so that a caller names no call of its own.
        names_a_call: bool,
    },
    /// Parameters given no value (placeholders) where their value is needed, not only as a name
    /// or a resource id.
    ParameterNeeded {
        /// The parameters, as declared, in order.
        parameters: Vec<String>,
        /// What needs the value (`a condition`, `property 'priority'`, …).
        what: String,
    },
    /// A parameter with no value, no default, not nullable and not a string.
    NoParameterValue {
        /// The parameter, as declared.
        parameter: String,
    },
    /// A parameter given as a Key Vault reference, whose secret only the deployment reads.
    KeyVault {
        /// The parameter, as declared.
        parameter: String,
        /// The secret's name.
        secret: String,
        /// The vault's resource id.
        vault: String,
    },
    /// A template function whose answer only the deployment has.
    DeploymentFunction(DeploymentFunction),
    /// A value whose expression reaches another reason through calls or a parent template's
    /// parameter: `concat()` of a public IP's allocated address, a module parameter the parent
    /// gives no value. The links outermost first, and the reason at the end of them.
    Through {
        /// The calls and parameters the failure passed through, outermost first (never empty).
        via: Vec<Via>,
        /// The reason at the end.
        reason: Box<UnknownReason>,
    },
    /// The count of a property copy loop that cannot be evaluated offline: the array it makes is
    /// unknown.
    CopyCount {
        /// The copy loop's name (the array it makes).
        copy: String,
        /// Why the count is unknown.
        reason: Box<UnknownReason>,
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
    /// An output of a nested deployment that cannot be evaluated offline.
    NestedOutput {
        /// Why, as the nested evaluation found it.
        reason: Box<UnknownReason>,
    },
    /// A Terraform attribute the plan shows as "(known after apply)".
    KnownAfterApply {
        /// The attribute's name (`next_hop_in_ip_address`).
        attribute: String,
    },
}

/// A template function whose answer only the deployment has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeploymentFunction {
    /// `providers()`, which reads Azure's resource provider registry.
    Providers,
    /// `reference()` or a `list*()` function of a resource the template does not declare.
    NotInTemplate {
        /// A `list*()` function rather than `reference()`.
        list: bool,
        /// The resource as written (shortened).
        target: String,
    },
}

impl DeploymentFunction {
    /// The function's name as the words write it: `providers`, `reference` or `list*`.
    pub fn name(&self) -> &'static str {
        match self {
            DeploymentFunction::Providers => "providers",
            DeploymentFunction::NotInTemplate { list: false, .. } => "reference",
            DeploymentFunction::NotInTemplate { list: true, .. } => "list*",
        }
    }
}

impl fmt::Display for DeploymentFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeploymentFunction::Providers => f.write_str(
                "providers() (deprecated) reads Azure's resource provider registry: only known at deployment; valid: the value written into the template in its place",
            ),
            DeploymentFunction::NotInTemplate { target, .. } => write!(
                f,
                "{}('{target}') reads a resource that is not in the template: only known at deployment; valid: a resource declared in the template, or the value written into the template in its place",
                self.name()
            ),
        }
    }
}

/// One link of [`UnknownReason::Through`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// A call of this function (as written: `concat`, `ns.fn`).
    Call(String),
    /// A parameter whose value the parent template passes in, as the parent names it.
    ParentParameter(String),
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Via::Call(function) => write!(f, "{function}(): "),
            Via::ParentParameter(p) => write!(f, "parameters('{p}'), passed in by the parent: "),
        }
    }
}

/// Whether `name` reads as a function's name (`concat`, `ns.fn`) when written before `(`.
pub fn is_call_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')
}

impl UnknownReason {
    /// Whether the words begin with a call (`name(`), so that an error quoting them adds no
    /// call name of its own: a fact of the variant (and of [`UnknownReason::Expression`]'s
    /// flag), never read off the words.
    pub fn names_a_call(&self) -> bool {
        match self {
            UnknownReason::Expression { names_a_call, .. } => *names_a_call,
            UnknownReason::ParameterNeeded { .. }
            | UnknownReason::NoParameterValue { .. }
            | UnknownReason::KeyVault { .. } => true,
            UnknownReason::DeploymentFunction(d) => is_call_name(d.name()),
            UnknownReason::Through { via, .. } => match via.first() {
                Some(Via::Call(function)) => is_call_name(function),
                Some(Via::ParentParameter(_)) => true,
                None => false,
            },
            UnknownReason::NestedOutput { reason } => reason.names_a_call(),
            UnknownReason::CopyCount { .. }
            | UnknownReason::ExistingProperties { .. }
            | UnknownReason::AllocatedAddress { .. }
            | UnknownReason::KnownAfterApply { .. } => false,
        }
    }

    /// The same reason reached through `link` first: a [`UnknownReason::Through`] with `link`
    /// outermost.
    pub fn through(self, link: Via) -> UnknownReason {
        match self {
            UnknownReason::Through { mut via, reason } => {
                via.insert(0, link);
                UnknownReason::Through { via, reason }
            }
            other => UnknownReason::Through { via: vec![link], reason: Box::new(other) },
        }
    }

    /// The reason as a JSON object (`kind` and the fields), for a marker that crosses plain JSON.
    pub fn to_json(&self) -> J {
        match self {
            UnknownReason::Expression { message, names_a_call } => {
                json!({"kind": "expression", "message": message, "namesACall": names_a_call})
            }
            UnknownReason::ParameterNeeded { parameters, what } => {
                json!({"kind": "parameterNeeded", "parameters": parameters, "what": what})
            }
            UnknownReason::NoParameterValue { parameter } => {
                json!({"kind": "noParameterValue", "parameter": parameter})
            }
            UnknownReason::KeyVault { parameter, secret, vault } => {
                json!({"kind": "keyVault", "parameter": parameter, "secret": secret, "vault": vault})
            }
            UnknownReason::DeploymentFunction(DeploymentFunction::Providers) => {
                json!({"kind": "deploymentFunction", "function": "providers"})
            }
            UnknownReason::DeploymentFunction(DeploymentFunction::NotInTemplate { list, target }) => {
                json!({"kind": "deploymentFunction", "function": if *list { "list" } else { "reference" }, "target": target})
            }
            UnknownReason::Through { via, reason } => {
                let via: Vec<J> = via
                    .iter()
                    .map(|v| match v {
                        Via::Call(f) => json!({"call": f}),
                        Via::ParentParameter(p) => json!({"parentParameter": p}),
                    })
                    .collect();
                json!({"kind": "through", "via": via, "reason": reason.to_json()})
            }
            UnknownReason::CopyCount { copy, reason } => {
                json!({"kind": "copyCount", "copy": copy, "reason": reason.to_json()})
            }
            UnknownReason::ExistingProperties { resource } => {
                json!({"kind": "existingProperties", "resource": resource})
            }
            UnknownReason::AllocatedAddress { public_ip } => {
                json!({"kind": "allocatedAddress", "publicIp": public_ip})
            }
            UnknownReason::NestedOutput { reason } => {
                json!({"kind": "nestedOutput", "reason": reason.to_json()})
            }
            UnknownReason::KnownAfterApply { attribute } => {
                json!({"kind": "knownAfterApply", "attribute": attribute})
            }
        }
    }

    /// The reason [`UnknownReason::to_json`] wrote, or `None` for any other value.
    pub fn from_json(value: &J) -> Option<UnknownReason> {
        Self::from_json_within(value, 0)
    }

    /// [`UnknownReason::from_json`] at nesting `depth`: a reason nested deeper than the
    /// evaluator ever nests one is not one it wrote.
    fn from_json_within(value: &J, depth: usize) -> Option<UnknownReason> {
        const MAX_NESTING: usize = 64;
        if depth > MAX_NESTING {
            return None;
        }
        let m = value.as_object()?;
        let text = |k: &str| m.get(k).and_then(J::as_str).map(str::to_string);
        let flag = |k: &str| m.get(k).and_then(J::as_bool);
        let inner = |k: &str| m.get(k).and_then(|r| Self::from_json_within(r, depth + 1)).map(Box::new);
        Some(match m.get("kind").and_then(J::as_str)? {
            "expression" => {
                UnknownReason::Expression { message: text("message")?, names_a_call: flag("namesACall")? }
            }
            "parameterNeeded" => UnknownReason::ParameterNeeded {
                parameters: m
                    .get("parameters")?
                    .as_array()?
                    .iter()
                    .map(|p| p.as_str().map(str::to_string))
                    .collect::<Option<_>>()?,
                what: text("what")?,
            },
            "noParameterValue" => UnknownReason::NoParameterValue { parameter: text("parameter")? },
            "keyVault" => UnknownReason::KeyVault {
                parameter: text("parameter")?,
                secret: text("secret")?,
                vault: text("vault")?,
            },
            "deploymentFunction" => UnknownReason::DeploymentFunction(match text("function")?.as_str() {
                "providers" => DeploymentFunction::Providers,
                "reference" => DeploymentFunction::NotInTemplate { list: false, target: text("target")? },
                "list" => DeploymentFunction::NotInTemplate { list: true, target: text("target")? },
                _ => return None,
            }),
            "through" => {
                let via = m
                    .get("via")?
                    .as_array()?
                    .iter()
                    .map(|v| {
                        let o = v.as_object()?;
                        let name = |k: &str| o.get(k).and_then(J::as_str).map(str::to_string);
                        name("call")
                            .map(Via::Call)
                            .or_else(|| name("parentParameter").map(Via::ParentParameter))
                    })
                    .collect::<Option<Vec<_>>>()?;
                if via.is_empty() {
                    return None;
                }
                UnknownReason::Through { via, reason: inner("reason")? }
            }
            "copyCount" => UnknownReason::CopyCount { copy: text("copy")?, reason: inner("reason")? },
            "existingProperties" => UnknownReason::ExistingProperties { resource: text("resource")? },
            "allocatedAddress" => UnknownReason::AllocatedAddress { public_ip: text("publicIp")? },
            "nestedOutput" => UnknownReason::NestedOutput { reason: inner("reason")? },
            "knownAfterApply" => UnknownReason::KnownAfterApply { attribute: text("attribute")? },
            _ => return None,
        })
    }
}

impl fmt::Display for UnknownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnknownReason::Expression { message, .. } => f.write_str(message),
            UnknownReason::ParameterNeeded { parameters, what } => {
                let first = parameters.first().map_or("", String::as_str);
                let calls: Vec<String> = parameters.iter().map(|n| format!("parameters('{n}')")).collect();
                write!(
                    f,
                    "{}: the parameter has no value and no defaultValue, and {what} needs its value (nsgsim puts a placeholder only in a name or a resource id); valid: pass it with --parameters FILE or --parameter {first}=VALUE",
                    calls.join(", ")
                )
            }
            UnknownReason::NoParameterValue { parameter: k } => write!(
                f,
                "parameters('{k}'): the parameter has no value and no defaultValue; pass it with --parameters FILE or --parameter {k}=VALUE"
            ),
            UnknownReason::KeyVault { parameter: k, secret, vault } => write!(
                f,
                "parameters('{k}'): a Key Vault reference (secret '{secret}' of {vault}) is only read at deployment; give the value with --parameter {k}=VALUE"
            ),
            UnknownReason::DeploymentFunction(d) => write!(f, "{d}"),
            UnknownReason::Through { via, reason } => {
                for link in via {
                    write!(f, "{link}")?;
                }
                write!(f, "{reason}")
            }
            UnknownReason::NestedOutput { reason } => write!(f, "{reason}"),
            UnknownReason::CopyCount { copy, reason } => {
                write!(f, "the count of copy loop '{copy}': {reason}")
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
            UnknownReason::CopyCount {
                copy: "disks".into(),
                reason: Box::new(UnknownReason::Expression {
                    message: "parameters('n'): no value".into(),
                    names_a_call: true,
                }),
            },
            UnknownReason::AllocatedAddress { public_ip: "pip".into() },
            UnknownReason::NestedOutput {
                reason: Box::new(UnknownReason::Expression {
                    message: "the output has neither".into(),
                    names_a_call: false,
                }),
            },
            UnknownReason::KnownAfterApply { attribute: "next_hop_in_ip_address".into() },
            UnknownReason::ParameterNeeded {
                parameters: vec!["a".into(), "b".into()],
                what: "a condition".into(),
            },
            UnknownReason::NoParameterValue { parameter: "n".into() },
            UnknownReason::KeyVault { parameter: "pw".into(), secret: "s".into(), vault: "/kv".into() },
            UnknownReason::DeploymentFunction(DeploymentFunction::Providers),
            UnknownReason::DeploymentFunction(DeploymentFunction::NotInTemplate {
                list: true,
                target: "x".into(),
            }),
            UnknownReason::AllocatedAddress { public_ip: "pip".into() }
                .through(Via::ParentParameter("ip".into()))
                .through(Via::Call("concat".into())),
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
    fn names_a_call_follows_the_variant() {
        let named: Vec<bool> = all().iter().map(UnknownReason::names_a_call).collect();
        assert_eq!(named, [true, false, false, false, false, false, true, true, true, true, false, true]);
        let nested = UnknownReason::NestedOutput { reason: Box::new(all()[6].clone()) };
        assert!(nested.names_a_call(), "as the nested reason says");
    }

    #[test]
    fn parameters_without_a_value_show_how_to_give_one() {
        assert_eq!(
            all()[6].to_string(),
            "parameters('a'), parameters('b'): the parameter has no value and no defaultValue, and a condition needs its value (nsgsim puts a placeholder only in a name or a resource id); valid: pass it with --parameters FILE or --parameter a=VALUE"
        );
        assert_eq!(
            all()[7].to_string(),
            "parameters('n'): the parameter has no value and no defaultValue; pass it with --parameters FILE or --parameter n=VALUE"
        );
        assert_eq!(
            all()[8].to_string(),
            "parameters('pw'): a Key Vault reference (secret 's' of /kv) is only read at deployment; give the value with --parameter pw=VALUE"
        );
    }

    #[test]
    fn a_deployment_function_shows_its_name() {
        assert!(all()[9].to_string().starts_with("providers() (deprecated) reads"));
        assert!(all()[10].to_string().starts_with("list*('x') reads a resource that is not in the template"));
    }

    #[test]
    fn a_chain_shows_its_links_outermost_first() {
        let UnknownReason::Through { via, reason } = &all()[11] else { panic!("{:?}", all()[11]) };
        assert_eq!(via, &[Via::Call("concat".into()), Via::ParentParameter("ip".into())]);
        assert_eq!(**reason, all()[3]);
        assert_eq!(
            all()[11].to_string(),
            format!("concat(): parameters('ip'), passed in by the parent: {}", all()[3])
        );
    }

    #[test]
    fn a_marker_nested_without_end_is_refused() {
        let mut j = all()[0].to_json();
        for _ in 0..100 {
            j = json!({"kind": "nestedOutput", "reason": j});
        }
        assert_eq!(UnknownReason::from_json(&j), None);
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
