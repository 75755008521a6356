use std::path::Path;

use super::syntax::{Expr, Unread, read};
use crate::import::json::parse;
use crate::import::source::{Diagnostics, Src};

/// The validation of the template `text`: `Ok`, or the error as printed.
fn validate(text: &str) -> Result<(), String> {
    let root = parse(text.as_bytes()).expect("test JSON");
    let mut diag = Diagnostics::default();
    let file = diag.add_file(Path::new("t.json"));
    super::template(&root, &Src::root(file, &root), &diag).map_err(|e| e.to_string())
}

fn refused(text: &str) -> String {
    validate(text).expect_err("Azure refuses this template")
}

#[test]
fn an_undefined_variable_in_a_skipped_type_is_refused_with_its_place() {
    let e = refused(
        r#"{"variables": {"a": 1, "b": 2},
"resources": [{"type": "Microsoft.Storage/storageAccounts", "name": "s",
  "properties": {"x": "[variables('missing')]"}}]}"#,
    );
    assert_eq!(
        e,
        "t.json:3:23: resources[0].properties.x: '[variables('missing')]': variables('missing'): the template declares no variable 'missing' (declared: a, b); Azure validates a template's expressions before it deploys anything, and refuses the whole template (\"The template variable 'missing' is not found\"); nsgsim checks every resource alike, those it does not import included, and those under a false condition or a copy count of 0 (model choice: Microsoft's pages do not say)"
    );
}

#[test]
fn a_false_condition_and_a_zero_copy_count_do_not_hide_an_expression() {
    let e = refused(
        r#"{"resources": [{"condition": false, "type": "Microsoft.Network/virtualNetworks",
  "copy": {"name": "c", "count": 0}, "name": "[parameters('nope')]"}]}"#,
    );
    assert!(
        e.contains("parameters('nope'): the template declares no parameter 'nope' (declared: none)"),
        "{e}"
    );
}

#[test]
fn a_computed_name_is_not_checked() {
    let t = r#"{"variables": {"ab": 1},
"resources": [{"type": "X/y", "name": "[string(variables(concat('a', 'b')))]"},
              {"type": "X/y", "name": "[string(variables(concat('no', 'pe')))]"}]}"#;
    assert_eq!(validate(t), Ok(()));
}

#[test]
fn names_are_compared_without_case_and_copy_loops_declare_variables() {
    let t = r#"{"parameters": {"Loc": {"type": "string"}},
"variables": {"Name": "n", "copy": [{"name": "items", "count": 2, "input": "[copyIndex('items')]"}]},
"resources": [{"type": "X/y", "name": "[concat(VARIABLES('name'), parameters('LOC'))]",
  "properties": {"all": "[variables('ITEMS')]"}}]}"#;
    assert_eq!(validate(t), Ok(()));
}

#[test]
fn an_unknown_function_is_refused_but_builtins_and_list_star_are_not() {
    let e = refused(r#"{"outputs": {"o": {"type": "string", "value": "[toLowerr('A')]"}}}"#);
    assert!(e.starts_with("t.json:1:47: outputs.o.value: '[toLowerr('A')]': the template function 'toLowerr' is not valid: ARM has no function of that name"), "{e}");
    let ok = r#"{"outputs": {"o": {"type": "object", "value": "[listKeys(resourceId('A/b', 'c'), '2020-01-01')]"},
"p": {"type": "object", "value": "[sys.parseCidr('10.0.0.0/8')]"}}}"#;
    assert_eq!(validate(ok), Ok(()));
}

#[test]
fn user_defined_functions_see_their_own_parameters_and_must_be_declared() {
    let base = r#"{"functions": [{"namespace": "ns", "members": {"f": {"parameters": [{"name": "p", "type": "string"}],
  "output": {"type": "string", "value": "[concat(parameters('p'), BODY)]"}}}}],
"resources": [{"type": "X/y", "name": "[CALL('a')]"}]}"#;
    assert_eq!(validate(&base.replace("BODY", "'x'").replace("CALL", "NS.F")), Ok(()));
    let e = refused(&base.replace("BODY", "parameters('q')").replace("CALL", "ns.f"));
    assert!(
        e.contains("the user-defined function 'ns.f' declares no parameter 'q' (its parameters: p)"),
        "{e}"
    );
    let e = refused(&base.replace("BODY", "'x'").replace("CALL", "ns.g"));
    assert!(e.contains("the template function 'ns.g' is not valid: the template declares no user-defined function of that name (declared: ns.f)"), "{e}");
}

#[test]
fn a_syntax_error_anywhere_is_refused() {
    let e = refused(r#"{"resources": {"sym": {"type": "X/y", "name": "[concat('a', 'b']"}}}"#);
    assert!(e.contains("resources.sym.name"), "{e}");
    assert!(e.contains("expected ',' or ')' in concat(...)"), "{e}");
    let e = refused(r#"{"variables": {"empty": "[]"}}"#);
    assert!(e.contains("variables.empty: '[]': empty template expression"), "{e}");
}

#[test]
fn literals_and_escapes_are_not_expressions() {
    let t = r#"{"variables": {"a": "[[not an expression]", "b": "[x", "c": "plain"},
"parameters": {"p": {"type": "string", "metadata": {"description": "[Preview]"}}}}"#;
    assert_eq!(validate(t), Ok(()));
}

#[test]
fn an_inner_nested_template_has_its_own_names_an_outer_one_both() {
    let nested = |scope: &str, inner_var: &str| {
        format!(
            r#"{{"variables": {{"outerVar": 1}}, "resources": [{{"type": "Microsoft.Resources/deployments", "name": "d",
  "properties": {{"expressionEvaluationOptions": {{"scope": "{scope}"}}, "parameters": {{"x": {{"value": "[variables('outerVar')]"}}}},
    "template": {{"variables": {{"innerVar": 2}}, "resources": [{{"type": "X/y", "name": "[string(variables('{inner_var}'))]"}}]}}}}}}]}}"#
        )
    };
    assert_eq!(validate(&nested("inner", "innerVar")), Ok(()));
    let e = refused(&nested("inner", "outerVar"));
    assert!(e.contains("resources[0].properties.template.resources[0].name"), "{e}");
    assert!(e.contains("(declared: innerVar)"), "{e}");
    assert_eq!(validate(&nested("outer", "outerVar")), Ok(()));
    assert_eq!(validate(&nested("outer", "innerVar")), Ok(()));
    assert!(refused(&nested("outer", "neither")).contains("variables('neither')"));
}

#[test]
fn the_reader_mirrors_the_evaluators_grammar() {
    let ok = [
        "[parameters('x').a.b[0]['c']]",
        "[ concat( 'it''s' , -1, 2.5 ) ]",
        "[\n  resourceGroup().location\n  ]",
        "[ns.fn()]",
        "[lambda('x', lambdaVariables('x'))]",
    ];
    for text in ok {
        assert!(matches!(read(text), Some(Ok(_))), "{text}");
    }
    assert!(read("[[literal]").is_none());
    assert!(read("plain").is_none());
    assert_eq!(
        read("[f('a')]").and_then(Result::ok),
        Some(Expr::Call { name: "f".into(), args: vec![Expr::Str("a".into())] })
    );
    for bad in ["[concat('a']", "[a b]", "[x]", "['open]", "[1e5]", "[a().]", "[a()[0]"] {
        assert!(matches!(read(bad), Some(Err(Unread::Invalid(_)))), "{bad}");
    }
}

/// Found by the property test that both readers agree (`syntax::agreement`): the reader took any
/// arguments for `lambda(...)`, the evaluator refuses one with no body or with a variable that is
/// not a string literal; now both refuse them alike.
#[test]
fn a_lambda_is_read_as_the_evaluator_reads_it() {
    use crate::import::arm::expr::{ExprError, SyntaxError};
    let error = |text: &str| match read(text) {
        Some(Err(Unread::Invalid(ExprError::Syntax { error, .. }))) => Some(error),
        _ => None,
    };
    assert_eq!(error("[lambda()]"), Some(SyntaxError::LambdaWithoutBody));
    let quote = SyntaxError::LambdaVariableNotLiteral { found: "''''".into() };
    assert_eq!(error("[LAMBDA('''', 1)]"), Some(quote));
    let call = SyntaxError::LambdaVariableNotLiteral { found: "concat('y')".into() };
    assert_eq!(error("[lambda('x', concat('y'), 1)]"), Some(call));
    assert!(matches!(read("[lambda('x', 'y', 1)]"), Some(Ok(_))));
    assert!(matches!(read("[ns.lambda()]"), Some(Ok(_))), "a user-defined function may be called lambda");
    let e = refused(r#"{"variables": {"v": "[map(createArray(1), lambda(1, 2))]"}}"#);
    assert!(e.contains("variables.v"), "{e}");
}

#[test]
fn nesting_beyond_the_readers_depth_is_not_checked_rather_than_refused() {
    let deep = format!("[{}'a'{}]", "string(".repeat(100), ")".repeat(100));
    assert!(matches!(read(&deep), Some(Err(Unread::TooDeep))));
    assert_eq!(validate(&format!(r#"{{"variables": {{"d": "{deep}"}}}}"#)), Ok(()));
}

#[test]
fn names_in_branches_azure_may_not_evaluate_are_not_checked_but_their_syntax_is() {
    let t = r#"{"parameters": {"p": {"type": "bool", "defaultValue": false}},
"resources": [{"type": "X/y", "name": "[if(parameters('p'), variables('onlyIfP'), 'n')]",
  "properties": {"a": "[and(parameters('p'), nope())]", "b": "[or(true(), variables('x'))]"}}]}"#;
    assert_eq!(validate(t), Ok(()));
    assert!(
        refused(r#"{"variables": {"v": "[if(true(), 'a', concat('b']"}}"#).contains("expected ',' or ')'")
    );
    assert!(refused(r#"{"variables": {"v": "[if(variables('c'), 'a', 'b')]"}}"#).contains("variables('c')"));
}
