//! Decides which groups a connector mirrors.

use serde_json::Value;

use super::{compile_regex, Scope};
use crate::okta::OktaGroup;

/// A scope with its group patterns compiled.
pub struct CompiledScope {
    pub required_groups: Vec<String>,
    allow: Vec<regex::Regex>,
    block: Vec<regex::Regex>,
}

impl CompiledScope {
    pub fn compile(scope: &Scope) -> Result<Self, String> {
        let compile_all = |name: &str, patterns: &[String]| {
            patterns
                .iter()
                .enumerate()
                .map(|(index, pattern)| {
                    compile_regex(pattern)
                        .map_err(|reason| format!("scope.{name}[{index}]: {reason}"))
                })
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Self {
            required_groups: scope.required_groups.clone(),
            allow: compile_all("groupAllow", &scope.group_allow)?,
            block: compile_all("groupBlock", &scope.group_block)?,
        })
    }

    /// Tells whether a group is mirrored: its name matches an allow pattern (or
    /// there are none) and no block pattern. Patterns are unanchored, as
    /// `regex::Regex::is_match` is; write `^…$` to match whole names.
    pub fn mirrors_group(&self, group: &OktaGroup) -> bool {
        let name = group_name(group);
        let allowed = self.allow.is_empty() || self.allow.iter().any(|re| re.is_match(name));
        allowed && !self.block.iter().any(|re| re.is_match(name))
    }

    /// Tells whether a group is one of the required groups, by id or exact name.
    pub fn is_required(&self, group: &OktaGroup) -> bool {
        let name = group_name(group);
        self.required_groups
            .iter()
            .any(|wanted| *wanted == group.id || wanted == name)
    }
}

fn group_name(group: &OktaGroup) -> &str {
    group
        .profile
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}
