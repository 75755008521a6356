//! The deployment a template would run in, given offline: what `resourceGroup()`,
//! `subscription()`, `tenant()`, `deployment()`, `environment()`, `managementGroup()`,
//! `utcNow()` and `newGuid()` answer.
//!
//! Only a deployment knows these values; `nsgsim import` takes them from its options
//! (`--subscription-id`, `--resource-group`, `--location`, `--tenant-id`, `--deployment-name`,
//! `--utc-now`), each with a stated default, and the template reader prints the ones a template
//! used once, as an assumption. `environment()` answers the public cloud's values (`AzureCloud`)
//! as Microsoft's page lists them (docs/fidelity.md quotes it).

use serde_json::{Value, json};

/// The offline deployment context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
    /// `resourceGroup().location` (`--location`).
    pub location: String,
    /// `resourceGroup().name` (`--resource-group`).
    pub resource_group: String,
    /// `subscription().subscriptionId` (`--subscription-id`).
    pub subscription: String,
    /// `subscription().tenantId` and `tenant().tenantId` (`--tenant-id`).
    pub tenant: String,
    /// `deployment().name` (`--deployment-name`); a nested deployment's own name inside it.
    pub name: String,
    /// What `utcNow()` answers, RFC 3339 (`--utc-now`).
    pub utc_now: String,
    /// `deployment().properties.templateLink.uri`: the template's own `file:` URI, as if it
    /// were deployed from where it lies (model choice: a local deployment has no templateLink;
    /// quickstart templates build the links of their nested templates from it).
    pub template_uri: Option<String>,
}

impl Default for Deployment {
    fn default() -> Deployment {
        Deployment {
            location: "westeurope".into(),
            resource_group: "nsgsim-rg".into(),
            subscription: "00000000-0000-0000-0000-000000000000".into(),
            tenant: "00000000-0000-0000-0000-000000000000".into(),
            name: "nsgsim-import".into(),
            utc_now: "2025-01-06T09:00:00Z".into(),
            template_uri: None,
        }
    }
}

impl Deployment {
    /// `resourceGroup()`.
    pub fn resource_group_object(&self) -> Value {
        json!({
            "id": format!("/subscriptions/{}/resourceGroups/{}", self.subscription, self.resource_group),
            "name": self.resource_group,
            "type": "Microsoft.Resources/resourceGroups",
            "location": self.location,
            "managedBy": null,
            "tags": {},
            "properties": {"provisioningState": "Succeeded"},
        })
    }

    /// `subscription()`.
    pub fn subscription_object(&self) -> Value {
        json!({
            "id": format!("/subscriptions/{}", self.subscription),
            "subscriptionId": self.subscription,
            "tenantId": self.tenant,
            "displayName": "nsgsim offline subscription",
        })
    }

    /// `tenant()`.
    pub fn tenant_object(&self) -> Value {
        json!({
            "countryCode": "US",
            "displayName": "nsgsim offline tenant",
            "id": format!("/tenants/{}", self.tenant),
            "tenantId": self.tenant,
        })
    }

    /// `managementGroup()`: a management group named after the tenant (the tenant root group's
    /// name is the tenant id).
    pub fn management_group_object(&self) -> Value {
        json!({
            "id": format!("/providers/Microsoft.Management/managementGroups/{}", self.tenant),
            "name": self.tenant,
            "properties": {"displayName": "Tenant Root Group", "tenantId": self.tenant},
            "type": "Microsoft.Management/managementGroups",
        })
    }

    /// `deployment()`, with the template's `contentVersion` (and its `$schema`).
    pub fn deployment_object(&self, schema: &str, content_version: &str) -> Value {
        let mut properties = json!({
            "template": {"$schema": schema, "contentVersion": content_version},
            "templateHash": "0",
            "parameters": {},
            "mode": "Incremental",
            "provisioningState": "Accepted",
        });
        if let (Some(uri), Some(p)) = (&self.template_uri, properties.as_object_mut()) {
            p.insert("templateLink".into(), json!({"uri": uri, "contentVersion": content_version}));
        }
        json!({"name": self.name, "properties": properties})
    }
}

/// `environment()`: the public cloud, as Microsoft's "Deployment functions for ARM templates"
/// page shows it for global Azure.
pub fn environment_object() -> Value {
    json!({
        "name": "AzureCloud",
        "gallery": "https://gallery.azure.com/",
        "graph": "https://graph.windows.net/",
        "portal": "https://portal.azure.com",
        "graphAudience": "https://graph.windows.net/",
        "activeDirectoryDataLake": "https://datalake.azure.net/",
        "batch": "https://batch.core.windows.net/",
        "media": "https://rest.media.azure.net",
        "sqlManagement": "https://management.core.windows.net:8443/",
        "vmImageAliasDoc": "https://raw.githubusercontent.com/Azure/azure-rest-api-specs/master/arm-compute/quickstart-templates/aliases.json",
        "resourceManager": "https://management.azure.com/",
        "authentication": {
            "loginEndpoint": "https://login.microsoftonline.com/",
            "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "suffixes": {
            "acrLoginServer": ".azurecr.io",
            "azureDatalakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
            "azureDatalakeStoreFileSystem": "azuredatalakestore.net",
            "azureFrontDoorEndpointSuffix": "azurefd.net",
            "keyvaultDns": ".vault.azure.net",
            "sqlServerHostname": ".database.windows.net",
            "storage": "core.windows.net",
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_answers_the_scope_functions() {
        let d =
            Deployment { template_uri: Some("file:///t/azuredeploy.json".into()), ..Deployment::default() };
        assert_eq!(
            d.resource_group_object()["id"],
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/nsgsim-rg"
        );
        assert_eq!(d.subscription_object()["tenantId"], d.tenant.as_str());
        assert_eq!(d.tenant_object()["id"], format!("/tenants/{}", d.tenant));
        let dep = d.deployment_object("s", "1.0.0.0");
        assert_eq!(dep["name"], "nsgsim-import");
        assert_eq!(dep["properties"]["templateLink"]["uri"], "file:///t/azuredeploy.json");
        assert!(
            Deployment::default().deployment_object("s", "1").pointer("/properties/templateLink").is_none()
        );
        assert_eq!(environment_object()["suffixes"]["storage"], "core.windows.net");
    }
}
