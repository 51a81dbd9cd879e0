//! The SAM template: cfn-lint (from the project's venv) must find nothing.

use std::process::Command;

use harness::moto::workspace_root;

#[test]
fn template_passes_cfn_lint() {
    let root = workspace_root();
    let output = Command::new(root.join(".venv/bin/cfn-lint"))
        .arg("infra/template.yaml")
        .current_dir(&root)
        .output()
        .expect("cfn-lint runs; `make venv` installs it");

    assert!(
        output.status.success(),
        "cfn-lint found problems:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Prints every IAM statement of the template as one JSON list. cfn-lint's
/// YAML loader understands CloudFormation's short tags (`!Ref`, `!Sub`).
const LIST_STATEMENTS: &str = r#"
import json, sys
from cfnlint.decode import cfn_yaml
statements = []
def walk(node, path):
    if isinstance(node, dict):
        if "Effect" in node and ("Action" in node or "NotAction" in node):
            statements.append({"path": path, "action": node.get("Action", node.get("NotAction")), "resource": node.get("Resource")})
        for key, value in node.items():
            walk(value, path + "/" + str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            walk(value, path + "/" + str(index))
walk(cfn_yaml.load(sys.argv[1]), "")
print(json.dumps(statements, default=str))
"#;

fn as_list(value: &serde_json::Value) -> Vec<String> {
    match value {
        serde_json::Value::String(text) => vec![text.clone()],
        serde_json::Value::Array(items) => items
            .iter()
            .map(|item| match item {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            })
            .collect(),
        serde_json::Value::Null => vec![],
        other => vec![other.to_string()],
    }
}

#[test]
fn iam_policies_are_scoped() {
    let root = workspace_root();
    let output = Command::new(root.join(".venv/bin/python"))
        .arg("-c")
        .arg(LIST_STATEMENTS)
        .arg("infra/template.yaml")
        .current_dir(&root)
        .output()
        .expect("the venv's python runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let statements: Vec<serde_json::Value> =
        serde_json::from_slice(&output.stdout).expect("statements as JSON");
    assert!(
        statements.len() >= 10,
        "found {} statements",
        statements.len()
    );

    for statement in &statements {
        let path = statement["path"].as_str().unwrap_or_default();
        for action in as_list(&statement["action"]) {
            assert!(action != "*", "{path}: action '*'");
            assert!(
                !action.ends_with(":*"),
                "{path}: action '{action}' grants a whole service"
            );
        }
        let assume_role = path.contains("AssumeRolePolicyDocument");
        for resource in as_list(&statement["resource"]) {
            assert!(resource != "*", "{path}: a bare '*' resource");
        }
        if !assume_role {
            assert!(!statement["resource"].is_null(), "{path}: no resource");
        }
    }
}
