//! A full sync: enumerate every user, group and membership Okta shows the
//! token, write what differs from the mirror, and only then, if every
//! enumeration finished, mark what Okta no longer has as removed.
//!
//! Steps:
//! 1. Load the mirror's index of users and groups (ids and digests).
//! 2. Page through all users, writing new and changed ones as pages arrive.
//! 3. List all groups.
//! 4. For several groups at once: list the members, diff them with the
//!    mirror's, write the difference, then write the group if it changed.
//! 5. Mark users and groups that Okta did not return as removed.

use std::collections::{HashMap, HashSet};

use futures::StreamExt;

use super::progress::ProgressReporter;
use super::SyncError;
use crate::domain::ConnectorId;
use crate::okta::{OktaClient, OktaError, OktaGroup};
use crate::records::{now_rfc3339, RunCounts};
use crate::store::{group_hash, user_hash};
use crate::store::{GroupIndexEntry, Store, UserIndexEntry};

/// Member lists fetched at once. The governor caps requests in flight too.
const PARALLEL_GROUPS: usize = 8;

pub struct FullSync<'a> {
    pub connector_id: &'a ConnectorId,
    pub store: &'a Store,
    pub okta: &'a OktaClient,
    pub progress: &'a ProgressReporter,
}

/// The outcome of one group's member sync.
struct GroupOutcome {
    group: OktaGroup,
    member_count: u64,
    seen: u64,
    added: u64,
    removed: u64,
    warning: Option<String>,
}

impl FullSync<'_> {
    pub async fn run(
        self,
        counts: &mut RunCounts,
        warnings: &mut Vec<String>,
    ) -> Result<(), SyncError> {
        let started = std::time::Instant::now();
        let mut user_index = self.store.load_user_index(self.connector_id).await?;
        let mut group_index = self.store.load_group_index(self.connector_id).await?;
        tracing::info!(
            connector_id = %self.connector_id,
            users = user_index.len(),
            groups = group_index.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "loaded mirror index"
        );

        let seen_users = self.sync_users(&mut user_index, counts).await?;
        let groups = self.list_groups().await?;
        let seen_groups: HashSet<String> = groups.iter().map(|group| group.id.clone()).collect();
        self.sync_groups(groups, &group_index, counts, warnings)
            .await?;

        // Every enumeration finished: what Okta did not return has left it.
        self.progress.phase("removals");
        let now = now_rfc3339();
        let gone_users: Vec<String> = user_index
            .iter()
            .filter(|(id, entry)| !entry.removed && !seen_users.contains(*id))
            .map(|(id, _)| id.clone())
            .collect();
        self.store
            .mark_removed(Store::users_partition(self.connector_id), &gone_users, &now)
            .await?;
        counts.users.removed = gone_users.len() as u64;

        group_index.retain(|id, entry| !entry.removed && !seen_groups.contains(id));
        let gone_groups: Vec<String> = group_index.into_keys().collect();
        for group_id in &gone_groups {
            let members = self.store.member_ids(self.connector_id, group_id).await?;
            counts.memberships.removed += members.len() as u64;
            let deletes = members
                .iter()
                .map(|user_id| Store::membership_delete(self.connector_id, group_id, user_id))
                .collect::<Result<Vec<_>, _>>()?;
            self.store.write_all(deletes).await?;
        }
        self.store
            .mark_removed(
                Store::groups_partition(self.connector_id),
                &gone_groups,
                &now,
            )
            .await?;
        counts.groups.removed = gone_groups.len() as u64;
        Ok(())
    }

    /// Pages through every user and writes the new and changed ones.
    /// Returns the ids Okta returned.
    async fn sync_users(
        &self,
        index: &mut HashMap<String, UserIndexEntry>,
        counts: &mut RunCounts,
    ) -> Result<HashSet<String>, SyncError> {
        self.progress.phase("users");
        let mut seen = HashSet::with_capacity(index.len());
        let mut next = Some(self.okta.users_first_page());
        let now = now_rfc3339();

        while let Some(url) = next {
            let page = self.okta.users_page(url).await?;
            let mut writes = Vec::new();
            for user in &page.items {
                if !seen.insert(user.id.clone()) {
                    continue;
                }
                counts.users.seen += 1;
                let hash = user_hash(user);
                let entry = match index.get(&user.id) {
                    Some(existing) if existing.hash == hash && !existing.removed => {
                        counts.users.unchanged += 1;
                        continue;
                    }
                    Some(existing) => {
                        counts.users.updated += 1;
                        UserIndexEntry {
                            hash,
                            removed: false,
                            ..existing.clone()
                        }
                    }
                    None => {
                        counts.users.created += 1;
                        UserIndexEntry {
                            hash,
                            key: uuid::Uuid::new_v4().to_string(),
                            first_synced_at: now.clone(),
                            removed: false,
                        }
                    }
                };
                writes.push(Store::put_request(Store::user_item(
                    self.connector_id,
                    user,
                    &entry,
                ))?);
                index.insert(user.id.clone(), entry);
            }
            self.store.write_all(writes).await?;
            self.progress.users_page(page.items.len() as u64).await?;
            next = page.next;
        }
        Ok(seen)
    }

    async fn list_groups(&self) -> Result<Vec<OktaGroup>, SyncError> {
        self.progress.phase("groups");
        let mut groups = Vec::new();
        let mut next = Some(self.okta.groups_first_page());
        while let Some(url) = next {
            let page = self.okta.groups_page(url).await?;
            groups.extend(page.items);
            self.progress.groups_page().await?;
            next = page.next;
        }
        let mut unique = HashSet::new();
        groups.retain(|group| unique.insert(group.id.clone()));
        Ok(groups)
    }

    async fn sync_groups(
        &self,
        groups: Vec<OktaGroup>,
        index: &HashMap<String, GroupIndexEntry>,
        counts: &mut RunCounts,
        warnings: &mut Vec<String>,
    ) -> Result<(), SyncError> {
        self.progress.phase("memberships");
        self.progress.set_groups_total(groups.len() as u64);
        let mut outcomes =
            futures::stream::iter(groups.into_iter().map(|group| self.sync_members(group)))
                .buffer_unordered(PARALLEL_GROUPS);

        let mut group_writes = Vec::new();
        while let Some(outcome) = outcomes.next().await {
            let outcome = outcome?;
            counts.groups.seen += 1;
            counts.memberships.seen += outcome.seen;
            counts.memberships.added += outcome.added;
            counts.memberships.removed += outcome.removed;
            if let Some(warning) = outcome.warning {
                warnings.push(warning);
            }

            let hash = group_hash(&outcome.group, outcome.member_count);
            match index.get(&outcome.group.id) {
                Some(existing) if existing.hash == hash && !existing.removed => {
                    counts.groups.unchanged += 1;
                }
                Some(_) => counts.groups.updated += 1,
                None => counts.groups.created += 1,
            }
            let unchanged = index
                .get(&outcome.group.id)
                .is_some_and(|existing| existing.hash == hash && !existing.removed);
            if !unchanged {
                group_writes.push(Store::put_request(Store::group_item(
                    self.connector_id,
                    &outcome.group,
                    outcome.member_count,
                    &hash,
                ))?);
            }
            if group_writes.len() >= 100 {
                self.store
                    .write_all(std::mem::take(&mut group_writes))
                    .await?;
            }
            self.progress.group_done().await?;
        }
        self.store.write_all(group_writes).await?;
        Ok(())
    }

    /// Lists one group's members and writes the difference to the mirror.
    /// A 403 (the token's admin role does not cover the group) keeps the
    /// members the mirror has and becomes a warning on the run.
    async fn sync_members(&self, group: OktaGroup) -> Result<GroupOutcome, SyncError> {
        let known = self.store.member_ids(self.connector_id, &group.id).await?;
        let mut current = HashSet::with_capacity(known.len());
        let mut next = Some(self.okta.members_first_page(&group.id));

        while let Some(url) = next {
            match self.okta.members_page(url).await {
                Ok(page) => {
                    current.extend(page.items.into_iter().map(|member| member.id));
                    next = page.next;
                }
                Err(error @ OktaError::Forbidden { .. }) => {
                    tracing::warn!(
                        connector_id = %self.connector_id,
                        group_id = group.id,
                        okta_request_id = error.request_id().unwrap_or_default(),
                        "Okta denied the group's member list; keeping the mirrored members"
                    );
                    let warning = format!(
                        "members of group {} were not read: {error} The mirror keeps the {} members it had.",
                        group.id,
                        known.len()
                    );
                    return Ok(GroupOutcome {
                        member_count: known.len() as u64,
                        group,
                        seen: 0,
                        added: 0,
                        removed: 0,
                        warning: Some(warning),
                    });
                }
                Err(error) => return Err(error.into()),
            }
        }

        let mut writes = Vec::new();
        for user_id in current.difference(&known) {
            writes.push(Store::membership_put(
                self.connector_id,
                &group.id,
                user_id,
            )?);
        }
        let added = writes.len() as u64;
        for user_id in known.difference(&current) {
            writes.push(Store::membership_delete(
                self.connector_id,
                &group.id,
                user_id,
            )?);
        }
        let removed = writes.len() as u64 - added;
        self.store.write_all(writes).await?;

        Ok(GroupOutcome {
            member_count: current.len() as u64,
            seen: current.len() as u64,
            group,
            added,
            removed,
            warning: None,
        })
    }
}
