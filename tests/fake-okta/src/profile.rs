//! A compact, ordered profile: the attribute map of a user or group.

use std::borrow::Cow;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

/// Profile attributes in insertion order, serialised as a JSON object.
///
/// A plain vector with mostly static key names, because a `BTreeMap` per user
/// took about 3 KB more per user, which adds up to hundreds of megabytes in a
/// 100,000-user org. Profiles hold a few dozen attributes, so a linear lookup
/// costs about what a tree lookup does.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Profile {
    entries: Vec<(Cow<'static, str>, Value)>,
}

impl Profile {
    pub fn new() -> Self {
        Profile::default()
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets an attribute and returns its previous value. A new attribute goes last.
    pub fn insert(&mut self, key: impl Into<Cow<'static, str>>, value: Value) -> Option<Value> {
        let key = key.into();
        match self.entries.iter_mut().find(|(name, _)| *name == key) {
            Some((_, slot)) => Some(std::mem::replace(slot, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let position = self.entries.iter().position(|(name, _)| name == key)?;
        Some(self.entries.remove(position).1)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries
            .iter()
            .map(|(name, value)| (name.as_ref(), value))
    }

    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.entries.iter().map(|(_, value)| value)
    }

    /// Copies the profile into a JSON object.
    pub fn to_map(&self) -> Map<String, Value> {
        self.iter()
            .map(|(name, value)| (name.to_string(), value.clone()))
            .collect()
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        self.entries.shrink_to_fit();
    }
}

impl From<Map<String, Value>> for Profile {
    fn from(map: Map<String, Value>) -> Self {
        Profile {
            entries: map
                .into_iter()
                .map(|(name, value)| (Cow::Owned(name), value))
                .collect(),
        }
    }
}

impl Serialize for Profile {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (name, value) in &self.entries {
            map.serialize_entry(name.as_ref(), value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn insert_replaces_in_place() {
        let mut profile = Profile::new();
        assert_eq!(profile.insert("login", json!("a@example.com")), None);
        assert_eq!(profile.insert("email", json!("a@example.com")), None);
        assert_eq!(
            profile.insert(String::from("login"), json!("b@example.com")),
            Some(json!("a@example.com"))
        );
        assert_eq!(profile.len(), 2);
        assert_eq!(
            serde_json::to_string(&profile).expect("serialises"),
            r#"{"login":"b@example.com","email":"a@example.com"}"#
        );
        assert_eq!(profile.remove("login"), Some(json!("b@example.com")));
        assert!(!profile.contains_key("login"));
    }
}
