//! One test per function family, each value as Microsoft's function reference gives it where it
//! gives one.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::import::arm::expr::{
    ArgKind, ArmValue, Deployment, ExprError, FunctionError, TemplateScope, eval_string,
};

fn scope() -> TemplateScope {
    let vars = json!({
        "dogs": [{"name": "Evie", "age": 5}, {"name": "Casper", "age": 3}, {"name": "Indy", "age": 2}, {"name": "Kira", "age": 8}],
        "obj": {"b": 2, "a": 1}
    });
    TemplateScope::template(
        Map::new(),
        vars.as_object().cloned().unwrap_or_default(),
        HashMap::new(),
        Deployment::default(),
    )
}

fn ev(text: &str) -> Value {
    match eval_string(text, &scope()) {
        Ok(ArmValue::Str(s)) => Value::String(s),
        Ok(ArmValue::Int(n)) => Value::from(n),
        Ok(ArmValue::Json(v)) => v,
        Ok(ArmValue::Ref(r)) => Value::String(r.id(&Deployment::default())),
        Err(e) => Value::String(format!("error: {e}")),
    }
}

#[test]
fn string_functions() {
    assert_eq!(ev("[base64('one, two, three')]"), "b25lLCB0d28sIHRocmVl");
    assert_eq!(ev("[base64ToString('b25lLCB0d28sIHRocmVl')]"), "one, two, three");
    assert_eq!(ev("[base64ToJson(base64('{\"one\": \"a\"}')).one]"), "a");
    assert_eq!(ev("[dataUri('Hello')]"), "data:text/plain;charset=utf8;base64,SGVsbG8=");
    assert_eq!(ev("[dataUriToString('data:;base64,SGVsbG8sIFdvcmxkIQ==')]"), "Hello, World!");
    assert_eq!(ev("[padLeft('123', 10, '0')]"), "0000000123");
    assert_eq!(ev("[padLeft(7, 3)]"), "  7");
    assert_eq!(
        ev("[uri('http://contoso.com/resources/', 'nested/azuredeploy.json')]"),
        "http://contoso.com/resources/nested/azuredeploy.json"
    );
    assert_eq!(ev("[uriComponent('a b/c')]"), "a%20b%2Fc");
    assert_eq!(ev("[uriComponentToString('a%20b%2Fc')]"), "a b/c");
    assert_eq!(ev("[format('{0}-{1:D3}', 'nsg', 7)]"), "nsg-007");
    assert_eq!(ev("[guid('test', 'value')]"), "95b33d6a-06a0-5961-9b94-a0f6c648352b");
    assert_eq!(ev("[uniqueString('test', 'value')]"), "bhxq2thzm5dym");
    assert!(matches!(
        failure("[uniqueString(1)]"),
        ExprError::InCall { cause, .. }
            if matches!(*cause, ExprError::WrongType { position: 1, expected: ArgKind::String, found: "a number" })
    ));
    assert_eq!(ev("[split('a,b;c', createArray(',', ';'))]"), json!(["a", "b", "c"]));
    assert_eq!(ev("[join(createArray('a', 'b'), '-')]"), "a-b");
    assert_eq!(ev("[substring('hello', 1, 3)]"), "ell");
    assert_eq!(ev("[startsWith('ABCD', 'ab')]"), true);
    assert_eq!(ev("[endsWith('abcd', 'CD')]"), true);
    assert_eq!(ev("[replace('a.b', '.', '-')]"), "a-b");
    assert_eq!(ev("[string(createObject('a', 1))]"), "{\"a\":1}");
    assert_eq!(ev("[string(true())]"), "True");
    assert_eq!(ev("[toUpper(trim('  x '))]"), "X");
}

#[test]
fn array_and_object_functions() {
    assert_eq!(ev("[contains(createObject('Key', 1), 'KEY')]"), true);
    assert_eq!(ev("[contains('OneTwo', 'one')]"), false);
    assert_eq!(ev("[indexOf('abcdef', 'CD')]"), 2);
    assert_eq!(ev("[lastIndexOf(createArray(1, 2, 1), 1)]"), 2);
    assert_eq!(ev("[intersection(createArray(1, 2, 3), createArray(3, 2, 9))]"), json!([2, 3]));
    assert_eq!(
        ev("[union(createObject('a', createObject('x', 1)), createObject('a', createObject('y', 2)))]"),
        json!({"a": {"x": 1, "y": 2}})
    );
    assert_eq!(ev("[items(variables('obj'))]"), json!([{"key": "a", "value": 1}, {"key": "b", "value": 2}]));
    assert_eq!(ev("[objectKeys(variables('obj'))]"), json!(["a", "b"]));
    assert_eq!(
        ev("[shallowMerge(createArray(createObject('a', 1), createObject('A', 2, 'b', 3)))]"),
        json!({"A": 2, "b": 3})
    );
    assert_eq!(ev("[tryGet(variables('obj'), 'missing')]"), Value::Null);
    assert_eq!(ev("[tryGet(variables('dogs'), 1, 'name')]"), "Casper");
    assert_eq!(ev("[flatten(createArray(createArray(1), createArray(2, 3)))]"), json!([1, 2, 3]));
    assert_eq!(ev("[range(5, 3)]"), json!([5, 6, 7]));
    assert_eq!(ev("[take(skip(createArray(1, 2, 3, 4), 1), 2)]"), json!([2, 3]));
    assert_eq!(ev("[first('abc')]"), "a");
    assert_eq!(ev("[last(createArray(1, 2))]"), 2);
    assert_eq!(ev("[empty(null())]"), true);
    assert_eq!(ev("[length(json('{\"a\": [1, 2]}').a)]"), 2);
    assert_eq!(ev("[array('x')]"), json!(["x"]));
    assert_eq!(ev("[concat(createArray(1), createArray(2))]"), json!([1, 2]));
}

#[test]
fn numeric_comparison_and_logical_functions() {
    assert_eq!(ev("[add(1, mul(2, sub(5, div(9, mod(7, 4)))))]"), 5);
    assert_eq!(ev("[int('42')]"), 42);
    assert_eq!(ev("[int(float('3.7'))]"), 3);
    assert_eq!(ev("[max(createArray(3, 9, 1))]"), 9);
    assert_eq!(ev("[min(3, 9, 1)]"), 1);
    assert_eq!(ev("[greater('b', 'a')]"), true);
    assert_eq!(ev("[lessOrEquals(2, 2)]"), true);
    assert_eq!(ev("[equals(createObject('A', 1), createObject('a', 1))]"), true);
    assert_eq!(ev("[coalesce(null(), null(), 'x')]"), "x");
    assert_eq!(ev("[and(true(), or(false(), not(false())))]"), true);
    // `and` stops at the first false, `or` at the first true: what follows is not evaluated.
    assert_eq!(ev("[and(contains(createObject(), 'enabled'), createObject().enabled)]"), false);
    assert_eq!(ev("[or(empty(createArray()), equals(createArray()[0], 'x'))]"), true);
    assert_eq!(
        failure("[and(true(), createObject().enabled)]"),
        ExprError::NoProperty { property: "enabled".into(), has: vec![] }
    );
    assert_eq!(ev("[bool('TRUE')]"), true);
    assert_eq!(ev("[if(equals(1, 2), 'y', 'n')]"), "n");
}

#[test]
fn lambda_functions_as_microsofts_examples() {
    // Microsoft's lambda reference, with its dogs.
    assert_eq!(
        ev("[filter(variables('dogs'), lambda('dog', greaterOrEquals(lambdaVariables('dog').age, 5)))]"),
        json!([{"name": "Evie", "age": 5}, {"name": "Kira", "age": 8}])
    );
    assert_eq!(
        ev(
            "[filter(variables('dogs'), lambda('val', 'i', and(less(lambdaVariables('i'), 2), equals(lambdaVariables('val').age, 3))))]"
        ),
        json!([{"name": "Casper", "age": 3}])
    );
    assert_eq!(
        ev("[map(variables('dogs'), lambda('dog', lambdaVariables('dog').name))]"),
        json!(["Evie", "Casper", "Indy", "Kira"])
    );
    assert_eq!(
        ev(
            "[reduce(map(variables('dogs'), lambda('d', lambdaVariables('d').age)), 0, lambda('cur', 'next', add(lambdaVariables('cur'), lambdaVariables('next'))))]"
        ),
        18
    );
    assert_eq!(
        ev(
            "[map(sort(variables('dogs'), lambda('a', 'b', less(lambdaVariables('a').age, lambdaVariables('b').age))), lambda('d', lambdaVariables('d').name))]"
        ),
        json!(["Indy", "Casper", "Evie", "Kira"])
    );
    assert_eq!(
        ev(
            "[toObject(variables('dogs'), lambda('d', lambdaVariables('d').name), lambda('d', lambdaVariables('d').age)).Kira]"
        ),
        8
    );
    assert_eq!(
        ev("[groupBy(createArray('foo', 'bar', 'baz'), lambda('x', substring(lambdaVariables('x'), 0, 1)))]"),
        json!({"f": ["foo"], "b": ["bar", "baz"]})
    );
    assert_eq!(
        ev("[mapValues(createObject('a', 1), lambda('v', mul(lambdaVariables('v'), 10)))]"),
        json!({"a": 10})
    );
    assert!(matches!(
        failure("[map(createArray(1), 'notalambda')]"),
        ExprError::InCall { function, cause }
            if function == "map" && matches!(*cause, ExprError::Function(FunctionError::NotALambda { position: 2, .. }))
    ));
    assert_eq!(failure("[lambdaVariables('x')]"), ExprError::NoLambdaVariable { name: "x".into() });
}

#[test]
fn date_cidr_and_resource_id_functions() {
    assert_eq!(ev("[dateTimeAdd('2020-04-07 14:53:14Z', 'P3Y')]"), "2023-04-07T14:53:14Z");
    assert_eq!(ev("[dateTimeAdd('2020-04-07T14:53:14Z', '-PT1H', 'u')]"), "2020-04-07 13:53:14Z");
    assert_eq!(ev("[dateTimeFromEpoch(1683040573)]"), "2023-05-02T15:16:13Z");
    assert_eq!(ev("[dateTimeToEpoch('2023-05-02T15:16:13Z')]"), 1_683_040_573);
    assert_eq!(ev("[cidrSubnet('10.144.0.0/20', 24, 4)]"), "10.144.4.0/24");
    assert_eq!(ev("[cidrSubnet('fdad:3236:5555::/48', 52, 1)]"), "fdad:3236:5555:1000::/52");
    assert_eq!(ev("[cidrHost('10.144.3.0/24', 0)]"), "10.144.3.1");
    assert_eq!(ev("[cidrHost('fdad:3236:5555:3000::/52', 4)]"), "fdad:3236:5555:3000::5");
    assert_eq!(ev("[parseCidr('10.144.0.0/20').broadcast]"), "10.144.15.255");
    let sub = "00000000-0000-0000-0000-000000000000";
    assert_eq!(
        ev("[resourceId('otherRg', 'Microsoft.Network/virtualNetworks', 'v')]"),
        format!("/subscriptions/{sub}/resourceGroups/otherRg/providers/Microsoft.Network/virtualNetworks/v")
    );
    assert_eq!(
        ev("[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'r')]"),
        format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/r")
    );
    assert_eq!(
        ev("[tenantResourceId('Microsoft.Authorization/policyDefinitions', 'p')]"),
        "/providers/Microsoft.Authorization/policyDefinitions/p"
    );
    assert_eq!(
        ev(
            "[extensionResourceId('/subscriptions/s/resourceGroups/g', 'Microsoft.Authorization/locks', 'l')]"
        ),
        "/subscriptions/s/resourceGroups/g/providers/Microsoft.Authorization/locks/l"
    );
    assert_eq!(
        ev("[managementGroupResourceId('mg1', 'Microsoft.Authorization/policyDefinitions', 'p')]"),
        "/providers/Microsoft.Management/managementGroups/mg1/providers/Microsoft.Authorization/policyDefinitions/p"
    );
    assert_eq!(ev("[pickZones('Microsoft.Compute', 'virtualMachines', 'westus2', 2)]"), json!(["1", "2"]));
    assert_eq!(
        failure("[reference('x')]"),
        ExprError::Function(FunctionError::NotInTemplate { list: false, target: "x".into() })
    );
    let list = failure("[listKeys('x', '2021-01-01')]");
    let not_in_template =
        ExprError::Function(FunctionError::NotInTemplate { list: true, target: "x".into() });
    assert_eq!(list, not_in_template.clone().in_call("listKeys"));
    assert!(
        list.to_string().starts_with("listKeys(): list*('x') reads a resource that is not in the template"),
        "{list}"
    );
    assert_eq!(failure("[providers('Microsoft.Web')]"), ExprError::Function(FunctionError::Providers));
    assert_eq!(ev("[environment().suffixes.storage]"), "core.windows.net");
    assert_eq!(ev("[tenant().tenantId]"), sub);
    assert_eq!(ev("[deployment().name]"), "nsgsim-import");
    assert_eq!(ev("[managementGroup().name]"), sub);
}

/// The error of `text`, which must fail.
fn failure(text: &str) -> ExprError {
    eval_string(text, &scope()).expect_err(text)
}

#[test]
fn argument_failures_are_data_naming_the_call() {
    let in_call = |function: &str, cause: ExprError| ExprError::InCall {
        function: function.into(),
        cause: Box::new(cause),
    };
    assert_eq!(failure("[length()]"), in_call("length", ExprError::Arity { min: 1, max: 1, given: 0 }));
    assert_eq!(
        failure("[substring('abc')]"),
        in_call("substring", ExprError::Arity { min: 2, max: 3, given: 1 })
    );
    assert!(matches!(
        failure("[flatten('x')]"),
        ExprError::InCall { cause, .. }
            if matches!(*cause, ExprError::WrongType { position: 1, expected: ArgKind::Array, .. })
    ));
    assert_eq!(
        failure("[first(createObject('a', 1), 1)]"),
        in_call("first", ExprError::Arity { min: 1, max: 1, given: 2 })
    );
    assert_eq!(
        failure("[substring('abc', 'x')]"),
        in_call("substring", ExprError::NotAnInteger { value: "x".into(), string: true })
    );
    assert_eq!(
        failure("[noSuchFunction(1)]"),
        in_call("noSuchFunction", ExprError::UnsupportedFunction { name: "noSuchFunction".into() })
    );
    // A failure inside a nested call keeps the inner call's name.
    let nested = failure("[concat('a', length())]");
    assert_eq!(nested, in_call("length", ExprError::Arity { min: 1, max: 1, given: 0 }));
    assert_eq!(nested.to_string(), "length(): takes 1 argument(s), given 0");
}
