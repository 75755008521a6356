//! Resource functions: `resourceId` (resource group scope, with an optional subscription and
//! resource group), `subscriptionResourceId`, `tenantResourceId`, `extensionResourceId`,
//! `managementGroupResourceId`, `reference`, `list*`, `resourceInfo`, `pickZones`.
//!
//! `reference()` and `list*()` of a resource the template declares answer from its declared
//! properties (through the scope's [`Resources`](crate::import::arm::expr::Resources)); of
//! anything else they fail saying the value is only known at deployment, which the reader
//! turns into a labelled placeholder. `pickZones()` assumes the region has availability zones,
//! noted for the reader's warning. `providers()` (deprecated) cannot be answered offline.

use serde_json::Value;

use super::{Args, Res};
use crate::import::arm::expr::parser::Parser;
use crate::import::arm::expr::{ExprError, FunctionError, Target, Usage, V};
use crate::import::arm::id::{ResourceRef, parse_id};
use crate::import::json::shorten;

pub(super) fn call(p: &mut Parser<'_, '_>, name: &str, a: &Args) -> Option<Res> {
    Some(match name {
        "resourceid" => resource_id(a),
        "subscriptionresourceid" => scoped_id(a, 1, |parts, kind, names| {
            let sub = parts.first().cloned().unwrap_or_default();
            Ok(format!("/subscriptions/{sub}/providers/{}", typed(kind, names)))
        })
        .map(|s| fill_subscription(p, s)),
        "tenantresourceid" => {
            scoped_id(a, 0, |_, kind, names| Ok(format!("/providers/{}", typed(kind, names))))
        }
        "managementgroupresourceid" => scoped_id(a, 1, |parts, kind, names| {
            let group = parts.first().cloned().unwrap_or_default();
            Ok(format!(
                "/providers/Microsoft.Management/managementGroups/{group}/providers/{}",
                typed(kind, names)
            ))
        })
        .map(|s| fill_management_group(p, s)),
        "extensionresourceid" => (|| {
            if a.len() < 3 {
                return Err(FunctionError::Usage(Usage::ExtensionId).into());
            }
            let base = a.text(0)?;
            let kind = a.text(1)?;
            let names: Vec<String> = (2..a.len()).map(|i| a.text(i)).collect::<Result<_, _>>()?;
            check_names(&kind, &names)?;
            Ok(V::str(format!("{}/providers/{}", base.trim_end_matches('/'), typed(&kind, &names))))
        })(),
        "reference" => reference(p, a, false),
        "resourceinfo" => (|| {
            a.arity(1)?;
            let symbolic = a.text(0)?;
            match p.ev.scope.resources.as_ref().and_then(|r| r.info(&symbolic)) {
                Some(found) => found.map(V::J),
                None => Err(FunctionError::NoSymbolicName(shorten(&symbolic)).into()),
            }
        })(),
        "pickzones" => (|| {
            a.arity_between(3, 5)?;
            let count = if a.len() > 3 { a.int(3)? } else { 1 };
            let offset = if a.len() > 4 { a.int(4)? } else { 0 };
            if !(0..=3).contains(&count) || !(0..=2).contains(&offset) {
                return Err(FunctionError::Zones { count, offset }.into());
            }
            p.ev.note("pickZones()");
            let zones = (offset..offset + count).map(|i| Value::String(((i % 3) + 1).to_string())).collect();
            Ok(V::J(Value::Array(zones)))
        })(),
        "providers" => Err(FunctionError::Providers.into()),
        _ if name.starts_with("list") => reference(p, a, true),
        _ => return None,
    })
}

/// `Type/type` followed by the names, as an id writes them.
fn typed(kind: &str, names: &[String]) -> String {
    let mut segments = kind.trim_end_matches('/').split('/');
    let mut out = segments.next().unwrap_or_default().to_string();
    for (segment, name) in segments.zip(names) {
        out.push('/');
        out.push_str(segment);
        out.push('/');
        out.push_str(name);
    }
    out
}

fn check_names(kind: &str, names: &[String]) -> Result<(), ExprError> {
    let segments = kind.trim_end_matches('/').split('/').count().saturating_sub(1);
    if names.len() == segments {
        Ok(())
    } else {
        Err(FunctionError::ResourceNames { kind: shorten(kind), segments, given: names.len() }.into())
    }
}

/// The first argument that is a resource type (`Namespace.Provider/type`).
fn type_position(parts: &[String]) -> Result<usize, ExprError> {
    parts
        .iter()
        .position(|p| p.contains('/') && p.split('/').next().is_some_and(|ns| ns.contains('.')))
        .ok_or_else(|| FunctionError::Usage(Usage::ResourceType).into())
}

/// `resourceId([subscriptionId], [resourceGroupName], type, names...)`: a reference that
/// becomes its id (with the deployment's subscription and resource group where not given)
/// when a string is needed.
fn resource_id(a: &Args) -> Res {
    let parts = a.texts();
    let at = type_position(&parts)?;
    // ARM accepts a type written with a trailing slash
    // (`'Microsoft.Network/virtualNetworks/subnets/'`, in published templates).
    let kind = parts[at].trim_end_matches('/').to_string();
    let names: Vec<String> = parts[at + 1..].to_vec();
    check_names(&kind, &names)?;
    let (subscription, resource_group) = match at {
        2 => (Some(parts[0].clone()), Some(parts[1].clone())),
        1 => (None, Some(parts[0].clone())),
        0 => (None, None),
        _ => return Err(FunctionError::Usage(Usage::TooManyBeforeType).into()),
    };
    Ok(V::Ref(ResourceRef { kind, names, subscription, resource_group }))
}

/// An id at another scope than a resource group: at most `before` arguments before the type,
/// `write` makes the id from them, the type and the names.
fn scoped_id(
    a: &Args,
    before: usize,
    write: impl FnOnce(&[String], &str, &[String]) -> Result<String, ExprError>,
) -> Res {
    let parts = a.texts();
    let at = type_position(&parts)?;
    if at > before {
        return Err(FunctionError::Usage(Usage::TooManyBeforeType).into());
    }
    let kind = parts[at].trim_end_matches('/').to_string();
    let names: Vec<String> = parts[at + 1..].to_vec();
    check_names(&kind, &names)?;
    write(&parts[..at], &kind, &names).map(V::str)
}

/// A subscription-scoped id that named no subscription takes the deployment's.
fn fill_subscription(p: &Parser<'_, '_>, v: V) -> V {
    match v {
        V::J(Value::String(s)) if s.starts_with("/subscriptions//") => V::str(s.replacen(
            "/subscriptions//",
            &format!("/subscriptions/{}/", p.ev.scope.deployment.subscription),
            1,
        )),
        other => other,
    }
}

/// A management-group-scoped id that named no group takes the tenant root group.
fn fill_management_group(p: &Parser<'_, '_>, v: V) -> V {
    match v {
        V::J(Value::String(s)) if s.contains("/managementGroups//") => V::str(s.replacen(
            "/managementGroups//",
            &format!("/managementGroups/{}/", p.ev.scope.deployment.tenant),
            1,
        )),
        other => other,
    }
}

/// `reference(target, [apiVersion], ['Full'])` and `list*(target, apiVersion, ...)`.
fn reference(p: &mut Parser<'_, '_>, a: &Args, list: bool) -> Res {
    if a.len() == 0 {
        return Err(FunctionError::Usage(Usage::ResourceTarget).into());
    }
    let full = !list && a.len() >= 3 && a.text(2)?.eq_ignore_ascii_case("full");
    let target = match &a.vals[0] {
        V::Ref(r) => Target::Id(r.clone()),
        _ => {
            let text = a.text(0)?;
            match parse_id(&text) {
                Some(r) => Target::Id(r),
                None if text.contains('/') => Target::Name(text),
                None => Target::Symbolic(text),
            }
        }
    };
    let shown = match &target {
        Target::Id(r) => format!("{}/{}", r.kind, r.names.join("/")),
        Target::Symbolic(s) | Target::Name(s) => s.clone(),
    };
    match p.ev.scope.resources.as_ref().and_then(|r| r.reference(&target, full)) {
        Some(found) => found.map(V::J),
        None => Err(FunctionError::NotInTemplate { list, target: shorten(&shown) }.into()),
    }
}
