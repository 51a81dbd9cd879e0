//! Reads and writes for refreshing one user outside a run: the user's item,
//! its memberships and the member counts of the groups involved.
//!
//! Writes go in DynamoDB transactions whose conditions check the state the
//! refresh read (the connector still exists, the user item has the expected
//! key, each membership is absent before it is added and present before it
//! is removed), so a member count changes only with a membership that really
//! changed, even while a run writes the same items.

use std::collections::HashSet;

use aws_sdk_dynamodb::types::{
    ConditionCheck, Delete, KeysAndAttributes, Put, TransactWriteItem, Update,
};

use super::batch::Item;
use super::items::{get_s, n, require_s, s};
use super::keys::{
    groups_of_pk, groups_pk, lease_pk, members_pk, users_pk, CONNECTOR_PK, LEASE_SK,
};
use super::{Store, StoreError, UserIndexEntry};
use crate::domain::ConnectorId;

/// TransactWriteItems takes at most 100 items.
const TRANSACTION_MAX: usize = 100;

/// BatchGetItem reads at most 100 keys.
const BATCH_GET_MAX: usize = 100;

/// Condition on the user item when the refresh writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserItemCondition {
    /// The mirror has no such user, and no run holds the connector's lease:
    /// a run that loaded its user index before this write would give the
    /// user a second key.
    New,
    /// The mirror has the user under this key.
    Existing { key: String },
}

/// The writes of one user refresh.
#[derive(Debug, Clone, Default)]
pub struct UserRefresh {
    /// The user item to put, with the condition it must meet.
    pub user: Option<(Item, UserItemCondition)>,
    pub add_to: Vec<String>,
    pub remove_from: Vec<String>,
}

impl Store {
    /// Converts a user item, as `Store::user_item` builds it, into the record
    /// the API returns.
    pub fn user_record_of(item: &Item) -> Result<crate::records::UserRecord, StoreError> {
        super::mirror::user_record(item)
    }

    /// Reads a mirrored user's key, first sync time, digest and removal,
    /// with a consistent read.
    pub async fn get_user_entry(
        &self,
        connector_id: &ConnectorId,
        user_id: &str,
    ) -> Result<Option<UserIndexEntry>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(users_pk(connector_id)))
            .key("sk", s(user_id))
            .consistent_read(true)
            .projection_expression("#hash, #key, firstSyncedAt, removedAt")
            .expression_attribute_names("#hash", "hash")
            .expression_attribute_names("#key", "key")
            .send()
            .await
            .map_err(|error| StoreError::dynamo("GetItem", error))?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        Ok(Some(UserIndexEntry {
            hash: get_s(&item, "hash").unwrap_or_default(),
            key: require_s(&item, "key")?,
            first_synced_at: require_s(&item, "firstSyncedAt")?,
            removed: item.contains_key("removedAt"),
        }))
    }

    /// Returns which of `group_ids` the mirror has and has not marked removed.
    pub async fn live_group_ids(
        &self,
        connector_id: &ConnectorId,
        group_ids: &[String],
    ) -> Result<HashSet<String>, StoreError> {
        let keys = group_ids
            .iter()
            .map(|id| key_of(groups_pk(connector_id), id))
            .collect();
        let items = self
            .batch_get_items(keys, "sk, removedAt", /* consistent */ false)
            .await?;
        Ok(items
            .iter()
            .filter(|item| !item.contains_key("removedAt"))
            .filter_map(|item| get_s(item, "sk"))
            .collect())
    }

    /// Returns the groups the user is a mirrored member of, among `candidates`
    /// and the groups the index lists for the user. The index is eventually
    /// consistent, so each membership is then confirmed by a consistent read.
    pub async fn memberships_of(
        &self,
        connector_id: &ConnectorId,
        user_id: &str,
        candidates: &HashSet<String>,
    ) -> Result<HashSet<String>, StoreError> {
        let indexed = self
            .query_all(
                Some("gsi1"),
                &groups_of_pk(connector_id, user_id),
                "gsi1sk",
                &[],
            )
            .await?;
        let mut groups = candidates.clone();
        for item in &indexed {
            groups.insert(require_s(item, "gsi1sk")?);
        }
        let keys = groups
            .iter()
            .map(|group_id| key_of(members_pk(connector_id, group_id), user_id))
            .collect();
        let items = self.batch_get_items(keys, "pk", true).await?;
        let prefix = members_pk(connector_id, "");
        Ok(items
            .iter()
            .filter_map(|item| get_s(item, "pk"))
            .filter_map(|pk| pk.strip_prefix(&prefix).map(str::to_owned))
            .collect())
    }

    /// Writes one user refresh in as few transactions as the limit of 100
    /// items allows; the user item goes in the first. Fails with `Conflict`
    /// when a condition no longer holds: the caller reads again and retries,
    /// or reports why.
    pub async fn write_user_refresh(
        &self,
        connector_id: &ConnectorId,
        user_id: &str,
        refresh: UserRefresh,
    ) -> Result<(), StoreError> {
        if refresh.user.is_none() && refresh.add_to.is_empty() && refresh.remove_from.is_empty() {
            return Ok(());
        }
        let mut first = vec![self.connector_exists(connector_id)?];
        if let Some((item, condition)) = refresh.user {
            if condition == UserItemCondition::New {
                first.push(self.no_run_holds_lease(connector_id)?);
            }
            first.push(self.user_put(item, &condition)?);
        }

        let mut changes = Vec::new();
        for group_id in &refresh.add_to {
            changes.push(self.membership_change(connector_id, group_id, user_id, true)?);
        }
        for group_id in &refresh.remove_from {
            changes.push(self.membership_change(connector_id, group_id, user_id, false)?);
        }

        let mut transaction = first;
        let mut changes = changes.into_iter().peekable();
        loop {
            while transaction.len() + 2 <= TRANSACTION_MAX {
                let Some([membership, count]) = changes.next() else {
                    break;
                };
                transaction.push(membership);
                transaction.push(count);
            }
            let started = std::time::Instant::now();
            let written = transaction.len();
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(transaction))
                .send()
                .await;
            match result {
                Ok(_) => self.stats.record(written, started),
                Err(error)
                    if error
                        .as_service_error()
                        .is_some_and(|e| e.is_transaction_canceled_exception()) =>
                {
                    return Err(StoreError::Conflict)
                }
                Err(error) => return Err(StoreError::dynamo("TransactWriteItems", error)),
            }
            if changes.peek().is_none() {
                return Ok(());
            }
            transaction = vec![self.connector_exists(connector_id)?];
        }
    }

    fn connector_exists(
        &self,
        connector_id: &ConnectorId,
    ) -> Result<TransactWriteItem, StoreError> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .key("pk", s(CONNECTOR_PK))
            .key("sk", s(connector_id.as_str()))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(|error| StoreError::corrupt("condition check", error))?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    fn no_run_holds_lease(
        &self,
        connector_id: &ConnectorId,
    ) -> Result<TransactWriteItem, StoreError> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .key("pk", s(lease_pk(connector_id)))
            .key("sk", s(LEASE_SK))
            .condition_expression("attribute_not_exists(pk) OR leaseUntil < :now")
            .expression_attribute_values(":now", n(chrono::Utc::now().timestamp()))
            .build()
            .map_err(|error| StoreError::corrupt("condition check", error))?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    fn user_put(
        &self,
        item: Item,
        condition: &UserItemCondition,
    ) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder().table_name(&self.table).set_item(Some(item));
        let put = match condition {
            UserItemCondition::New => put.condition_expression("attribute_not_exists(pk)"),
            UserItemCondition::Existing { key } => put
                .condition_expression("#key = :key")
                .expression_attribute_names("#key", "key")
                .expression_attribute_values(":key", s(key)),
        };
        let put = put
            .build()
            .map_err(|error| StoreError::corrupt("user item", error))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Builds the membership put or delete and the matching change of the
    /// group's member count.
    fn membership_change(
        &self,
        connector_id: &ConnectorId,
        group_id: &str,
        user_id: &str,
        add: bool,
    ) -> Result<[TransactWriteItem; 2], StoreError> {
        let membership = if add {
            let put = Put::builder()
                .table_name(&self.table)
                .item("pk", s(members_pk(connector_id, group_id)))
                .item("sk", s(user_id))
                .item("gsi1pk", s(groups_of_pk(connector_id, user_id)))
                .item("gsi1sk", s(group_id))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(|error| StoreError::corrupt("membership", error))?;
            TransactWriteItem::builder().put(put).build()
        } else {
            let delete = Delete::builder()
                .table_name(&self.table)
                .key("pk", s(members_pk(connector_id, group_id)))
                .key("sk", s(user_id))
                .condition_expression("attribute_exists(pk)")
                .build()
                .map_err(|error| StoreError::corrupt("membership", error))?;
            TransactWriteItem::builder().delete(delete).build()
        };
        let count = Update::builder()
            .table_name(&self.table)
            .key("pk", s(groups_pk(connector_id)))
            .key("sk", s(group_id))
            .update_expression("ADD memberCount :change")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":change", n(if add { 1 } else { -1 }))
            .build()
            .map_err(|error| StoreError::corrupt("group member count", error))?;
        Ok([
            membership,
            TransactWriteItem::builder().update(count).build(),
        ])
    }

    /// Reads items by key, 100 at a time, retrying unprocessed keys.
    async fn batch_get_items(
        &self,
        keys: Vec<Item>,
        projection: &str,
        consistent: bool,
    ) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        for chunk in keys.chunks(BATCH_GET_MAX) {
            let mut pending = chunk.to_vec();
            while !pending.is_empty() {
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(pending))
                    .projection_expression(projection)
                    .consistent_read(consistent)
                    .build()
                    .map_err(|error| StoreError::corrupt("batch get", error))?;
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|error| StoreError::dynamo("BatchGetItem", error))?;
                found.extend(
                    output
                        .responses
                        .and_then(|mut responses| responses.remove(&self.table))
                        .unwrap_or_default(),
                );
                pending = output
                    .unprocessed_keys
                    .and_then(|mut keys| keys.remove(&self.table))
                    .map(|keys| keys.keys)
                    .unwrap_or_default();
            }
        }
        Ok(found)
    }
}

fn key_of(pk: String, sk: &str) -> Item {
    Item::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}
