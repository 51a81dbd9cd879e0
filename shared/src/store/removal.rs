//! Writes of the cleanup policies for users who left Okta or the scope, and
//! the reads adoption needs from another connector's mirror.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::batch::Item;
use super::condition_failed;
use super::items::{require_s, s};
use super::keys::{groups_of_pk, groups_pk, members_pk, users_pk, CONNECTOR_PK};
use super::unless_condition_failed;
use super::{Store, StoreError};
use crate::domain::ConnectorId;

/// The status a disabled or anonymized user gets, Okta's own status for
/// deactivated users.
pub const REMOVED_STATUS: &str = "DEPROVISIONED";

/// User attributes the product writes. Adoption copies every other
/// attribute of an adopted user's item, because downstream applications
/// may have stored their own data there.
pub const OWNED_USER_ATTRIBUTES: &[&str] = &[
    "pk",
    "sk",
    "id",
    "key",
    "status",
    "login",
    "email",
    "firstName",
    "lastName",
    "displayName",
    "profileJson",
    "attributesJson",
    "created",
    "activated",
    "statusChanged",
    "lastLogin",
    "lastUpdated",
    "passwordChanged",
    "firstSyncedAt",
    "hash",
    "removedAt",
    "leftAt",
];

impl Store {
    /// Sets `removedAt` and the DEPROVISIONED status.
    pub async fn disable_users(
        &self,
        connector_id: &ConnectorId,
        ids: &[String],
        at: &str,
    ) -> Result<(), StoreError> {
        let values = [(":at", s(at)), (":status", s(REMOVED_STATUS))];
        self.update_users(
            connector_id,
            ids,
            "SET removedAt = :at, #status = :status",
            &values,
            &[("#status", "status")],
        )
        .await
    }

    /// Clears every personal field and sets `removedAt`. The id, key,
    /// `firstSyncedAt` and Okta's timestamps of the account stay, so a user
    /// who returns gets the same key. The empty digest makes the next sync
    /// that reads the user rewrite the item in full from Okta.
    pub async fn anonymize_users(
        &self,
        connector_id: &ConnectorId,
        ids: &[String],
        at: &str,
    ) -> Result<(), StoreError> {
        let values = [
            (":at", s(at)),
            (":status", s(REMOVED_STATUS)),
            (":empty", s("{}")),
            (":nohash", s("")),
        ];
        self.update_users(
            connector_id,
            ids,
            "SET removedAt = :at, #status = :status, profileJson = :empty, #hash = :nohash \
             REMOVE login, email, firstName, lastName, displayName, lastLogin, attributesJson",
            &values,
            &[("#status", "status"), ("#hash", "hash")],
        )
        .await
    }

    /// Sets `leftAt` and changes nothing else.
    pub async fn keep_left_users(
        &self,
        connector_id: &ConnectorId,
        ids: &[String],
        at: &str,
    ) -> Result<(), StoreError> {
        self.update_users(
            connector_id,
            ids,
            "SET leftAt = :at",
            &[(":at", s(at))],
            &[],
        )
        .await
    }

    /// Deletes users' items and their memberships. Returns the number of
    /// memberships deleted.
    pub async fn delete_users(
        &self,
        connector_id: &ConnectorId,
        ids: &[String],
    ) -> Result<u64, StoreError> {
        let mut memberships = 0;
        for id in ids {
            memberships += self.drop_user_memberships(connector_id, id).await?;
        }
        let deletes = ids
            .iter()
            .map(|id| Self::delete_request(users_pk(connector_id), id.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        self.write_all(deletes).await?;
        Ok(memberships)
    }

    /// Deletes a user's memberships and lowers each group's `memberCount` to
    /// match. Returns the number deleted.
    pub async fn drop_user_memberships(
        &self,
        connector_id: &ConnectorId,
        user_id: &str,
    ) -> Result<u64, StoreError> {
        let group_ids = self.user_group_ids(connector_id, user_id).await?;
        let deletes = group_ids
            .iter()
            .map(|group_id| {
                Self::delete_request(members_pk(connector_id, group_id), user_id.into())
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.write_all(deletes).await?;
        for group_id in &group_ids {
            let started = std::time::Instant::now();
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", s(groups_pk(connector_id)))
                .key("sk", s(group_id))
                .update_expression("ADD memberCount :minus")
                .condition_expression("attribute_exists(pk) AND memberCount > :zero")
                .expression_attribute_values(":minus", AttributeValue::N("-1".into()))
                .expression_attribute_values(":zero", AttributeValue::N("0".into()))
                .send()
                .await;
            match result {
                Ok(_) => self.stats.record(1, started),
                // A group item not written yet, or already at zero: the next
                // full sync sets the count from the member list.
                Err(error) if condition_failed(&error) => {}
                Err(error) => return Err(StoreError::dynamo("UpdateItem", error)),
            }
        }
        Ok(group_ids.len() as u64)
    }

    /// Ids of the groups a mirrored user is a member of, sorted.
    pub async fn user_group_ids(
        &self,
        connector_id: &ConnectorId,
        user_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        let items = self
            .query_all(
                Some("gsi1"),
                &groups_of_pk(connector_id, user_id),
                "gsi1sk",
                &[],
            )
            .await?;
        let mut ids = items
            .iter()
            .map(|item| require_s(item, "gsi1sk"))
            .collect::<Result<Vec<_>, _>>()?;
        ids.sort();
        Ok(ids)
    }

    /// Reads every user item of a connector, whole, for adoption.
    // NOTE: the connector's whole user partition is kept in memory, about
    // 1-2 KB a user (an estimate). Adoption runs once per connector.
    pub async fn load_user_items(
        &self,
        connector_id: &ConnectorId,
    ) -> Result<Vec<Item>, StoreError> {
        self.query_all(None, &users_pk(connector_id), "", &[]).await
    }

    /// Records on an adopted connector which connector adopted its users.
    /// A connector deleted in the meantime is left alone.
    pub async fn set_adopted_by(
        &self,
        connector_id: &ConnectorId,
        adopted_by: &ConnectorId,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(CONNECTOR_PK))
            .key("sk", s(connector_id.as_str()))
            .update_expression("SET adoptedBy = :by")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":by", s(adopted_by.as_str()))
            .send()
            .await;
        unless_condition_failed("UpdateItem", result)
    }

    async fn update_users(
        &self,
        connector_id: &ConnectorId,
        ids: &[String],
        expression: &str,
        values: &[(&str, AttributeValue)],
        names: &[(&str, &str)],
    ) -> Result<(), StoreError> {
        let pk = users_pk(connector_id);
        for id in ids {
            let started = std::time::Instant::now();
            let mut request = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", s(&pk))
                .key("sk", s(id))
                .update_expression(expression)
                .condition_expression("attribute_exists(pk)")
                .set_expression_attribute_values(Some(
                    values
                        .iter()
                        .map(|(name, value)| ((*name).to_owned(), value.clone()))
                        .collect::<HashMap<_, _>>(),
                ));
            for (placeholder, name) in names {
                request = request.expression_attribute_names(*placeholder, *name);
            }
            let result = request.send().await;
            match result {
                Ok(_) => self.stats.record(1, started),
                // Deleted by a concurrent purge: nothing left to update.
                Err(error) if condition_failed(&error) => {}
                Err(error) => return Err(StoreError::dynamo("UpdateItem", error)),
            }
        }
        Ok(())
    }
}
