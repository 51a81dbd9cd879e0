//! Applies a connector's mapping rules to an Okta profile.

use serde_json::{Map, Value};

use super::{compile_regex, Mapping, Transform, WhenNoRule};

/// The mirrored fields of a user that mapping rules can set. Without rules
/// each is Okta's profile attribute of the same name.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MirroredFields {
    pub login: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: Option<String>,
    /// Values of rules whose target is not one of the fields above.
    pub attributes: Map<String, Value>,
}

impl MirroredFields {
    pub fn from_profile(profile: &Map<String, Value>) -> Self {
        let text = |name: &str| profile.get(name).and_then(Value::as_str).map(str::to_owned);
        Self {
            login: text("login"),
            email: text("email"),
            first_name: text("firstName"),
            last_name: text("lastName"),
            display_name: text("displayName"),
            attributes: Map::new(),
        }
    }

    /// Returns the lower-cased value that adoption compares.
    pub fn match_value(&self, on: super::AdoptMatch) -> Option<String> {
        let value = match on {
            super::AdoptMatch::Login => self.login.as_deref(),
            super::AdoptMatch::Email => self.email.as_deref(),
        };
        value
            .filter(|value| !value.is_empty())
            .map(str::to_lowercase)
    }

    fn set(&mut self, target: &str, value: Option<Value>) {
        let text = || value.as_ref().map(value_text);
        match target {
            "login" => self.login = text(),
            "email" => self.email = text(),
            "firstName" => self.first_name = text(),
            "lastName" => self.last_name = text(),
            "displayName" => self.display_name = text(),
            _ => match value {
                Some(value) => {
                    self.attributes.insert(target.to_owned(), value);
                }
                None => {
                    self.attributes.remove(target);
                }
            },
        }
    }
}

/// Text of a scalar JSON value: strings as they are, numbers and booleans as
/// written in JSON.
fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The outcome of mapping one user.
#[derive(Debug, Clone, PartialEq)]
pub enum MappedUser {
    Mirrored(MirroredFields),
    /// A rule found no value and `whenNoRule` is `exclude`.
    Excluded,
}

enum CompiledTransform {
    Lowercase,
    StripEmailDomain,
    RegexReplace {
        regex: regex::Regex,
        replacement: String,
    },
}

struct CompiledRule {
    target: String,
    from: Vec<String>,
    transforms: Vec<CompiledTransform>,
}

/// Mapping rules with their regular expressions compiled.
pub struct CompiledMapping {
    rules: Vec<CompiledRule>,
    when_no_rule: WhenNoRule,
}

impl CompiledMapping {
    /// Compiles validated rules. A pattern that no longer compiles (stored
    /// before a limit changed) is an error naming the rule.
    pub fn compile(mapping: &Mapping) -> Result<Self, String> {
        let mut rules = Vec::with_capacity(mapping.rules.len());
        for (index, rule) in mapping.rules.iter().enumerate() {
            let mut transforms = Vec::with_capacity(rule.transforms.len());
            for transform in &rule.transforms {
                transforms.push(match transform {
                    Transform::Lowercase => CompiledTransform::Lowercase,
                    Transform::StripEmailDomain => CompiledTransform::StripEmailDomain,
                    Transform::RegexReplace {
                        pattern,
                        replacement,
                    } => CompiledTransform::RegexReplace {
                        regex: compile_regex(pattern)
                            .map_err(|reason| format!("mapping.rules[{index}]: {reason}"))?,
                        replacement: replacement.clone(),
                    },
                });
            }
            rules.push(CompiledRule {
                target: rule.target.clone(),
                from: rule.from.clone(),
                transforms,
            });
        }
        Ok(Self {
            rules,
            when_no_rule: mapping.when_no_rule,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Maps one profile. Rules run in order, so a later rule with the same
    /// target wins.
    pub fn apply(&self, profile: &Map<String, Value>) -> MappedUser {
        let mut fields = MirroredFields::from_profile(profile);
        for rule in &self.rules {
            match rule.evaluate(profile) {
                Some(value) => fields.set(&rule.target, Some(value)),
                None => match self.when_no_rule {
                    WhenNoRule::Keep => {
                        let same_name = profile
                            .get(&rule.target)
                            .filter(|value| !value.is_null())
                            .cloned();
                        fields.set(&rule.target, same_name);
                    }
                    WhenNoRule::Drop => fields.set(&rule.target, None),
                    WhenNoRule::Exclude => return MappedUser::Excluded,
                },
            }
        }
        MappedUser::Mirrored(fields)
    }
}

impl CompiledRule {
    /// Returns the first source attribute with a value (not absent, null or
    /// an empty string), transformed. Transforms work on text, so an array
    /// or object counts as no value when the rule has transforms. Without
    /// transforms the value is copied as is.
    fn evaluate(&self, profile: &Map<String, Value>) -> Option<Value> {
        let value = self.from.iter().find_map(|name| match profile.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) if text.is_empty() => None,
            Some(value) => Some(value),
        })?;
        if self.transforms.is_empty() {
            return Some(value.clone());
        }
        let mut text = match value {
            Value::Array(_) | Value::Object(_) => return None,
            scalar => value_text(scalar),
        };
        for transform in &self.transforms {
            text = match transform {
                CompiledTransform::Lowercase => text.to_lowercase(),
                CompiledTransform::StripEmailDomain => match text.rfind('@') {
                    Some(at) => text[..at].to_owned(),
                    None => text,
                },
                CompiledTransform::RegexReplace { regex, replacement } => {
                    regex.replace_all(&text, replacement.as_str()).into_owned()
                }
            };
        }
        Some(Value::String(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::MappingRule;
    use serde_json::json;

    fn profile(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    fn mapping(rules: Value, when_no_rule: &str) -> CompiledMapping {
        let mapping: Mapping =
            serde_json::from_value(json!({"rules": rules, "whenNoRule": when_no_rule})).unwrap();
        CompiledMapping::compile(&mapping).unwrap()
    }

    fn mirrored(outcome: MappedUser) -> MirroredFields {
        match outcome {
            MappedUser::Mirrored(fields) => fields,
            MappedUser::Excluded => panic!("user was excluded"),
        }
    }

    #[test]
    fn first_of_takes_first_present() {
        let rules = mapping(
            json!([{"target": "email", "from": ["workEmail", "email"]}]),
            "keep",
        );
        let fields =
            mirrored(rules.apply(&profile(json!({"workEmail": "", "email": "a@example.com"}))));
        assert_eq!(fields.email.as_deref(), Some("a@example.com"));
    }

    #[test]
    fn transforms_run_in_order() {
        let rules = mapping(
            json!([{"target": "login", "from": ["login"], "transforms": [
                {"type": "stripEmailDomain"},
                {"type": "lowercase"},
                {"type": "regexReplace", "pattern": "\\.", "replacement": "_"}
            ]}]),
            "keep",
        );
        let fields = mirrored(rules.apply(&profile(json!({"login": "Ada.Lovelace@Example.com"}))));
        assert_eq!(fields.login.as_deref(), Some("ada_lovelace"));
    }

    #[test]
    fn other_targets_go_to_attributes() {
        let rules = mapping(
            json!([{"target": "employeeId", "from": ["employeeNumber"]}]),
            "keep",
        );
        let fields = mirrored(rules.apply(&profile(json!({"employeeNumber": 42}))));
        assert_eq!(fields.attributes["employeeId"], json!(42));
    }

    #[test]
    fn when_no_rule_options() {
        let rule = json!([{"target": "email", "from": ["workEmail"]}]);
        let source = profile(json!({"email": "okta@example.com"}));

        let keep = mirrored(mapping(rule.clone(), "keep").apply(&source));
        assert_eq!(keep.email.as_deref(), Some("okta@example.com"));
        let drop = mirrored(mapping(rule.clone(), "drop").apply(&source));
        assert_eq!(drop.email, None);
        assert_eq!(
            mapping(rule, "exclude").apply(&source),
            MappedUser::Excluded
        );
    }

    #[test]
    fn rule_shape_round_trips() {
        let rule: MappingRule = serde_json::from_value(json!({
            "target": "login", "from": ["email"],
            "transforms": [{"type": "regexReplace", "pattern": "a", "replacement": "b"}]
        }))
        .unwrap();
        assert_eq!(
            serde_json::to_value(&rule).unwrap()["transforms"][0]["type"],
            "regexReplace"
        );
    }
}
