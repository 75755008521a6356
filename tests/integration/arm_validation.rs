//! Issue 17, fidelity: a template is validated as Azure Resource Manager validates it before
//! deploying anything. An expression Azure refuses (here a variable the template never
//! defines) fails the import with exit 2 and its position, even inside a resource of a type
//! nsgsim skips without evaluating; a variable named by a computed expression is not checkable
//! offline and is not refused.

use crate::util::{TempDir, nsgsim, position, root};

fn data(path: &str) -> String {
    root().join("tests/data/import/validate").join(path).display().to_string()
}

#[test]
fn an_undefined_variable_in_a_skipped_resource_fails_the_import_with_its_position() {
    let dir = TempDir::new("arm-validate-undefined");
    let out = dir.path().join("out.ron").display().to_string();
    let template = data("undefined-variable-skipped.json");
    let text = std::fs::read_to_string(&template).expect("fixture");
    let (line, column) = position(&text, "\"[variables('storageSku')]\"", 0);
    let run = nsgsim(&["import", &template, "-o", &out]);
    run.assert_code(2).stderr_has(&[
        &format!("undefined-variable-skipped.json:{line}:{column}: resources[1].sku.name: '[variables('storageSku')]'"),
        "variables('storageSku'): the template declares no variable 'storageSku' (declared: location, prefix)",
        "refuses the whole template (\"The template variable 'storageSku' is not found\")",
        "nsgsim checks every resource alike, those it does not import included, and those under a false condition or a copy count of 0 (model choice",
    ]);
    assert!(!std::path::Path::new(&out).exists(), "nothing is written for a template Azure refuses");
}

#[test]
fn a_computed_variable_name_is_not_refused() {
    let dir = TempDir::new("arm-validate-computed");
    let out = dir.path().join("out.ron").display().to_string();
    nsgsim(&["import", &data("computed-variable-name.json"), "-o", &out])
        .assert_code(0)
        .stderr_has(&["Microsoft.Storage/storageAccounts: 1 read, 0 imported, 1 skipped"]);
}
