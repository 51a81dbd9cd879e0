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

/// Reads the template as JSON, short tags turned into `Ref`/`Fn::…` maps.
fn template_json() -> serde_json::Value {
    let root = workspace_root();
    let output = Command::new(root.join(".venv/bin/python"))
        .arg("-c")
        .arg(
            "import json, sys\nfrom cfnlint.decode import cfn_yaml\n\
             print(json.dumps(cfn_yaml.load(sys.argv[1]), default=str))",
        )
        .arg("infra/template.yaml")
        .current_dir(&root)
        .output()
        .expect("the venv's python runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the template as JSON")
}

#[test]
fn table_expires_items_and_takes_kms_key() {
    let template = template_json();
    let table = &template["Resources"]["MirrorTable"]["Properties"];

    assert_eq!(
        table["TimeToLiveSpecification"],
        serde_json::json!({"AttributeName": "expiresAt", "Enabled": true})
    );
    let sse = &table["SSESpecification"]["Fn::If"];
    assert_eq!(sse[0], "HasKmsKey");
    assert_eq!(sse[1]["SSEType"], "KMS");
    assert_eq!(
        sse[1]["KMSMasterKeyId"],
        serde_json::json!({"Ref": "KmsKeyArn"})
    );
    assert_eq!(template["Parameters"]["KmsKeyArn"]["Default"], "");
    assert_eq!(template["Parameters"]["RetentionDays"]["Default"], 90);
}

#[test]
fn functions_get_retention_and_kms_key() {
    let template = template_json();
    let resources = &template["Resources"];
    for function in ["ConnectorsFunction", "SchedulesFunction", "SyncFunction"] {
        let properties = &resources[function]["Properties"];
        assert_eq!(
            properties["Environment"]["Variables"]["RETENTION_DAYS"],
            serde_json::json!({"Ref": "RetentionDays"}),
            "{function}"
        );
        let key_statement = properties["Policies"]
            .as_array()
            .expect("policies")
            .iter()
            .find(|policy| policy["Fn::If"][0] == "HasKmsKey")
            .unwrap_or_else(|| panic!("{function} has no statement for the KMS key"));
        let statement = &key_statement["Fn::If"][1]["Statement"][0];
        assert_eq!(
            statement["Resource"],
            serde_json::json!({"Ref": "KmsKeyArn"})
        );
        assert_eq!(
            key_statement["Fn::If"][2],
            serde_json::json!({"Ref": "AWS::NoValue"}),
            "{function}: no KMS grant without a key"
        );
    }
    assert_eq!(
        resources["ConnectorsFunction"]["Properties"]["Environment"]["Variables"]
            ["SECRETS_KMS_KEY_ARN"],
        serde_json::json!({"Ref": "KmsKeyArn"})
    );
}

#[test]
fn api_uses_iam_unless_jwt_issuer_set() {
    let template = template_json();
    let parameters = &template["Parameters"];
    assert_eq!(parameters["JwtIssuer"]["Default"], "");
    assert_eq!(parameters["JwtAudience"]["Default"], "");
    assert_eq!(
        template["Conditions"]["UseJwtAuthorizer"],
        serde_json::json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "JwtIssuer"}, ""]}]})
    );

    let api = &template["Resources"]["HttpApi"]["Properties"];
    assert_eq!(api["Auth"]["DefaultAuthorizer"], "AWS_IAM");
    let scheme = &api["DefinitionBody"]["components"]["securitySchemes"]["AdminAuth"]["Fn::If"];
    assert_eq!(scheme[0], "UseJwtAuthorizer");
    let jwt = &scheme[1]["x-amazon-apigateway-authorizer"];
    assert_eq!(jwt["type"], "jwt");
    assert_eq!(
        jwt["jwtConfiguration"]["issuer"],
        serde_json::json!({"Ref": "JwtIssuer"})
    );
    assert_eq!(scheme[2]["x-amazon-apigateway-authtype"], "awsSigv4");

    let paths = api["DefinitionBody"]["paths"].as_object().expect("paths");
    assert!(paths.contains_key("/audit"));
    for (path, methods) in paths {
        assert_eq!(
            methods["x-amazon-apigateway-any-method"]["security"],
            serde_json::json!([{"AdminAuth": []}]),
            "{path} is not behind AdminAuth"
        );
    }
}
