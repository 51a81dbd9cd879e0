//! Runs and the per-connector run lease. The lease makes "one run per
//! connector at a time" hold across Lambda instances: it is taken with a
//! conditional write and lapses at `leaseUntil` if its holder dies, because
//! DynamoDB TTL deletes late (days) and moto never deletes.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};

use super::condition_failed;
use super::items::{get_s, n, s, PagedQuery};
use super::keys::{lease_pk, runs_pk, LEASE_SK};
use super::unless_condition_failed;
use super::{Store, StoreError};
use crate::domain::ConnectorId;
use crate::records::Run;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseOutcome {
    Acquired,
    HeldBy(String),
}

fn epoch_now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Store {
    /// Takes the lease for a new queued run and stores the run, both or
    /// neither. Fails with `RunActive` while another run holds the lease.
    pub async fn queue_run(&self, run: &Run, lease_seconds: i64) -> Result<(), StoreError> {
        let lease = Put::builder()
            .table_name(&self.table)
            .item("pk", s(lease_pk(&run.connector_id)))
            .item("sk", s(LEASE_SK))
            .item("runId", s(&run.run_id))
            .item("leaseUntil", n(epoch_now() + lease_seconds))
            .item("state", s("queued"))
            .condition_expression("attribute_not_exists(pk) OR leaseUntil < :now")
            .expression_attribute_values(":now", n(epoch_now()))
            .build()
            .map_err(|error| StoreError::corrupt("lease", error))?;
        let record = Put::builder()
            .table_name(&self.table)
            .set_item(Some(self.run_item(run)?))
            .build()
            .map_err(|error| StoreError::corrupt("run", error))?;

        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(lease).build())
            .transact_items(TransactWriteItem::builder().put(record).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_transaction_canceled_exception()) =>
            {
                let holder = self.lease_holder(&run.connector_id).await?;
                Err(StoreError::RunActive {
                    run_id: holder.unwrap_or_default(),
                })
            }
            Err(error) => Err(StoreError::dynamo("TransactWriteItems", error)),
        }
    }

    /// Takes the lease for `run_id` on behalf of one invocation (`owner`).
    /// A lease that `run_id` holds while queued is taken over; one that is
    /// already running is not, so a duplicate delivery of the same run does
    /// not start it twice. A lapsed lease is free.
    pub async fn acquire_lease(
        &self,
        connector_id: &ConnectorId,
        run_id: &str,
        owner: &str,
        lease_seconds: i64,
    ) -> Result<LeaseOutcome, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(lease_pk(connector_id)))
            .key("sk", s(LEASE_SK))
            .update_expression(
                "SET runId = :rid, leaseUntil = :until, #owner = :owner, #state = :running",
            )
            .condition_expression(
                "attribute_not_exists(pk) OR leaseUntil < :now \
                 OR (runId = :rid AND #state = :queued) OR #owner = :owner",
            )
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":rid", s(run_id))
            .expression_attribute_values(":owner", s(owner))
            .expression_attribute_values(":running", s("running"))
            .expression_attribute_values(":queued", s("queued"))
            .expression_attribute_values(":until", n(epoch_now() + lease_seconds))
            .expression_attribute_values(":now", n(epoch_now()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(LeaseOutcome::Acquired),
            Err(error) if condition_failed(&error) => {
                let holder = self.lease_holder(connector_id).await?;
                Ok(LeaseOutcome::HeldBy(holder.unwrap_or_default()))
            }
            Err(error) => Err(StoreError::dynamo("UpdateItem", error)),
        }
    }

    /// Extends the lease while `owner` still holds it; returns false if it
    /// was lost (it lapsed and another run took it).
    pub async fn renew_lease(
        &self,
        connector_id: &ConnectorId,
        owner: &str,
        lease_seconds: i64,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(lease_pk(connector_id)))
            .key("sk", s(LEASE_SK))
            .update_expression("SET leaseUntil = :until")
            .condition_expression("#owner = :owner")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":owner", s(owner))
            .expression_attribute_values(":until", n(epoch_now() + lease_seconds))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if condition_failed(&error) => Ok(false),
            Err(error) => Err(StoreError::dynamo("UpdateItem", error)),
        }
    }

    /// Gives the lease up if `run_id` still holds it.
    pub async fn release_lease(
        &self,
        connector_id: &ConnectorId,
        run_id: &str,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(lease_pk(connector_id)))
            .key("sk", s(LEASE_SK))
            .condition_expression("runId = :rid")
            .expression_attribute_values(":rid", s(run_id))
            .send()
            .await;
        unless_condition_failed("DeleteItem", result)
    }

    /// Returns the run holding an unexpired lease, if any.
    pub async fn lease_holder(
        &self,
        connector_id: &ConnectorId,
    ) -> Result<Option<String>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(lease_pk(connector_id)))
            .key("sk", s(LEASE_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| StoreError::dynamo("GetItem", error))?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        let until = super::items::get_n(&item, "leaseUntil").unwrap_or(0) as i64;
        Ok((until >= epoch_now())
            .then(|| get_s(&item, "runId"))
            .flatten())
    }

    pub async fn put_run(&self, run: &Run) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.run_item(run)?))
            .send()
            .await
            .map_err(|error| StoreError::dynamo("PutItem", error))?;
        Ok(())
    }

    pub async fn get_run(
        &self,
        connector_id: &ConnectorId,
        run_id: &str,
    ) -> Result<Option<Run>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(runs_pk(connector_id)))
            .key("sk", s(run_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| StoreError::dynamo("GetItem", error))?;
        output
            .item
            .map(|item| {
                serde_dynamo::from_item(item).map_err(|error| StoreError::corrupt("run", error))
            })
            .transpose()
    }

    /// Runs of a connector, newest first.
    pub async fn list_runs(
        &self,
        connector_id: &ConnectorId,
        after: Option<String>,
        limit: usize,
    ) -> Result<(Vec<Run>, Option<String>), StoreError> {
        let page = self
            .query_page(PagedQuery {
                pk: runs_pk(connector_id),
                after_sk: after,
                limit,
                filter: None,
                newest_first: true,
            })
            .await?;
        let runs = page
            .items
            .into_iter()
            .map(|item| {
                serde_dynamo::from_item(item).map_err(|error| StoreError::corrupt("run", error))
            })
            .collect::<Result<Vec<Run>, _>>()?;
        Ok((runs, page.last_sk))
    }

    fn run_item(&self, run: &Run) -> Result<HashMap<String, AttributeValue>, StoreError> {
        let mut item: HashMap<String, AttributeValue> =
            serde_dynamo::to_item(run).map_err(|error| StoreError::corrupt("run", error))?;
        item.insert("pk".into(), s(runs_pk(&run.connector_id)));
        item.insert("sk".into(), s(&run.run_id));
        let expires = epoch_now() + self.retention_days * 24 * 3600;
        item.insert("expiresAt".into(), n(expires));
        Ok(item)
    }
}

impl Store {
    /// Writes a running run's progress without touching the rest of it.
    pub async fn update_run_progress(
        &self,
        connector_id: &ConnectorId,
        run_id: &str,
        progress: &crate::records::Progress,
    ) -> Result<(), StoreError> {
        let value: AttributeValue = serde_dynamo::to_attribute_value(progress)
            .map_err(|error| StoreError::corrupt("progress", error))?;
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(runs_pk(connector_id)))
            .key("sk", s(run_id))
            .update_expression("SET progress = :progress")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":progress", value)
            .send()
            .await
            .map_err(|error| StoreError::dynamo("UpdateItem", error))?;
        Ok(())
    }
}

impl Store {
    /// Returns the run whose lease lapsed without being released. Its Lambda
    /// instance ended mid-run, so its record may still read queued or running.
    pub async fn lapsed_lease_holder(
        &self,
        connector_id: &ConnectorId,
    ) -> Result<Option<String>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(lease_pk(connector_id)))
            .key("sk", s(LEASE_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| StoreError::dynamo("GetItem", error))?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        let until = super::items::get_n(&item, "leaseUntil").unwrap_or(0) as i64;
        Ok((until < epoch_now())
            .then(|| get_s(&item, "runId"))
            .flatten())
    }

    /// Marks a run that stopped without finishing as failed, if its record
    /// still reads queued or running.
    pub async fn mark_abandoned(
        &self,
        connector_id: &ConnectorId,
        run_id: &str,
    ) -> Result<(), StoreError> {
        let error: AttributeValue = serde_dynamo::to_attribute_value(crate::records::RunError {
            code: "run_abandoned".into(),
            message: "the run stopped without finishing (its function instance ended or timed out) and nothing was marked removed; a later run took over".into(),
        })
        .map_err(|error| StoreError::corrupt("run error", error))?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(runs_pk(connector_id)))
            .key("sk", s(run_id))
            .update_expression("SET #status = :failed, finishedAt = :now, #error = :error")
            .condition_expression("#status IN (:queued, :running)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#error", "error")
            .expression_attribute_values(":failed", s("failed"))
            .expression_attribute_values(":queued", s("queued"))
            .expression_attribute_values(":running", s("running"))
            .expression_attribute_values(":now", s(crate::records::now_rfc3339()))
            .expression_attribute_values(":error", error)
            .send()
            .await;
        match result {
            Ok(_) => {
                tracing::warn!(connector_id = %connector_id, run_id, "marked a run that stopped without finishing as failed");
                Ok(())
            }
            Err(error) if condition_failed(&error) => Ok(()),
            Err(error) => Err(StoreError::dynamo("UpdateItem", error)),
        }
    }
}

/// What a connector's next run needs from its earlier runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncState {
    /// Okta timestamp after which an incremental run reads changes.
    #[serde(default)]
    pub watermark: Option<String>,
    /// When the last full run succeeded (RFC 3339, this product's clock).
    #[serde(default)]
    pub last_full_at: Option<String>,
}

const SYNC_STATE_SK: &str = "sync-state";

impl Store {
    pub async fn get_sync_state(
        &self,
        connector_id: &ConnectorId,
    ) -> Result<SyncState, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(lease_pk(connector_id)))
            .key("sk", s(SYNC_STATE_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| StoreError::dynamo("GetItem", error))?;
        match output.item {
            Some(item) => serde_dynamo::from_item(item)
                .map_err(|error| StoreError::corrupt("sync state", error)),
            None => Ok(SyncState::default()),
        }
    }

    pub async fn put_sync_state(
        &self,
        connector_id: &ConnectorId,
        state: &SyncState,
    ) -> Result<(), StoreError> {
        let mut item: HashMap<String, AttributeValue> = serde_dynamo::to_item(state)
            .map_err(|error| StoreError::corrupt("sync state", error))?;
        item.insert("pk".into(), s(lease_pk(connector_id)));
        item.insert("sk".into(), s(SYNC_STATE_SK));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|error| StoreError::dynamo("PutItem", error))?;
        Ok(())
    }
}

/// Where a paused run continues: saved when an invocation stops before its
/// Lambda deadline, read by the continuation, deleted when the run ends.
///
/// The id lists grow with the org, so they are kept apart from the main
/// item, in part items of at most `PART_BYTES` of ids. Each pause adds parts
/// for what its invocation finished, so no org's size can push an item past
/// DynamoDB's 400 KB limit. A checkpoint saved before the parts existed
/// keeps `groupsDone` in the main item, and is read as such.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    /// Groups whose members are written.
    #[serde(default, skip_serializing)]
    pub groups_done: Vec<String>,
    /// Users read and written.
    #[serde(skip)]
    pub users_seen: Vec<String>,
    /// Users the run created, which an incremental run adds to the Everyone
    /// group.
    #[serde(skip)]
    pub users_created: Vec<String>,
    /// The next users page (an Okta `next` link) when the run paused while
    /// reading users.
    #[serde(default)]
    pub users_cursor: Option<String>,
    /// Every user is read.
    #[serde(default)]
    pub users_finished: bool,
    /// Totals of the earlier invocations.
    pub counts: crate::records::RunCounts,
    pub okta: crate::okta::CallCounts,
    pub dynamo: super::WriteCounts,
    pub warnings: Vec<String>,
    pub duration_ms: u64,
    pub invocations: u32,
    /// How many part items hold each id list.
    #[serde(default)]
    pub parts: CheckpointParts,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CheckpointParts {
    pub groups: usize,
    pub seen: usize,
    pub created: usize,
}

/// The ids one paused invocation adds to its run's checkpoint.
#[derive(Debug, Clone, Copy)]
pub struct CheckpointAdditions<'a> {
    pub groups_done: &'a [String],
    pub users_seen: &'a [String],
    pub users_created: &'a [String],
}

/// Bytes of ids per part item, leaving room under the 400 KB item size for
/// the keys and the list's own overhead (a few bytes per id).
const PART_BYTES: usize = 256 * 1024;

/// The id lists a checkpoint keeps in parts.
#[derive(Debug, Clone, Copy)]
enum PartList {
    Groups,
    Seen,
    Created,
}

impl PartList {
    const ALL: [PartList; 3] = [PartList::Groups, PartList::Seen, PartList::Created];

    fn name(self) -> &'static str {
        match self {
            PartList::Groups => "groups",
            PartList::Seen => "seen",
            PartList::Created => "created",
        }
    }

    fn count(self, parts: &CheckpointParts) -> usize {
        match self {
            PartList::Groups => parts.groups,
            PartList::Seen => parts.seen,
            PartList::Created => parts.created,
        }
    }

    fn count_mut(self, parts: &mut CheckpointParts) -> &mut usize {
        match self {
            PartList::Groups => &mut parts.groups,
            PartList::Seen => &mut parts.seen,
            PartList::Created => &mut parts.created,
        }
    }

    fn ids_mut(self, checkpoint: &mut Checkpoint) -> &mut Vec<String> {
        match self {
            PartList::Groups => &mut checkpoint.groups_done,
            PartList::Seen => &mut checkpoint.users_seen,
            PartList::Created => &mut checkpoint.users_created,
        }
    }

    fn added<'a>(self, additions: &CheckpointAdditions<'a>) -> &'a [String] {
        match self {
            PartList::Groups => additions.groups_done,
            PartList::Seen => additions.users_seen,
            PartList::Created => additions.users_created,
        }
    }
}

fn checkpoint_sk(run_id: &str) -> String {
    format!("checkpoint#{run_id}")
}

fn checkpoint_part_sk(run_id: &str, list: PartList, part: usize) -> String {
    format!("checkpoint#{run_id}#{}#{part:05}", list.name())
}

/// Splits ids into runs of at most `PART_BYTES` bytes.
fn split_into_parts(ids: &[String]) -> Vec<&[String]> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (index, id) in ids.iter().enumerate() {
        if bytes + id.len() > PART_BYTES && index > start {
            parts.push(&ids[start..index]);
            start = index;
            bytes = 0;
        }
        bytes += id.len();
    }
    if start < ids.len() {
        parts.push(&ids[start..]);
    }
    parts
}

impl Store {
    pub async fn get_checkpoint(
        &self,
        connector_id: &ConnectorId,
        run_id: &str,
    ) -> Result<Option<Checkpoint>, StoreError> {
        let Some(item) = self
            .get_item(lease_pk(connector_id), &checkpoint_sk(run_id), true)
            .await?
        else {
            return Ok(None);
        };
        let mut checkpoint: Checkpoint = serde_dynamo::from_item(item)
            .map_err(|error| StoreError::corrupt("checkpoint", error))?;
        for list in PartList::ALL {
            for part in 0..list.count(&checkpoint.parts) {
                let sk = checkpoint_part_sk(run_id, list, part);
                // Parts are written before the main item that counts them.
                let Some(item) = self.get_item(lease_pk(connector_id), &sk, true).await? else {
                    return Err(StoreError::corrupt(
                        "checkpoint",
                        format!("part {part} of the {} list is missing", list.name()),
                    ));
                };
                let Some(AttributeValue::L(ids)) = item.get("ids") else {
                    return Err(StoreError::corrupt(
                        "checkpoint",
                        format!("part {part} of the {} list has no ids", list.name()),
                    ));
                };
                for id in ids {
                    let AttributeValue::S(id) = id else {
                        return Err(StoreError::corrupt("checkpoint", "an id is not a string"));
                    };
                    list.ids_mut(&mut checkpoint).push(id.clone());
                }
            }
        }
        Ok(Some(checkpoint))
    }

    /// Saves a paused invocation's checkpoint: first new part items with the
    /// ids it adds (numbered after the parts `checkpoint.parts` already
    /// counts), then the main item with the new counts, so a reader never
    /// finds a count before its parts.
    pub async fn put_checkpoint(
        &self,
        connector_id: &ConnectorId,
        run_id: &str,
        checkpoint: &mut Checkpoint,
        additions: CheckpointAdditions<'_>,
    ) -> Result<(), StoreError> {
        let expires = epoch_now() + self.retention_days * 24 * 3600;
        for list in PartList::ALL {
            for ids in split_into_parts(list.added(&additions)) {
                let count = list.count_mut(&mut checkpoint.parts);
                let values = ids.iter().map(|id| s(id.as_str())).collect();
                let item = HashMap::from([
                    ("pk".to_owned(), s(lease_pk(connector_id))),
                    ("sk".to_owned(), s(checkpoint_part_sk(run_id, list, *count))),
                    ("ids".to_owned(), AttributeValue::L(values)),
                    ("expiresAt".to_owned(), n(expires)),
                ]);
                self.put_item(item).await?;
                *count += 1;
            }
        }
        let mut item: HashMap<String, AttributeValue> = serde_dynamo::to_item(&*checkpoint)
            .map_err(|error| StoreError::corrupt("checkpoint", error))?;
        item.insert("pk".into(), s(lease_pk(connector_id)));
        item.insert("sk".into(), s(checkpoint_sk(run_id)));
        item.insert("expiresAt".into(), n(expires));
        self.put_item(item).await
    }

    /// Deletes the checkpoint and its parts.
    pub async fn delete_checkpoint(
        &self,
        connector_id: &ConnectorId,
        run_id: &str,
    ) -> Result<(), StoreError> {
        let pk = lease_pk(connector_id);
        let Some(item) = self
            .get_item(pk.clone(), &checkpoint_sk(run_id), true)
            .await?
        else {
            return Ok(());
        };
        let checkpoint: Checkpoint = serde_dynamo::from_item(item)
            .map_err(|error| StoreError::corrupt("checkpoint", error))?;
        let mut keys = Vec::new();
        for list in PartList::ALL {
            for part in 0..list.count(&checkpoint.parts) {
                keys.push(checkpoint_part_sk(run_id, list, part));
            }
        }
        // The main item goes last, so a failure part-way leaves a
        // checkpoint that still counts the parts not deleted yet.
        keys.push(checkpoint_sk(run_id));
        for sk in keys {
            self.client
                .delete_item()
                .table_name(&self.table)
                .key("pk", s(&pk))
                .key("sk", s(sk))
                .send()
                .await
                .map_err(|error| StoreError::dynamo("DeleteItem", error))?;
        }
        Ok(())
    }

    /// Hands a paused run's lease to its continuation: the lease goes back to
    /// `queued` for the same run, so only that run's next invocation can take
    /// it, and it lapses if the continuation message is lost.
    pub async fn hand_over_lease(
        &self,
        connector_id: &ConnectorId,
        owner: &str,
        lease_seconds: i64,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(lease_pk(connector_id)))
            .key("sk", s(LEASE_SK))
            .update_expression("SET #state = :queued, leaseUntil = :until REMOVE #owner")
            .condition_expression("#owner = :owner")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":owner", s(owner))
            .expression_attribute_values(":queued", s("queued"))
            .expression_attribute_values(":until", n(epoch_now() + lease_seconds))
            .send()
            .await
            .map_err(|error| StoreError::dynamo("UpdateItem", error))?;
        Ok(())
    }
}
