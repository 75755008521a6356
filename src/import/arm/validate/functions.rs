//! The names of the template functions Azure Resource Manager knows, for the validation pass:
//! a call of any other name (that is not a user-defined function the template declares) makes
//! Azure refuse the template ("The template function '…' is not valid").
//!
//! The list is Microsoft's function reference ("ARM template functions", template-functions.md,
//! quoted in docs/fidelity.md), every function the evaluator knows (some newer than that page:
//! `tryGet`, `shallowMerge`, `objectKeys`, `groupBy`, `mapValues`, `flatten`, `deployer`,
//! `resourceInfo`, `managementGroupResourceId`, `lambda`, `lambdaVariables`), and `list*`
//! ("list*" is a family: `listKeys`, `listSecrets`, `listAccountSas`, …). The CIDR functions
//! are "in the `sys` namespace" (the same page), so `sys.` before any of them is accepted too.
//! **Model choice**: a name the list lacks but Azure knows would be refused wrongly, so the list
//! errs on the side of names Azure has documented anywhere.

/// Every function name Azure knows, lower case.
const KNOWN: &[&str] = &[
    // array and object
    "array",
    "concat",
    "contains",
    "createarray",
    "createobject",
    "empty",
    "first",
    "flatten",
    "indexof",
    "intersection",
    "items",
    "json",
    "last",
    "lastindexof",
    "length",
    "max",
    "min",
    "null",
    "objectkeys",
    "range",
    "shallowmerge",
    "skip",
    "take",
    "tryget",
    "union",
    "indexfromend",
    "tryindexfromend",
    // CIDR
    "parsecidr",
    "cidrsubnet",
    "cidrhost",
    // comparison
    "coalesce",
    "equals",
    "greater",
    "greaterorequals",
    "less",
    "lessorequals",
    // date
    "datetimeadd",
    "datetimefromepoch",
    "datetimetoepoch",
    "utcnow",
    // deployment values
    "deployer",
    "deployment",
    "environment",
    "parameters",
    "variables",
    // lambda
    "filter",
    "groupby",
    "lambda",
    "lambdavariables",
    "map",
    "mapvalues",
    "reduce",
    "sort",
    "toobject",
    // logical
    "and",
    "bool",
    "false",
    "if",
    "not",
    "or",
    "true",
    // numeric
    "add",
    "copyindex",
    "div",
    "float",
    "int",
    "mod",
    "mul",
    "sub",
    // resource
    "extensionresourceid",
    "managementgroupresourceid",
    "pickzones",
    "providers",
    "reference",
    "references",
    "resourceid",
    "resourceinfo",
    "subscriptionresourceid",
    "tenantresourceid",
    // scope
    "managementgroup",
    "resourcegroup",
    "subscription",
    "tenant",
    // string
    "base64",
    "base64tojson",
    "base64tostring",
    "datauri",
    "datauritostring",
    "endswith",
    "format",
    "guid",
    "join",
    "newguid",
    "padleft",
    "replace",
    "split",
    "startswith",
    "string",
    "substring",
    "tolower",
    "toupper",
    "trim",
    "uniquestring",
    "uri",
    "uricomponent",
    "uricomponenttostring",
];

/// Whether `name` (any case, without a user-defined namespace) is a function Azure knows:
/// one of [`KNOWN`], a `list*` function, or either of these after `sys.`.
pub fn is_builtin(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let bare = lower.strip_prefix("sys.").unwrap_or(&lower);
    bare.starts_with("list") || KNOWN.contains(&bare)
}

#[cfg(test)]
mod tests {
    use super::is_builtin;

    #[test]
    fn builtins_in_any_case_and_the_list_family() {
        for name in ["concat", "resourceGroup", "UNIQUESTRING", "listKeys", "listAccountSas", "sys.parseCidr"]
        {
            assert!(is_builtin(name), "{name}");
        }
    }

    #[test]
    fn others_are_not() {
        for name in ["concatt", "resourceGroups", "contoso.uniqueName", "sys.nothing", "field"] {
            assert!(!is_builtin(name), "{name}");
        }
    }
}
