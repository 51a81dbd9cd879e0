//! The change log of each run, the user removals a run held for approval,
//! and the connector's pointer to its pending hold.
//!
//! Key layout (cid = connector id):
//! - change: `pk = "c#cid#changes#runId#shard"`, `sk = "user#id"`,
//!   `"group#id"` or `"membership#groupId#userId"`. The shard (0 to 7) is
//!   taken from a digest of the sort key, so a large run's log spreads its
//!   writes over eight partitions instead of one. The sort key is fixed by
//!   the object, so a continuation that meets the same change again
//!   overwrites its item instead of adding a second one.
//!   NOTE: the last write wins, so a user created by one invocation and
//!   changed in Okta before the continuation reads it again is logged as
//!   `updated` only.
//! - held removal: `pk = "c#cid#held#runId"`, `sk = userId`.
//! - pending hold: `pk = "c#cid"`, `sk = "pending-approval"`.
//!
//! Change and held items carry `expiresAt` (epoch seconds) for DynamoDB TTL.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::KeysAndAttributes;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::batch::Item;
use super::items::{get_s, n, require_s, s, PagedQuery};
use super::keys::{lease_pk, runs_pk};
use super::unless_condition_failed;
use super::{Store, StoreError};
use crate::domain::ConnectorId;
use crate::records::Run;

/// Partitions one run's change log is spread over.
pub const CHANGE_SHARDS: u32 = 8;

const PENDING_APPROVAL_SK: &str = "pending-approval";

fn changes_pk(id: &ConnectorId, run_id: &str, shard: u32) -> String {
    format!("c#{id}#changes#{run_id}#{shard}")
}

fn held_pk(id: &ConnectorId, run_id: &str) -> String {
    format!("c#{id}#held#{run_id}")
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChangeObject {
    User,
    Group,
    Membership,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAction {
    Created,
    Updated,
    /// A removed user or group that Okta lists again.
    Restored,
    Removed,
    /// A membership that appeared.
    Added,
    /// A user removal the deletion guard held for approval.
    RemovalHeld,
    /// A held user removal that an admin discarded.
    RemovalDiscarded,
}

/// One entry of a run's change log, as the API returns it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    #[serde(rename = "type")]
    pub object: ChangeObject,
    pub action: ChangeAction,
    /// Okta id of the user or group; absent for memberships.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    /// Group name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Names of the attributes that changed: top-level fields such as
    /// `status`, and profile attributes as `profile.<name>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<String>,
    /// Cleanup action taken on a removed user (for example `disable`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removal: Option<String>,
}

impl Change {
    pub fn user(action: ChangeAction, id: &str, login: Option<String>) -> Self {
        Self {
            object: ChangeObject::User,
            action,
            id: Some(id.to_owned()),
            login,
            name: None,
            group_id: None,
            user_id: None,
            attributes: Vec::new(),
            removal: None,
        }
    }

    pub fn group(action: ChangeAction, id: &str, name: Option<String>) -> Self {
        Self {
            object: ChangeObject::Group,
            name,
            login: None,
            ..Self::user(action, id, None)
        }
    }

    pub fn membership(action: ChangeAction, group_id: &str, user_id: &str) -> Self {
        Self {
            object: ChangeObject::Membership,
            action,
            id: None,
            login: None,
            name: None,
            group_id: Some(group_id.to_owned()),
            user_id: Some(user_id.to_owned()),
            attributes: Vec::new(),
            removal: None,
        }
    }

    pub fn with_attributes(mut self, attributes: Vec<String>) -> Self {
        self.attributes = attributes;
        self
    }

    pub fn with_removal(mut self, removal: impl Into<String>) -> Self {
        self.removal = Some(removal.into());
        self
    }

    fn sort_key(&self) -> String {
        let id = self.id.as_deref().unwrap_or_default();
        match self.object {
            ChangeObject::User => format!("user#{id}"),
            ChangeObject::Group => format!("group#{id}"),
            ChangeObject::Membership => format!(
                "membership#{}#{}",
                self.group_id.as_deref().unwrap_or_default(),
                self.user_id.as_deref().unwrap_or_default()
            ),
        }
    }
}

fn shard_of(sort_key: &str) -> u32 {
    let digest = Sha256::digest(sort_key.as_bytes());
    u32::from(digest[0]) % CHANGE_SHARDS
}

/// Position after which a page of a change log continues: the shard and
/// the sort key of the last item returned. Written into page cursors as `shard:sortKey`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangePosition {
    pub shard: u32,
    pub after: String,
}

impl ChangePosition {
    pub fn encode(&self) -> String {
        format!("{}:{}", self.shard, self.after)
    }

    pub fn decode(text: &str) -> Option<Self> {
        let (shard, after) = text.split_once(':')?;
        let shard: u32 = shard.parse().ok()?;
        (shard < CHANGE_SHARDS).then(|| Self {
            shard,
            after: after.to_owned(),
        })
    }
}

impl Store {
    /// Writes change log entries of a run, 25 to a batch.
    pub async fn write_changes(
        &self,
        connector_id: &ConnectorId,
        run_id: &str,
        changes: &[Change],
    ) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let expires_at = n(self.expires_at());
        let mut requests = Vec::with_capacity(changes.len());
        for change in changes {
            let mut item: Item = serde_dynamo::to_item(change)
                .map_err(|error| StoreError::corrupt("change", error))?;
            let sort_key = change.sort_key();
            let pk = changes_pk(connector_id, run_id, shard_of(&sort_key));
            item.insert("pk".into(), s(pk));
            item.insert("sk".into(), s(sort_key));
            item.insert("expiresAt".into(), expires_at.clone());
            requests.push(Self::put_request(item)?);
        }
        self.write_log(requests).await
    }

    /// Writes log items without counting them as mirror writes.
    async fn write_log(
        &self,
        requests: Vec<aws_sdk_dynamodb::types::WriteRequest>,
    ) -> Result<(), StoreError> {
        self.write_requests(requests, false).await?;
        Ok(())
    }

    /// Reads up to `limit` changes of a run in a stable order: shard by
    /// shard, and by sort key inside a shard. Returns where the next page
    /// starts, or `None` after the last change.
    pub async fn list_changes(
        &self,
        connector_id: &ConnectorId,
        run_id: &str,
        start: Option<ChangePosition>,
        limit: usize,
    ) -> Result<(Vec<Change>, Option<ChangePosition>), StoreError> {
        let mut changes = Vec::new();
        let mut last = None;
        let (first_shard, mut after) = match start {
            Some(position) => (position.shard, Some(position.after)),
            None => (0, None),
        };
        for shard in first_shard..CHANGE_SHARDS {
            let page = self
                .query_page(PagedQuery {
                    pk: changes_pk(connector_id, run_id, shard),
                    after_sk: after.take(),
                    limit: limit - changes.len(),
                    filter: None,
                    newest_first: false,
                })
                .await?;
            for item in page.items {
                let sort_key = require_s(&item, "sk")?;
                let change: Change = serde_dynamo::from_item(item)
                    .map_err(|error| StoreError::corrupt("change", error))?;
                changes.push(change);
                last = Some(ChangePosition {
                    shard,
                    after: sort_key,
                });
            }
            if changes.len() >= limit {
                return Ok((changes, last));
            }
        }
        Ok((changes, None))
    }

    /// Stores the ids of user removals a run held for approval.
    pub async fn put_held_removals(
        &self,
        connector_id: &ConnectorId,
        run_id: &str,
        user_ids: &[String],
    ) -> Result<(), StoreError> {
        let expires_at = n(self.expires_at());
        let pk = held_pk(connector_id, run_id);
        let mut requests = Vec::with_capacity(user_ids.len());
        for user_id in user_ids {
            let item = Item::from([
                ("pk".to_owned(), s(&pk)),
                ("sk".to_owned(), s(user_id)),
                ("expiresAt".to_owned(), expires_at.clone()),
            ]);
            requests.push(Self::put_request(item)?);
        }
        self.write_log(requests).await
    }

    /// Returns up to `limit` held user ids of a run, from the first.
    pub async fn held_removals(
        &self,
        connector_id: &ConnectorId,
        run_id: &str,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let page = self
            .query_page(PagedQuery {
                pk: held_pk(connector_id, run_id),
                after_sk: None,
                limit,
                filter: None,
                newest_first: false,
            })
            .await?;
        page.items
            .iter()
            .map(|item| require_s(item, "sk"))
            .collect()
    }

    pub async fn delete_held_removals(
        &self,
        connector_id: &ConnectorId,
        run_id: &str,
        user_ids: &[String],
    ) -> Result<(), StoreError> {
        let pk = held_pk(connector_id, run_id);
        let requests = user_ids
            .iter()
            .map(|user_id| Self::delete_request(pk.clone(), user_id.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        self.write_log(requests).await
    }

    /// Returns the run whose held removals wait for a decision, if any.
    pub async fn pending_approval(
        &self,
        connector_id: &ConnectorId,
    ) -> Result<Option<String>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(lease_pk(connector_id)))
            .key("sk", s(PENDING_APPROVAL_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| StoreError::dynamo("GetItem", error))?;
        Ok(output.item.and_then(|item| get_s(&item, "runId")))
    }

    pub async fn set_pending_approval(
        &self,
        connector_id: &ConnectorId,
        run_id: &str,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(lease_pk(connector_id)))
            .item("sk", s(PENDING_APPROVAL_SK))
            .item("runId", s(run_id))
            .send()
            .await
            .map_err(|error| StoreError::dynamo("PutItem", error))?;
        Ok(())
    }

    /// Deletes the pointer to the pending hold if it still names `run_id`.
    pub async fn clear_pending_approval(
        &self,
        connector_id: &ConnectorId,
        run_id: &str,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(lease_pk(connector_id)))
            .key("sk", s(PENDING_APPROVAL_SK))
            .condition_expression("runId = :rid")
            .expression_attribute_values(":rid", s(run_id))
            .send()
            .await;
        unless_condition_failed("DeleteItem", result)
    }

    /// Returns the runs that started after `run_id`, oldest first.
    pub async fn runs_after(
        &self,
        connector_id: &ConnectorId,
        run_id: &str,
    ) -> Result<Vec<Run>, StoreError> {
        let mut runs = Vec::new();
        let mut after = Some(run_id.to_owned());
        loop {
            let page = self
                .query_page(PagedQuery {
                    pk: runs_pk(connector_id),
                    after_sk: after.take(),
                    limit: 100,
                    filter: None,
                    newest_first: false,
                })
                .await?;
            for item in page.items {
                runs.push(
                    serde_dynamo::from_item(item)
                        .map_err(|error| StoreError::corrupt("run", error))?,
                );
            }
            match page.last_sk {
                Some(last) => after = Some(last),
                None => return Ok(runs),
            }
        }
    }

    /// Reads items of one partition by sort key, 100 keys a call
    /// (BatchGetItem's limit), keeping the projected attributes.
    pub(crate) async fn batch_get(
        &self,
        pk: &str,
        sort_keys: &[String],
        projection: &str,
        names: &[(&str, &str)],
    ) -> Result<HashMap<String, Item>, StoreError> {
        let mut found = HashMap::new();
        for chunk in sort_keys.chunks(100) {
            let mut pending: Vec<Item> = chunk
                .iter()
                .map(|sort_key| {
                    Item::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sort_key))])
                })
                .collect();
            while !pending.is_empty() {
                let mut keys = KeysAndAttributes::builder()
                    .set_keys(Some(pending))
                    .projection_expression(format!("sk, {projection}"));
                for (placeholder, name) in names {
                    keys = keys.expression_attribute_names(*placeholder, *name);
                }
                let keys = keys
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
                    if let Some(sort_key) = get_s(&item, "sk") {
                        found.insert(sort_key, item);
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

    /// Deletes a run's change log and held removals.
    pub(crate) async fn delete_run_logs(
        &self,
        connector_id: &ConnectorId,
        run_id: &str,
    ) -> Result<usize, StoreError> {
        let mut deleted = 0;
        for shard in 0..CHANGE_SHARDS {
            deleted += self
                .delete_partition(changes_pk(connector_id, run_id, shard))
                .await?;
        }
        deleted += self.delete_partition(held_pk(connector_id, run_id)).await?;
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_round_trips() {
        let position = ChangePosition {
            shard: 3,
            after: "membership#00g1#00u2".into(),
        };

        let decoded = ChangePosition::decode(&position.encode());

        assert_eq!(decoded, Some(position));
    }

    #[test]
    fn position_rejects_unknown_shard() {
        assert_eq!(ChangePosition::decode("8:user#00u1"), None);
        assert_eq!(ChangePosition::decode("user#00u1"), None);
    }

    #[test]
    fn changes_spread_over_every_shard() {
        let shards: std::collections::BTreeSet<u32> = (0..200)
            .map(|index| shard_of(&format!("user#00u{index}")))
            .collect();

        assert_eq!(shards.len(), CHANGE_SHARDS as usize);
    }
}
