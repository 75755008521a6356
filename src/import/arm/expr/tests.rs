//! Unit tests of the expression evaluator: references, functions, bounds.

use super::*;

fn scope() -> TemplateScope {
    let v: Value = serde_json::json!({
        "parameters": {"nsgName": {"type": "string", "defaultValue": "web-nsg"},
                       "noDefault": {"type": "string"},
                       "noDefaultPort": {"type": "int"},
                       "password": {"type": "secureString"},
                       "ports": {"type": "array", "defaultValue": ["22", "3389"]},
                       "location": {"type": "string", "defaultValue": "[resourceGroup().location]"},
                       "deploy": {"type": "bool", "defaultValue": false}},
        "variables": {"vnet": "prod", "subnetRef": "[resourceId('Microsoft.Network/virtualNetworks/subnets', variables('vnet'), 'web')]",
                      "self": "[variables('self')]",
                      "a": "[variables('b')]", "b": "[concat(variables('a'), 'x')]",
                      "cfg": {"name": "[parameters('nsgName')]", "list": [1, 2]},
                      "copy": [{"name": "names", "count": 3, "input": "[concat('r', copyIndex('names'))]"}]}
    });
    TemplateScope::template(
        v["parameters"].as_object().cloned().unwrap_or_default(),
        v["variables"].as_object().cloned().unwrap_or_default(),
        HashMap::new(),
        Deployment::default(),
    )
}

fn s(text: &str) -> ArmValue {
    ArmValue::Str(text.into())
}

#[test]
fn expressions_resolve_parameters_variables_and_resource_ids() {
    let sc = scope();
    assert_eq!(eval_string("[parameters('nsgName')]", &sc), Ok(s("web-nsg")));
    assert_eq!(eval_string("[concat(parameters('nsgName'), '-', 'x')]", &sc), Ok(s("web-nsg-x")));
    assert_eq!(eval_string("[format('{0}-{1}', 'a', 2)]", &sc), Ok(s("a-2")));
    assert_eq!(eval_string("[format('{{{0}}}', 'a')]", &sc), Ok(s("{a}")));
    // A variable is evaluated once and remembered as JSON: a resource id it holds is its id text.
    let ArmValue::Str(id) = eval_string("[variables('subnetRef')]", &sc).expect("an id") else {
        panic!("not an id")
    };
    let r = crate::import::arm::id::parse_id(&id).expect("an id");
    assert_eq!(r.key(), "microsoft.network/virtualnetworks/subnets|prod/web");
    let ArmValue::Ref(slash) =
        eval_string("[resourceId('Microsoft.Network/virtualNetworks/subnets/', 'prod', 'web')]", &sc)
            .expect("a ref")
    else {
        panic!("not a ref")
    };
    assert_eq!(slash.key(), r.key());
    // A string parameter given nothing is a placeholder (see `placeholder`); any other type is
    // an error.
    assert_eq!(eval_string("[parameters('noDefault')]", &sc), Ok(s(&placeholder::make("noDefault"))));
    let err = eval_string("[parameters('noDefaultPort')]", &sc).expect_err("no default").to_string();
    assert_eq!(
        err,
        "parameters('noDefaultPort'): the parameter has no value and no defaultValue; pass it with --parameters FILE or --parameter noDefaultPort=VALUE"
    );
    let err = eval_string("[parameters('nothing')]", &sc).expect_err("undeclared").to_string();
    assert!(
        err.ends_with("(declared: deploy, location, noDefault, noDefaultPort, nsgName, password, ports)"),
        "{err}"
    );
    assert_eq!(eval_string("[[literal]", &sc), Ok(s("[literal]")));
    assert_eq!(eval_string("plain", &sc), Ok(s("plain")));
}

#[test]
fn functions_indexing_and_property_access() {
    let sc = scope();
    assert_eq!(eval_string("[length(parameters('ports'))]", &sc), Ok(ArmValue::Int(2)));
    assert_eq!(eval_string("[parameters('ports')[1]]", &sc), Ok(s("3389")));
    assert_eq!(eval_string("[add(100, mul(2, 5))]", &sc), Ok(ArmValue::Int(110)));
    assert_eq!(eval_string("[variables('cfg').name]", &sc), Ok(s("web-nsg")));
    assert_eq!(eval_string("[variables('cfg').list[0]]", &sc), Ok(ArmValue::Int(1)));
    assert_eq!(eval_string("[toLower('AbC')]", &sc), Ok(s("abc")));
    assert_eq!(eval_string("[if(equals(1, 1), 'yes', 'no')]", &sc), Ok(s("yes")));
    assert_eq!(eval_string("[not(parameters('deploy'))]", &sc), Ok(ArmValue::Json(Value::Bool(true))));
    assert_eq!(eval_string("[split('a,b', ',')[1]]", &sc), Ok(s("b")));
    assert_eq!(eval_string("[variables('names')[2]]", &sc), Ok(s("r2")));
    assert_eq!(
        eval_string("[concat(createArray(1), createArray(2))]", &sc),
        Ok(ArmValue::Json(serde_json::json!([1, 2])))
    );
    // `if` evaluates only the branch it takes: the other may not be evaluable.
    assert_eq!(eval_string("[if(true(), 'x', reference('y'))]", &sc), Ok(s("x")));
    assert_eq!(
        eval_string("[if(false(), 'x', reference('y'))]", &sc),
        Err(ExprError::Function(FunctionError::NotInTemplate { list: false, target: "y".into() }))
    );
    assert_eq!(
        eval_string("[parameters('ports')[5]]", &sc),
        Err(ExprError::IndexOutOfRange { index: "5".into(), len: 2 })
    );
}

#[test]
fn deployment_functions_answer_from_the_offline_stand_ins() {
    let mut sc = scope();
    sc.deployment.location = "northeurope".into();
    assert_eq!(eval_string("[parameters('location')]", &sc), Ok(s("northeurope")));
    assert_eq!(
        eval_string("[concat(parameters('location'), '/default')]", &sc),
        Ok(s("northeurope/default"))
    );
    assert_eq!(
        eval_string("[subscription().subscriptionId]", &sc),
        Ok(s("00000000-0000-0000-0000-000000000000"))
    );
    assert_eq!(sc.take_stand_ins(), ["resourceGroup()", "subscription()"]);
    assert!(sc.take_stand_ins().is_empty());
}

#[test]
fn self_reference_is_an_error_naming_the_chain_not_a_stack_overflow() {
    let sc = scope();
    let chain =
        |names: &[&str]| Err(ExprError::Cycle(names.iter().map(|n| format!("variables('{n}')")).collect()));
    assert_eq!(eval_string("[variables('self')]", &sc), chain(&["self", "self"]));
    assert_eq!(eval_string("[variables('a')]", &sc), chain(&["a", "b", "a"]));
    // A long but finite chain is fine; a deep expression is refused, not overflowed.
    let deep = format!("[{}'x'{}]", "concat(".repeat(200), ")".repeat(200));
    assert_eq!(eval_string(&deep, &sc), Err(ExprError::Syntax { error: SyntaxError::TooDeep, hint: false }));
}

#[test]
fn copy_index_answers_the_innermost_loop_of_its_name() {
    let sc = scope();
    assert_eq!(
        eval_string("[copyIndex()]", &sc),
        Err(ExprError::CopyIndexOutside { name: None, valid: vec![] })
    );
    let inner = sc.with_copy("loop", 2, true);
    assert_eq!(eval_string("[copyIndex()]", &inner), Ok(ArmValue::Int(2)));
    assert_eq!(eval_string("[copyIndex(1)]", &inner), Ok(ArmValue::Int(3)));
    assert_eq!(eval_string("[copyIndex('loop', 10)]", &inner), Ok(ArmValue::Int(12)));
}

#[test]
fn given_parameter_values_win_over_defaults_and_are_not_evaluated() {
    let v = serde_json::json!({"name": {"type": "string", "defaultValue": "from-default"},
                               "noDefault": {"type": "string"}, "secret": {"type": "securestring"}});
    let supplied = HashMap::from([
        ("NAME".to_string(), Supplied::Value(serde_json::json!("[not an expression]"))),
        ("nodefault".to_string(), Supplied::Value(serde_json::json!(42))),
        (
            "secret".to_string(),
            Supplied::KeyVault { secret: "pw".into(), vault: "/subscriptions/s/vaults/kv".into() },
        ),
    ]);
    let sc = TemplateScope::template(
        v.as_object().cloned().unwrap_or_default(),
        Map::new(),
        supplied,
        Deployment::default(),
    );
    assert_eq!(eval_string("[parameters('name')]", &sc), Ok(s("[not an expression]")));
    assert_eq!(eval_string("[add(parameters('noDefault'), 1)]", &sc), Ok(ArmValue::Int(43)));
    assert_eq!(
        eval_string("[parameters('secret')]", &sc),
        Err(ExprError::KeyVault {
            parameter: "secret".into(),
            secret: "pw".into(),
            vault: "/subscriptions/s/vaults/kv".into()
        })
    );
}

#[test]
fn a_null_given_for_a_parameter_with_a_default_takes_the_default() {
    let v = serde_json::json!({"name": {"type": "string", "defaultValue": "[concat('peer-', 'x')]"},
                               "plain": {"type": "string", "nullable": true}});
    let supplied = HashMap::from([
        ("name".to_string(), Supplied::Value(Value::Null)),
        ("plain".to_string(), Supplied::Value(Value::Null)),
    ]);
    let sc = TemplateScope::template(
        v.as_object().cloned().unwrap_or_default(),
        Map::new(),
        supplied,
        Deployment::default(),
    );
    assert_eq!(eval_string("[parameters('name')]", &sc), Ok(s("peer-x")));
    // Without a default the null stays: there is nothing else to take.
    assert_eq!(eval_json(&Value::String("[parameters('plain')]".into()), &sc), Ok(Value::Null));
}

#[test]
fn conditions_and_counts() {
    let sc = scope();
    assert_eq!(eval_condition(&Value::Bool(false), &sc), Ok(false));
    assert_eq!(eval_condition(&Value::String("[parameters('deploy')]".into()), &sc), Ok(false));
    assert_eq!(eval_condition(&Value::String("[equals(variables('vnet'), 'prod')]".into()), &sc), Ok(true));
    assert_eq!(
        eval_condition(&Value::String("[variables('vnet')]".into()), &sc),
        Err(ExprError::ConditionNotBoolean("the string 'prod'".into()))
    );
    assert_eq!(eval_count(&serde_json::json!(3), &sc), Ok(3));
    assert_eq!(
        eval_count(&serde_json::json!(801), &sc),
        Err(ExprError::CopyCount(CopyCountError::OutOfRange(801)))
    );
    let array = eval_count(&serde_json::json!("[createArray(1)]"), &sc);
    assert_eq!(array, Err(ExprError::CopyCount(CopyCountError::Json("an array"))));
    assert_eq!(array.map_err(|e| e.to_string()), Err("a copy count is an integer, found an array".into()));
}

#[test]
fn function_names_and_properties_are_read_without_case() {
    let sc = scope();
    assert_eq!(eval_string("[PARAMETERS('NSGNAME')]", &sc), Ok(s("web-nsg")));
    assert_eq!(eval_string("[Variables('CFG').NAME]", &sc), Ok(s("web-nsg")));
    assert_eq!(eval_string("[resourceGroup().LOCATION]", &sc), Ok(s("westeurope")));
    assert_eq!(eval_string("[[parameters('x')]", &sc), Ok(s("[parameters('x')]")));
}

#[test]
fn doubling_variables_are_evaluated_once_and_stop_at_the_budget() {
    // 40 variables, each the concatenation of the one before with itself: remembered, each is
    // evaluated once (not 2^40 times), and what they build is counted as it is built.
    let mut vars = Map::new();
    vars.insert("v0".into(), Value::String("a".repeat(16)));
    for i in 1..=40 {
        vars.insert(
            format!("v{i}"),
            Value::String(format!("[concat(variables('v{}'), variables('v{}'))]", i - 1, i - 1)),
        );
    }
    let sc = TemplateScope::template(Map::new(), vars, HashMap::new(), Deployment::default());
    let start = std::time::Instant::now();
    assert_eq!(eval_string("[length(variables('v10'))]", &sc), Ok(ArmValue::Int(16 * 1024)));
    assert_eq!(
        eval_string("[substring(variables('v40'), 0, 3)]", &sc),
        Err(ExprError::Budget(budget::BudgetExceeded { limit: budget::MAX_BUILT_BYTES }).in_call("variables"))
    );
    assert!(sc.budget().is_exceeded());
    assert!(start.elapsed().as_secs() < 10, "bounded in time too");
}

#[test]
fn integer_arithmetic_is_checked() {
    let sc = scope();
    let max = i64::MAX;
    let function = |e: FunctionError| Err(ExprError::Function(e));
    let overflow =
        |f: &str, operands: String| function(FunctionError::Overflow { function: Some(f.into()), operands });
    assert_eq!(eval_string(&format!("[add({max}, 1)]"), &sc), overflow("add", format!("{max}, 1")));
    assert_eq!(
        eval_string(&format!("[add({max}, 1)]"), &sc).map_err(|e| e.to_string()),
        Err(format!(
            "add({max}, 1) is beyond the 64-bit integers ARM computes with; valid: {}..={max}",
            i64::MIN
        ))
    );
    assert_eq!(
        eval_string("[div(1, 0)]", &sc),
        function(FunctionError::DivideByZero { function: "div".into(), dividend: 1 })
    );
    assert_eq!(
        eval_string("[mod(1, 0)]", &sc),
        function(FunctionError::DivideByZero { function: "mod".into(), dividend: 1 })
    );
    assert_eq!(eval_string(&format!("[mul({max}, 2)]"), &sc), overflow("mul", format!("{max}, 2")));
    assert_eq!(eval_string(&format!("[sub(-{max}, 2)]"), &sc), overflow("sub", format!("-{max}, 2")));
    assert_eq!(
        eval_string(&format!("[range({max}, 2)]"), &sc),
        function(FunctionError::RangeBeyond { start: max, count: 2 })
    );
    assert_eq!(
        eval_string("[range(0, 10001)]", &sc),
        Err(ExprError::InCall {
            function: "range".into(),
            cause: Box::new(ExprError::Function(FunctionError::RangeCount { count: 10_001, max: 10_000 }))
        })
    );
    let inner = sc.with_copy("r", 1, false);
    assert_eq!(
        eval_string(&format!("[copyIndex('r', {max})]"), &inner),
        Err(ExprError::CopyIndexOverflow { index: 1, offset: max })
    );
    let long = format!("[concat('{}')]", "x".repeat(MAX_EXPRESSION_CHARS));
    assert_eq!(
        eval_string(&long, &sc),
        Err(ExprError::Syntax {
            error: SyntaxError::TooLong { chars: MAX_EXPRESSION_CHARS + 10, limit: MAX_EXPRESSION_CHARS },
            hint: false
        })
    );
}

#[test]
fn messages_never_echo_long_values_or_debug_formatting() {
    let mut vars = Map::new();
    vars.insert("long".into(), Value::String(format!("{}\u{1b}", "y".repeat(500))));
    let sc = TemplateScope::template(Map::new(), vars, HashMap::new(), Deployment::default());
    let e = eval_count(&Value::String("[variables('long')]".into()), &sc).expect_err("a string").to_string();
    assert!(e.chars().count() < 300, "{e}");
    let e = eval_condition(&Value::String("[createArray(1, 'two')]".into()), &sc)
        .expect_err("not a boolean")
        .to_string();
    assert_eq!(e, "a condition must be a boolean, found an array [1,\"two\"]");
    for e in [e, eval_string("[variables('long').x]", &sc).expect_err("no property").to_string()] {
        assert!(!e.contains("Array [") && !e.contains("Str(") && !e.contains("String("), "{e}");
    }
}

#[test]
fn deployment_only_functions_answer_from_the_context_in_parameter_defaults() {
    let params = serde_json::json!({
        "stamp": {"type": "string", "defaultValue": "[utcNow('yyyy-MM-dd')]"},
        "id": {"type": "string", "defaultValue": "[newGuid()]"},
        "maybe": {"type": "string", "nullable": true}
    });
    let d = Deployment { utc_now: "2024-02-29T10:00:00Z".into(), ..Deployment::default() };
    let sc = TemplateScope::template(
        params.as_object().cloned().unwrap_or_default(),
        Map::new(),
        HashMap::new(),
        d,
    );
    assert_eq!(eval_string("[parameters('stamp')]", &sc), Ok(s("2024-02-29")));
    let ArmValue::Str(g) = eval_string("[parameters('id')]", &sc).expect("a guid") else {
        panic!("a string")
    };
    assert_eq!(g.len(), 36);
    assert_eq!(eval_string("[parameters('id')]", &sc), Ok(ArmValue::Str(g)), "the same guid every time");
    assert_eq!(
        eval_string("[utcNow()]", &sc),
        Err(ExprError::Function(FunctionError::OnlyInParameterDefault { function: "utcNow" }))
    );
    assert_eq!(
        eval_string("[newGuid()]", &sc),
        Err(ExprError::Function(FunctionError::OnlyInParameterDefault { function: "newGuid" }))
    );
    assert_eq!(eval_string("[parameters('maybe')]", &sc), Ok(ArmValue::Json(Value::Null)));
    assert_eq!(sc.take_stand_ins(), ["newGuid()", "utcNow()"]);
    assert_eq!(
        eval_string("[uniqueString(resourceGroup().id)]", &sc),
        Ok(s(&hash::unique_string(&[
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/nsgsim-rg".into()
        ])))
    );
}

#[test]
fn user_defined_functions_see_only_their_parameters() {
    let functions = serde_json::json!([{"namespace": "contoso", "members": {
        "uniqueName": {"parameters": [{"name": "namePrefix", "type": "string"}],
                       "output": {"type": "string", "value": "[concat(toLower(parameters('namePrefix')), '-nsg')]"}},
        "loop": {"parameters": [], "output": {"type": "string", "value": "[contoso.loop()]"}}}}]);
    let sc = scope().with_template_details(&functions, "s", "1.0.0.0");
    assert_eq!(eval_string("[contoso.uniqueName('Web')]", &sc), Ok(s("web-nsg")));
    assert_eq!(eval_string("[CONTOSO.UNIQUENAME(parameters('nsgName'))]", &sc), Ok(s("web-nsg-nsg")));
    assert_eq!(
        eval_string("[contoso.loop()]", &sc),
        Err(ExprError::Recursion { name: "contoso.loop".into() })
    );
    assert_eq!(
        eval_string("[contoso.nothing()]", &sc),
        Err(ExprError::UndefinedFunction { name: "contoso.nothing".into() }.in_call("contoso.nothing"))
    );
}

#[test]
fn a_placeholder_names_things_but_never_decides_anything() {
    let v: Value = serde_json::json!({
        "parameters": {"vmName": {"type": "string"}, "password": {"type": "secureString"},
                       "port": {"type": "int"}},
        "variables": {"vms": [{"name": "dc", "password": "[parameters('password')]"},
                              {"name": "sql", "password": "[parameters('password')]"}],
                      "nic": "[concat(toLower(parameters('vmName')), '-nic')]"}
    });
    let sc = TemplateScope::template(
        v["parameters"].as_object().cloned().unwrap_or_default(),
        v["variables"].as_object().cloned().unwrap_or_default(),
        HashMap::new(),
        Deployment::default(),
    );
    let p = |name: &str| placeholder::make(name);
    // Names are built with it, the same every time, and resource ids link by it.
    assert_eq!(eval_string("[variables('nic')]", &sc), Ok(s(&format!("{}-nic", p("vmname")))));
    let ArmValue::Ref(r) =
        eval_string("[resourceId('Microsoft.Compute/virtualMachines', parameters('vmName'))]", &sc)
            .expect("an id")
    else {
        panic!("not a ref")
    };
    assert_eq!(r.names, [p("vmName")]);
    // A name kept within a length is kept whole.
    assert_eq!(eval_string("[take(parameters('vmName'), 3)]", &sc), Ok(s(&p("vmName"))));
    // An array that holds a password has its length: a copy count needs only that (sharepoint-adfs).
    assert_eq!(eval_count(&serde_json::json!("[length(variables('vms'))]"), &sc), Ok(2));
    // Whatever reads the placeholder's value is refused, naming the parameter and how to give it.
    for (expression, needs) in [
        ("[equals(parameters('vmName'), 'Yes')]", "equals()"),
        ("[length(parameters('vmName'))]", "length()"),
        ("[split(parameters('vmName'), ',')]", "split()"),
        ("[uniqueString(parameters('vmName'))]", "uniquestring()"),
        ("[if(empty(parameters('vmName')), 'a', 'b')]", "empty()"),
        ("[parameters('vmName').id]", "a property or an index"),
    ] {
        let needed =
            |what: &str| Err(ExprError::NeedsParameter { names: vec!["vmName".into()], what: what.into() });
        assert_eq!(eval_string(expression, &sc), needed(needs), "{expression}");
    }
    let e = eval_string("[length(parameters('vmName'))]", &sc).expect_err("length").to_string();
    assert_eq!(
        e,
        "parameters('vmName'): the parameter has no value and no defaultValue, and length() needs its value (nsgsim puts a placeholder only in a name or a resource id); valid: pass it with --parameters FILE or --parameter vmName=VALUE"
    );
    let needed = |what: &str| ExprError::NeedsParameter { names: vec!["vmName".into()], what: what.into() };
    assert_eq!(eval_condition(&serde_json::json!("[parameters('vmName')]"), &sc), Err(needed("a condition")));
    assert_eq!(eval_count(&serde_json::json!("[parameters('vmName')]"), &sc), Err(needed("a copy count")));
    // A number is never a placeholder.
    assert_eq!(
        eval_string("[parameters('port')]", &sc),
        Err(ExprError::NoParameterValue { parameter: "port".into() })
    );
}
