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
