//! Per-connector rules that shape what a sync mirrors: which users and
//! groups are in scope, how Okta profile attributes become mirrored fields,
//! what happens to users who leave, and which older connectors' users a new
//! connector adopts. The connector stores these records as the admin sent
//! them. The `validate_*` functions check them at the API edge, and the
//! `compile` functions turn them into the forms the sync engine runs.

mod mapping;
mod scope;

pub use mapping::{CompiledMapping, MappedUser, MirroredFields};
pub use scope::CompiledScope;

use serde::{Deserialize, Serialize};

use crate::domain::InvalidValue;

/// Maximum number of entries in one list setting (group ids, patterns,
/// mapping rules, alternative attributes).
pub const MAX_LIST_ENTRIES: usize = 100;
/// Maximum length of a regular expression, in characters.
pub const MAX_PATTERN_CHARS: usize = 1000;
/// Compiled size limit of one regular expression, in bytes. It bounds the
/// memory and matching time a pattern can take.
const REGEX_SIZE_LIMIT: usize = 256 * 1024;
/// Maximum length of an Okta filter or search expression, in characters.
pub const MAX_EXPRESSION_CHARS: usize = 2000;
/// Maximum number of connectors one connector adopts users from.
pub const MAX_ADOPT_FROM: usize = 10;
/// Okta's limit on a group name's length.
pub const MAX_GROUP_NAME_CHARS: usize = 255;

/// The users and groups a connector mirrors. Every part is optional; an
/// empty scope mirrors everything the token can see.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scope {
    /// Group ids or exact group names. When set, only members of at least
    /// one of these groups are in scope.
    #[serde(default)]
    pub required_groups: Vec<String>,
    /// Regular expressions on the group name; when set, only groups whose
    /// name matches one of them are mirrored.
    #[serde(default)]
    pub group_allow: Vec<String>,
    /// Regular expressions on the group name; matching groups are never
    /// mirrored, even when allowed.
    #[serde(default)]
    pub group_block: Vec<String>,
    /// Okta `filter` expression for the users list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_filter: Option<String>,
    /// Okta `search` expression for the users list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_search: Option<String>,
}

impl Scope {
    /// Whether the scope leaves out some users Okta returns, so group member
    /// lists must be limited to mirrored users.
    pub fn limits_users(&self) -> bool {
        !self.required_groups.is_empty() || self.user_filter.is_some() || self.user_search.is_some()
    }
}

/// Declarative rules from Okta profile attributes to mirrored fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Mapping {
    #[serde(default)]
    pub rules: Vec<MappingRule>,
    #[serde(default)]
    pub when_no_rule: WhenNoRule,
}

/// One rule: the first of `from` that has a value, passed through
/// `transforms` in order, becomes the field `target`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MappingRule {
    /// `login`, `email`, `firstName`, `lastName`, `displayName`, or any other
    /// name, which is written under the user's `attributes`.
    pub target: String,
    /// Okta profile attribute names, tried in order.
    pub from: Vec<String>,
    #[serde(default)]
    pub transforms: Vec<Transform>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum Transform {
    Lowercase,
    /// Keeps the part before the last `@`.
    StripEmailDomain,
    /// Replaces every match of `pattern`; `replacement` may name groups as
    /// `$1` or `${name}`.
    RegexReplace {
        pattern: String,
        replacement: String,
    },
}

/// The effect of a rule when none of its source attributes has a value.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum WhenNoRule {
    /// The field keeps Okta's attribute of the same name.
    #[default]
    Keep,
    /// The field is left empty.
    Drop,
    /// The user is left out of the mirror.
    Exclude,
}

/// The policy for mirrored users who left Okta or left the scope.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Cleanup {
    #[serde(default)]
    pub on_removal: RemovalAction,
    /// Deletes the removed users' group memberships too.
    #[serde(default)]
    pub drop_memberships: bool,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum RemovalAction {
    /// Status set to DEPROVISIONED and `removedAt` set; the user leaves lists.
    #[default]
    Disable,
    /// The user's item and memberships are deleted.
    Delete,
    /// Personal fields are cleared; id, key and `removedAt` stay.
    Anonymize,
    /// The user stays listed as last synced, with `leftAt` set.
    Keep,
}

/// The attribute that links a user of an adopted connector to a new one.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum AdoptMatch {
    #[default]
    Login,
    Email,
}

/// A setting that failed validation and the request field it sits in, for
/// example `scope.groupAllow[2]`.
#[derive(Debug, Clone)]
pub struct InvalidSetting {
    pub field: String,
    pub error: InvalidValue,
}

impl InvalidSetting {
    fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            error: InvalidValue {
                code,
                message: message.into(),
            },
        }
    }
}

/// Compiles one admin-supplied regular expression with bounded size.
fn compile_regex(pattern: &str) -> Result<regex::Regex, String> {
    let chars = pattern.chars().count();
    if chars > MAX_PATTERN_CHARS {
        return Err(format!(
            "the pattern has {chars} characters; the maximum is {MAX_PATTERN_CHARS}"
        ));
    }
    regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|error| match error {
            regex::Error::CompiledTooBig(_) => {
                format!("the pattern compiles to more than {REGEX_SIZE_LIMIT} bytes; simplify it")
            }
            other => other.to_string(),
        })
}

fn check_list_length<T>(field: &str, list: &[T]) -> Result<(), InvalidSetting> {
    if list.len() > MAX_LIST_ENTRIES {
        return Err(InvalidSetting::new(
            field,
            "too_many_entries",
            format!(
                "{field} has {} entries; the maximum is {MAX_LIST_ENTRIES}",
                list.len()
            ),
        ));
    }
    Ok(())
}

/// Checks a scope's own values. Okta checks the filter and search
/// expressions; the API does that separately because it needs a token.
pub fn validate_scope(scope: &Scope) -> Vec<InvalidSetting> {
    let mut errors = Vec::new();
    for (name, list) in [
        ("requiredGroups", &scope.required_groups),
        ("groupAllow", &scope.group_allow),
        ("groupBlock", &scope.group_block),
    ] {
        if let Err(error) = check_list_length(&format!("scope.{name}"), list) {
            errors.push(error);
        }
    }
    for (index, group) in scope.required_groups.iter().enumerate() {
        if group.trim().is_empty() {
            errors.push(InvalidSetting::new(
                format!("scope.requiredGroups[{index}]"),
                "invalid_scope",
                "a required group is empty: give a group id such as 00g1abcd or a group's exact name",
            ));
        } else if group.chars().count() > MAX_GROUP_NAME_CHARS {
            errors.push(InvalidSetting::new(
                format!("scope.requiredGroups[{index}]"),
                "invalid_scope",
                format!(
                    "scope.requiredGroups[{index}] has {} characters; Okta group names have at most {MAX_GROUP_NAME_CHARS}, so give the group's id or exact name",
                    group.chars().count()
                ),
            ));
        }
    }
    for (name, list) in [
        ("groupAllow", &scope.group_allow),
        ("groupBlock", &scope.group_block),
    ] {
        for (index, pattern) in list.iter().enumerate() {
            if let Err(reason) = compile_regex(pattern) {
                errors.push(InvalidSetting::new(
                    format!("scope.{name}[{index}]"),
                    "invalid_pattern",
                    format!(
                        "scope.{name}[{index}] '{}' is not a valid regular expression: {reason}",
                        crate::domain::truncate_for_message(pattern)
                    ),
                ));
            }
        }
    }
    for (name, expression) in [
        ("userFilter", &scope.user_filter),
        ("userSearch", &scope.user_search),
    ] {
        let Some(expression) = expression else {
            continue;
        };
        let chars = expression.chars().count();
        if expression.trim().is_empty() || chars > MAX_EXPRESSION_CHARS {
            errors.push(InvalidSetting::new(
                format!("scope.{name}"),
                "invalid_scope",
                format!("scope.{name} must have 1 to {MAX_EXPRESSION_CHARS} characters (got {chars}); omit it to list every user"),
            ));
        }
    }
    if scope.user_filter.is_some() && scope.user_search.is_some() {
        errors.push(InvalidSetting::new(
            "scope.userSearch",
            "invalid_scope",
            "give scope.userFilter or scope.userSearch, not both: a search expression can test everything a filter can",
        ));
    }
    errors
}

const MAX_NAME_CHARS: usize = 100;

fn check_attribute_name(field: String, name: &str) -> Option<InvalidSetting> {
    let valid = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    (!valid).then(|| {
        InvalidSetting::new(
            field,
            "invalid_mapping",
            format!(
                "'{}' is not a valid attribute name: use 1 to {MAX_NAME_CHARS} letters, digits, '_', '-' or '.', as Okta names profile attributes",
                crate::domain::truncate_for_message(name)
            ),
        )
    })
}

pub fn validate_mapping(mapping: &Mapping) -> Vec<InvalidSetting> {
    let mut errors = Vec::new();
    if let Err(error) = check_list_length("mapping.rules", &mapping.rules) {
        errors.push(error);
    }
    for (index, rule) in mapping.rules.iter().enumerate() {
        let at = format!("mapping.rules[{index}]");
        errors.extend(check_attribute_name(format!("{at}.target"), &rule.target));
        if rule.from.is_empty() {
            errors.push(InvalidSetting::new(
                format!("{at}.from"),
                "invalid_mapping",
                format!("{at}.from is empty: name at least one Okta profile attribute, for example [\"email\"]"),
            ));
        }
        if let Err(error) = check_list_length(&format!("{at}.from"), &rule.from) {
            errors.push(error);
        }
        for (position, source) in rule.from.iter().enumerate() {
            errors.extend(check_attribute_name(
                format!("{at}.from[{position}]"),
                source,
            ));
        }
        if let Err(error) = check_list_length(&format!("{at}.transforms"), &rule.transforms) {
            errors.push(error);
        }
        for (position, transform) in rule.transforms.iter().enumerate() {
            if let Transform::RegexReplace { pattern, .. } = transform {
                if let Err(reason) = compile_regex(pattern) {
                    errors.push(InvalidSetting::new(
                        format!("{at}.transforms[{position}].pattern"),
                        "invalid_pattern",
                        format!(
                            "'{}' is not a valid regular expression: {reason}",
                            crate::domain::truncate_for_message(pattern)
                        ),
                    ));
                }
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errors: &[InvalidSetting]) -> Vec<&str> {
        errors.iter().map(|error| error.field.as_str()).collect()
    }

    #[test]
    fn scope_errors_name_list_index() {
        let scope = Scope {
            group_allow: vec!["^ok$".into(), "(".into()],
            group_block: vec!["x{1000}{1000}{1000}".into()],
            ..Scope::default()
        };
        let errors = validate_scope(&scope);
        assert_eq!(
            fields(&errors),
            ["scope.groupAllow[1]", "scope.groupBlock[0]"]
        );
        assert!(errors[1].error.message.contains("compiles to more than"));
    }

    #[test]
    fn scope_rejects_too_many_patterns() {
        let scope = Scope {
            required_groups: vec!["Staff".into(); MAX_LIST_ENTRIES + 1],
            ..Scope::default()
        };
        assert_eq!(fields(&validate_scope(&scope)), ["scope.requiredGroups"]);
    }

    #[test]
    fn scope_rejects_required_group_longer_than_okta_allows() {
        let scope = Scope {
            required_groups: vec!["Staff".into(), "g".repeat(MAX_GROUP_NAME_CHARS + 1)],
            ..Scope::default()
        };
        assert_eq!(fields(&validate_scope(&scope)), ["scope.requiredGroups[1]"]);
    }

    #[test]
    fn empty_scope_is_valid() {
        assert!(validate_scope(&Scope::default()).is_empty());
        assert!(!Scope::default().limits_users());
    }

    #[test]
    fn mapping_errors_name_rule_and_transform() {
        let mapping: Mapping = serde_json::from_value(serde_json::json!({"rules": [
            {"target": "login", "from": ["login"]},
            {"target": "", "from": ["a b"], "transforms": [
                {"type": "regexReplace", "pattern": "[", "replacement": ""}
            ]}
        ]}))
        .unwrap();
        assert_eq!(
            fields(&validate_mapping(&mapping)),
            [
                "mapping.rules[1].target",
                "mapping.rules[1].from[0]",
                "mapping.rules[1].transforms[0].pattern"
            ]
        );
    }
}
