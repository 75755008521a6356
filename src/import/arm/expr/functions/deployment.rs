//! Deployment and scope functions: `parameters`, `variables`, `copyIndex`, `deployment`,
//! `environment`, `deployer`, `resourceGroup`, `subscription`, `tenant`, `managementGroup`.
//! The scope and deployment functions answer from the offline context, each use noted once for
//! the reader's warning.

use serde_json::{Value, json};

use super::{Args, Res};
use crate::import::arm::expr::context::environment_object;
use crate::import::arm::expr::parser::Parser;
use crate::import::arm::expr::{FunctionError, Usage, V};

pub(super) fn call(p: &mut Parser<'_, '_>, name: &str, a: &Args) -> Option<Res> {
    let d = p.ev.scope.deployment.clone();
    Some(match name {
        "parameters" => a.arity(1).and_then(|()| a.text(0)).and_then(|n| p.ev.parameter(&n)),
        "variables" => a.arity(1).and_then(|()| a.text(0)).and_then(|n| p.ev.variable(&n)),
        "copyindex" => match a.json.as_slice() {
            [] => p.ev.copy_index(None, 0),
            [Value::Number(_)] => a.int(0).and_then(|o| p.ev.copy_index(None, o)),
            [Value::String(s)] => p.ev.copy_index(Some(s), 0),
            [Value::String(s), _] => a.int(1).and_then(|o| p.ev.copy_index(Some(s), o)),
            _ => Err(FunctionError::Usage(Usage::CopyIndex).into()),
        },
        "resourcegroup" => scope_function(p, a, "resourceGroup()", d.resource_group_object()),
        "subscription" => scope_function(p, a, "subscription()", d.subscription_object()),
        "tenant" => scope_function(p, a, "tenant()", d.tenant_object()),
        "managementgroup" => scope_function(p, a, "managementGroup()", d.management_group_object()),
        "deployment" => {
            let declarations = &p.ev.scope.declarations;
            let object = d.deployment_object(&declarations.schema, &declarations.content_version);
            scope_function(p, a, "deployment()", object)
        }
        "environment" => scope_function(p, a, "environment()", environment_object()),
        "deployer" => {
            let object = json!({
                "objectId": "00000000-0000-0000-0000-000000000000",
                "tenantId": d.tenant,
                "userPrincipalName": "nsgsim-offline@example.invalid",
            });
            scope_function(p, a, "deployer()", object)
        }
        _ => return None,
    })
}

/// A function of the deployment context: no arguments, and noted for the reader's warning.
fn scope_function(p: &mut Parser<'_, '_>, a: &Args, label: &str, value: Value) -> Res {
    a.arity(0)?;
    p.ev.note(label);
    Ok(V::J(value))
}
