//! The mirror: users, groups and memberships of one connector.
//!
//! Each user and group item carries `hash`, a digest of the Okta fields the
//! mirror keeps, so a sync compares digests and writes only what changed.
//! `profile` is stored as the JSON text Okta sent, because DynamoDB numbers
//! would lose the difference between `1` and `1.0`.

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::{KeysAndAttributes, WriteRequest};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::batch::Item;
use super::items::{get_n, get_s, n, opt_s, require_s, s, Filter, PagedQuery};
use super::keys::{groups_of_pk, groups_pk, lease_pk, members_pk, runs_pk, users_pk};
use super::{Store, StoreError};
use crate::domain::ConnectorId;
use crate::lifecycle::MirroredFields;
use crate::okta::{OktaGroup, OktaUser};
use crate::records::{GroupRecord, MemberRecord, UserRecord};

/// The facts of a mirrored user that a sync compares to decide what to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserIndexEntry {
    pub hash: String,
    pub key: String,
    pub first_synced_at: String,
    pub removed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupIndexEntry {
    pub hash: String,
    pub removed: bool,
    pub member_count: u64,
}

#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub status: Option<String>,
    pub include_removed: bool,
}

#[derive(Debug, Clone)]
pub struct MemberQuery {
    pub group_id: String,
}

pub struct MirrorPage<T> {
    pub items: Vec<T>,
    pub last_key: Option<String>,
}

/// Digest of the user fields the mirror keeps. Okta's `_links` and
/// `credentials` are left out: they are not mirrored.
pub fn user_hash(user: &OktaUser) -> String {
    digest(&serde_json::json!([
        user.status,
        user.profile,
        user.created,
        user.activated,
        user.status_changed,
        user.last_login,
        user.last_updated,
        user.password_changed,
    ]))
}

/// Digest of a group's fields plus its mirrored member count.
pub fn group_hash(group: &OktaGroup, member_count: u64) -> String {
    digest(&serde_json::json!([
        group.group_type,
        group.profile,
        group.created,
        group.last_updated,
        group.last_membership_updated,
        member_count,
    ]))
}

/// Digest of a user and the fields mapping rules made from it, so a change
/// of the rules rewrites the users whose fields it changes. Without rules it
/// equals `user_hash`, so adding this did not rewrite existing mirrors.
pub fn mapped_user_hash(user: &OktaUser, fields: Option<&MirroredFields>) -> String {
    let plain = user_hash(user);
    match fields {
        None => plain,
        Some(fields) => digest(&serde_json::json!([plain, fields])),
    }
}

fn digest(value: &Value) -> String {
    let bytes = Sha256::digest(value.to_string().as_bytes());
    bytes[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

impl Store {
    /// Builds the mirror item of a user, with the fields mapping rules
    /// produced.
    pub fn user_item(
        connector_id: &ConnectorId,
        user: &OktaUser,
        fields: &MirroredFields,
        entry: &UserIndexEntry,
    ) -> Item {
        let mut item = Item::new();
        item.insert("pk".into(), s(users_pk(connector_id)));
        item.insert("sk".into(), s(&user.id));
        item.insert("id".into(), s(&user.id));
        item.insert("key".into(), s(&entry.key));
        item.insert("status".into(), s(&user.status));
        item.insert("login".into(), opt_s(&fields.login));
        item.insert("email".into(), opt_s(&fields.email));
        item.insert("firstName".into(), opt_s(&fields.first_name));
        item.insert("lastName".into(), opt_s(&fields.last_name));
        item.insert("displayName".into(), opt_s(&fields.display_name));
        if !fields.attributes.is_empty() {
            item.insert(
                "attributesJson".into(),
                s(Value::Object(fields.attributes.clone()).to_string()),
            );
        }
        item.insert(
            "profileJson".into(),
            s(Value::Object(user.profile.clone()).to_string()),
        );
        item.insert("created".into(), opt_s(&user.created));
        item.insert("activated".into(), opt_s(&user.activated));
        item.insert("statusChanged".into(), opt_s(&user.status_changed));
        item.insert("lastLogin".into(), opt_s(&user.last_login));
        item.insert("lastUpdated".into(), opt_s(&user.last_updated));
        item.insert("passwordChanged".into(), opt_s(&user.password_changed));
        item.insert("firstSyncedAt".into(), s(&entry.first_synced_at));
        item.insert("hash".into(), s(&entry.hash));
        item
    }

    pub fn group_item(
        connector_id: &ConnectorId,
        group: &OktaGroup,
        member_count: u64,
        hash: &str,
    ) -> Item {
        let profile = |name: &str| {
            group
                .profile
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let mut item = Item::new();
        item.insert("pk".into(), s(groups_pk(connector_id)));
        item.insert("sk".into(), s(&group.id));
        item.insert("id".into(), s(&group.id));
        item.insert("type".into(), opt_s(&group.group_type));
        item.insert("name".into(), opt_s(&profile("name")));
        item.insert("description".into(), opt_s(&profile("description")));
        item.insert(
            "profileJson".into(),
            s(Value::Object(group.profile.clone()).to_string()),
        );
        item.insert("created".into(), opt_s(&group.created));
        item.insert("lastUpdated".into(), opt_s(&group.last_updated));
        item.insert(
            "lastMembershipUpdated".into(),
            opt_s(&group.last_membership_updated),
        );
        item.insert("memberCount".into(), n(member_count));
        item.insert("hash".into(), s(hash));
        item
    }

    pub fn membership_put(
        connector_id: &ConnectorId,
        group_id: &str,
        user_id: &str,
    ) -> Result<WriteRequest, StoreError> {
        let mut item = Item::new();
        item.insert("pk".into(), s(members_pk(connector_id, group_id)));
        item.insert("sk".into(), s(user_id));
        item.insert("gsi1pk".into(), s(groups_of_pk(connector_id, user_id)));
        item.insert("gsi1sk".into(), s(group_id));
        Self::put_request(item)
    }

    pub fn membership_delete(
        connector_id: &ConnectorId,
        group_id: &str,
        user_id: &str,
    ) -> Result<WriteRequest, StoreError> {
        Self::delete_request(members_pk(connector_id, group_id), user_id.to_owned())
    }

    /// Loads every mirrored user's id, digest, key, first sync time and
    /// removal mark, a page at a time. The index grows with the org by about
    /// 300 bytes a user (an estimate from the sizes of its strings and map).
    pub async fn load_user_index(
        &self,
        connector_id: &ConnectorId,
    ) -> Result<HashMap<String, UserIndexEntry>, StoreError> {
        let mut index = HashMap::new();
        self.query_each_page(
            None,
            &users_pk(connector_id),
            "sk, #hash, #key, firstSyncedAt, removedAt, leftAt",
            &[("#hash", "hash"), ("#key", "key")],
            |items| {
                for item in items {
                    let entry = UserIndexEntry {
                        hash: get_s(&item, "hash").unwrap_or_default(),
                        key: require_s(&item, "key")?,
                        first_synced_at: require_s(&item, "firstSyncedAt")?,
                        // Users kept under the `keep` cleanup policy count as
                        // handled, so later runs do not remove them again.
                        removed: item.contains_key("removedAt") || item.contains_key("leftAt"),
                    };
                    index.insert(require_s(&item, "sk")?, entry);
                }
                Ok(())
            },
        )
        .await?;
        Ok(index)
    }

    pub async fn load_group_index(
        &self,
        connector_id: &ConnectorId,
    ) -> Result<HashMap<String, GroupIndexEntry>, StoreError> {
        let items = self
            .query_all(
                None,
                &groups_pk(connector_id),
                "sk, #hash, removedAt, memberCount",
                &[("#hash", "hash")],
            )
            .await?;
        items
            .into_iter()
            .map(|item| {
                let entry = GroupIndexEntry {
                    hash: get_s(&item, "hash").unwrap_or_default(),
                    removed: item.contains_key("removedAt"),
                    member_count: get_n(&item, "memberCount").unwrap_or(0),
                };
                Ok((require_s(&item, "sk")?, entry))
            })
            .collect()
    }

    pub async fn member_ids(
        &self,
        connector_id: &ConnectorId,
        group_id: &str,
    ) -> Result<HashSet<String>, StoreError> {
        let mut ids = HashSet::new();
        self.query_each_page(
            None,
            &members_pk(connector_id, group_id),
            "sk",
            &[],
            |items| {
                for item in items {
                    ids.insert(require_s(&item, "sk")?);
                }
                Ok(())
            },
        )
        .await?;
        Ok(ids)
    }

    /// Sets `removedAt` on users or groups that left Okta; they stay
    /// readable by id but leave the lists.
    pub async fn mark_removed(
        &self,
        pk: String,
        ids: &[String],
        removed_at: &str,
    ) -> Result<(), StoreError> {
        for id in ids {
            let started = std::time::Instant::now();
            self.client
                .update_item()
                .table_name(&self.table)
                .key("pk", s(&pk))
                .key("sk", s(id))
                .update_expression("SET removedAt = :at")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":at", s(removed_at))
                .send()
                .await
                .map_err(|error| StoreError::dynamo("UpdateItem", error))?;
            self.stats.record(1, started);
        }
        Ok(())
    }

    pub fn users_partition(connector_id: &ConnectorId) -> String {
        users_pk(connector_id)
    }

    pub fn groups_partition(connector_id: &ConnectorId) -> String {
        groups_pk(connector_id)
    }

    pub async fn list_users(
        &self,
        connector_id: &ConnectorId,
        filter: &UserFilter,
        after: Option<String>,
        limit: usize,
    ) -> Result<MirrorPage<UserRecord>, StoreError> {
        let mut conditions = Vec::new();
        let mut values = Vec::new();
        let mut names = Vec::new();
        if !filter.include_removed {
            conditions.push("attribute_not_exists(removedAt)");
        }
        if let Some(status) = &filter.status {
            conditions.push("#status = :status");
            values.push((":status", s(status)));
            names.push(("#status", "status"));
        }
        let filter = (!conditions.is_empty()).then(|| Filter {
            expression: conditions.join(" AND "),
            values,
            names,
        });
        let page = self
            .query_page(PagedQuery {
                pk: users_pk(connector_id),
                after_sk: after,
                limit,
                filter,
                newest_first: false,
            })
            .await?;
        let items = page
            .items
            .iter()
            .map(user_record)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(MirrorPage {
            items,
            last_key: page.last_sk,
        })
    }

    pub async fn get_user(
        &self,
        connector_id: &ConnectorId,
        user_id: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        let Some(item) = self
            .get_item(users_pk(connector_id), user_id, false)
            .await?
        else {
            return Ok(None);
        };
        let mut user = user_record(&item)?;
        let groups = self
            .query_all(
                Some("gsi1"),
                &groups_of_pk(connector_id, user_id),
                "gsi1sk",
                &[],
            )
            .await?;
        let mut group_ids = groups
            .iter()
            .map(|item| require_s(item, "gsi1sk"))
            .collect::<Result<Vec<_>, _>>()?;
        group_ids.sort();
        user.groups = Some(group_ids);
        Ok(Some(user))
    }

    pub async fn list_groups(
        &self,
        connector_id: &ConnectorId,
        include_removed: bool,
        after: Option<String>,
        limit: usize,
    ) -> Result<MirrorPage<GroupRecord>, StoreError> {
        let filter = (!include_removed).then(|| Filter {
            expression: "attribute_not_exists(removedAt)".into(),
            values: vec![],
            names: vec![],
        });
        let page = self
            .query_page(PagedQuery {
                pk: groups_pk(connector_id),
                after_sk: after,
                limit,
                filter,
                newest_first: false,
            })
            .await?;
        let items = page
            .items
            .iter()
            .map(group_record)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(MirrorPage {
            items,
            last_key: page.last_sk,
        })
    }

    pub async fn get_group(
        &self,
        connector_id: &ConnectorId,
        group_id: &str,
    ) -> Result<Option<GroupRecord>, StoreError> {
        self.get_item(groups_pk(connector_id), group_id, false)
            .await?
            .map(|item| group_record(&item))
            .transpose()
    }

    /// A page of a group's members with each member's login and status.
    pub async fn list_members(
        &self,
        connector_id: &ConnectorId,
        query: &MemberQuery,
        after: Option<String>,
        limit: usize,
    ) -> Result<MirrorPage<MemberRecord>, StoreError> {
        let page = self
            .query_page(PagedQuery {
                pk: members_pk(connector_id, &query.group_id),
                after_sk: after,
                limit,
                filter: None,
                newest_first: false,
            })
            .await?;
        let ids = page
            .items
            .iter()
            .map(|item| require_s(item, "sk"))
            .collect::<Result<Vec<_>, _>>()?;
        let details = self.user_summaries(connector_id, &ids).await?;
        let items = ids
            .into_iter()
            .map(|id| {
                let (login, status) = details.get(&id).cloned().unwrap_or_default();
                MemberRecord { id, login, status }
            })
            .collect();
        Ok(MirrorPage {
            items,
            last_key: page.last_sk,
        })
    }

    /// Login and status of each user, read 100 at a time (BatchGetItem's limit).
    async fn user_summaries(
        &self,
        connector_id: &ConnectorId,
        ids: &[String],
    ) -> Result<HashMap<String, (Option<String>, Option<String>)>, StoreError> {
        let mut found = HashMap::new();
        for chunk in ids.chunks(100) {
            let mut pending: Vec<Item> = chunk
                .iter()
                .map(|id| {
                    Item::from([
                        ("pk".to_owned(), s(users_pk(connector_id))),
                        ("sk".to_owned(), s(id)),
                    ])
                })
                .collect();
            while !pending.is_empty() {
                let keys = KeysAndAttributes::builder()
                    .set_keys(Some(pending))
                    .projection_expression("sk, login, #status")
                    .expression_attribute_names("#status", "status")
                    .build()
                    .map_err(|error| StoreError::corrupt("batch get", error))?;
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, keys)
                    .send()
                    .await
                    .map_err(|error| StoreError::dynamo("BatchGetItem", error))?;
                for item in output
                    .responses
                    .and_then(|mut responses| responses.remove(&self.table))
                    .unwrap_or_default()
                {
                    if let Some(id) = get_s(&item, "sk") {
                        found.insert(id, (get_s(&item, "login"), get_s(&item, "status")));
                    }
                }
                pending = output
                    .unprocessed_keys
                    .and_then(|mut keys| keys.remove(&self.table))
                    .map(|keys| keys.keys)
                    .unwrap_or_default();
            }
        }
        Ok(found)
    }

    /// Deletes everything stored for a connector: mirror, runs and lease.
    pub async fn purge_connector(&self, connector_id: &ConnectorId) -> Result<usize, StoreError> {
        let mut deleted = 0;
        let groups = self
            .query_all(None, &groups_pk(connector_id), "sk", &[])
            .await?;
        for group in &groups {
            let group_id = require_s(group, "sk")?;
            deleted += self
                .delete_partition(members_pk(connector_id, &group_id))
                .await?;
        }
        let runs = self
            .query_all(None, &runs_pk(connector_id), "sk", &[])
            .await?;
        for run in &runs {
            let run_id = require_s(run, "sk")?;
            deleted += self.delete_run_logs(connector_id, &run_id).await?;
        }
        for pk in [
            groups_pk(connector_id),
            users_pk(connector_id),
            runs_pk(connector_id),
            lease_pk(connector_id),
        ] {
            deleted += self.delete_partition(pk).await?;
        }
        Ok(deleted)
    }

    pub(crate) async fn delete_partition(&self, pk: String) -> Result<usize, StoreError> {
        let items = self.query_all(None, &pk, "sk", &[]).await?;
        let requests = items
            .iter()
            .map(|item| Self::delete_request(pk.clone(), require_s(item, "sk")?))
            .collect::<Result<Vec<_>, _>>()?;
        self.write_all(requests).await
    }
}

fn profile_of(item: &Item) -> Result<Map<String, Value>, StoreError> {
    let text = get_s(item, "profileJson").unwrap_or_else(|| "{}".into());
    serde_json::from_str(&text).map_err(|error| StoreError::corrupt("profileJson", error))
}

pub(super) fn user_record(item: &Item) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        id: require_s(item, "id")?,
        key: require_s(item, "key")?,
        status: require_s(item, "status")?,
        login: get_s(item, "login"),
        email: get_s(item, "email"),
        first_name: get_s(item, "firstName"),
        last_name: get_s(item, "lastName"),
        display_name: get_s(item, "displayName"),
        profile: profile_of(item)?,
        created: get_s(item, "created"),
        activated: get_s(item, "activated"),
        status_changed: get_s(item, "statusChanged"),
        last_login: get_s(item, "lastLogin"),
        last_updated: get_s(item, "lastUpdated"),
        password_changed: get_s(item, "passwordChanged"),
        first_synced_at: require_s(item, "firstSyncedAt")?,
        removed_at: get_s(item, "removedAt"),
        left_at: get_s(item, "leftAt"),
        attributes: match get_s(item, "attributesJson") {
            Some(text) => serde_json::from_str(&text)
                .map_err(|error| StoreError::corrupt("attributesJson", error))?,
            None => Map::new(),
        },
        groups: None,
    })
}

fn group_record(item: &Item) -> Result<GroupRecord, StoreError> {
    Ok(GroupRecord {
        id: require_s(item, "id")?,
        group_type: get_s(item, "type"),
        name: get_s(item, "name"),
        description: get_s(item, "description"),
        profile: profile_of(item)?,
        last_updated: get_s(item, "lastUpdated"),
        last_membership_updated: get_s(item, "lastMembershipUpdated"),
        member_count: get_n(item, "memberCount").unwrap_or(0),
        removed_at: get_s(item, "removedAt"),
    })
}
