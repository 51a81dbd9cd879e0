//! The sync algorithm, in two modes.
//!
//! A full sync enumerates every user, group and membership Okta shows the
//! token, writes what differs from the mirror, and only then, if every
//! enumeration finished, marks what Okta no longer has as removed:
//! 1. Load the mirror's index of users and groups (ids and digests).
//! 2. Page through all users, writing new and changed ones as pages arrive.
//! 3. List all groups.
//! 4. For several groups at once: list the members, diff them with the
//!    mirror's, write the difference, then write the group if it changed.
//! 5. Mark users and groups that Okta did not return as removed, unless the
//!    user removals exceed the connector's deletion guard: then they are
//!    held for an admin's approval and the rest of the run still applies.
//!
//! Steps 2 and 3-4 run at the same time when every user Okta lists is
//! mirrored, because they use separate rate-limit buckets. When the scope or
//! the mapping rules leave users out, members are checked against the users
//! read, so step 2 finishes first.
//!
//! An incremental sync reads only what changed since a watermark: users and
//! groups whose `lastUpdated` (or, for groups, `lastMembershipUpdated`) is
//! later, and the members of groups whose `lastMembershipUpdated` moved.
//! Okta has no membership-delta API, so a moved group's members come from
//! the System Log: its membership adds and removes and user deletions since
//! the watermark, read once per run and applied to the mirrored members
//! (see `membership_log`). A group whose result does not match Okta's member
//! count, or whose last change the log does not show yet, is read whole.
//! Every moved group is read whole when the log cannot be read or the
//! connector's scope leaves users out. The built-in Everyone group is never
//! read: it contains every user, so its members follow from the users the run
//! created.
//! Nothing is marked removed: users deleted outright in Okta and deleted
//! groups are only seen by a full sync, which runs on a fixed period.
//!
//! Every change goes to the run's change log as the run writes it. A dry run
//! takes the same steps and writes the change log, but not the mirror.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;

use futures::StreamExt;

use aws_sdk_dynamodb::types::WriteRequest;

use super::membership_log::MembershipLog;
use super::policy::SyncPolicy;
use super::progress::ProgressReporter;
use super::removals::{removal_changes, remove_and_log};
use super::SyncError;
use crate::domain::ConnectorId;
use crate::okta::{OktaClient, OktaError, OktaGroup, OktaUser};
use crate::records::{now_rfc3339, Approval, Connector, MembershipCounts, ObjectCounts, RunCounts};
use crate::store::{
    changed_group_attributes, changed_user_attributes, group_hash, mapped_user_hash,
};
use crate::store::{Change, ChangeAction, GroupIndexEntry, Store, UserIndexEntry};

/// Member lists fetched at once. The governor caps requests in flight too.
const PARALLEL_GROUPS: usize = 8;

/// Okta's type of the Everyone group.
const BUILT_IN: &str = "BUILT_IN";

/// Groups written (and diffed for the change log) per batch.
const GROUP_WRITE_BATCH: usize = 100;

/// Users removed, or held, per batch.
const REMOVAL_BATCH: usize = 500;

/// Membership writes built and written at a time, each with its change-log
/// entry, so a group's sync keeps at most this many in memory, whatever the
/// group's size.
const MEMBERSHIP_WRITE_BATCH: usize = 1_000;

/// Where a run continues from and when it must stop starting new work.
#[derive(Debug, Default)]
pub struct Resume {
    /// Groups whose members an earlier invocation of this run already wrote.
    pub groups_done: HashSet<String>,
    /// How far earlier invocations read the users.
    pub users: UsersResume,
    /// After this instant no new users page and no new group is started, so
    /// the invocation can save a checkpoint before the Lambda deadline.
    pub pause_at: Option<std::time::Instant>,
}

/// The users phase as earlier invocations of the run left it.
#[derive(Debug, Default)]
pub struct UsersResume {
    /// Every user was read; this invocation reads none.
    pub finished: bool,
    /// The next page to read; the first page when `None` and not finished.
    pub cursor: Option<reqwest::Url>,
    /// Users read (and written) by earlier invocations.
    pub seen: HashSet<String>,
    /// Users earlier invocations created, for the Everyone group of an
    /// incremental run.
    pub created: Vec<String>,
}

/// How an invocation of the engine ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Finished,
    /// Stopped before the deadline, with what this invocation finished; the
    /// rest is left for a continuation.
    Paused(Paused),
}

/// The work a paused invocation finished, to add to the run's checkpoint.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Paused {
    /// Groups whose members this invocation wrote.
    pub groups_done: Vec<String>,
    /// The next users page, or `None` when every user is read.
    pub users_cursor: Option<String>,
    /// Users this invocation read and created.
    pub users_seen: Vec<String>,
    pub users_created: Vec<String>,
}

/// What a run reads from Okta.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    Full,
    /// Changes after `since`, an Okta timestamp (`2026-01-31T09:15:02.000Z`).
    Incremental {
        since: String,
    },
}

pub struct Engine<'a> {
    pub connector_id: &'a ConnectorId,
    pub connector: &'a Connector,
    pub run_id: &'a str,
    pub store: &'a Store,
    pub okta: &'a OktaClient,
    pub progress: &'a ProgressReporter,
    /// The connector's scope, mapping, cleanup and adoption settings.
    pub policy: &'a SyncPolicy,
    /// Computes and logs the changes without writing the mirror.
    pub dry_run: bool,
}

/// Outputs of a run besides its counts.
pub struct Report<'r> {
    pub counts: &'r mut RunCounts,
    pub warnings: &'r mut Vec<String>,
    /// Set when the deletion guard holds (or in a dry run would hold) the
    /// run's user removals.
    pub approval: &'r mut Option<Approval>,
}

/// A group whose item is written at the next batch.
struct GroupWrite {
    group: OktaGroup,
    member_count: u64,
    hash: String,
    action: ChangeAction,
}

/// How a group's members are found in this run.
enum MemberSource<'a> {
    /// Read the member list from Okta.
    Fetch,
    /// Keep the mirrored members (the group's membership did not move).
    Keep { member_count: u64 },
    /// The Everyone group: the mirrored members plus the users created now.
    Everyone { created: &'a [String] },
    /// Apply the System Log's changes to the mirrored members, or read the
    /// member list when the result fails its checks.
    Log(&'a MembershipLog),
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

/// Whether a membership write puts or deletes the membership item.
#[derive(Debug, Clone, Copy)]
enum MembershipEdit {
    Add,
    Remove,
}

/// The users and groups a full run read, for deciding on removals.
struct FullRead {
    users: UsersRead,
    seen_groups: HashSet<String>,
    groups: GroupsRead,
}

/// The groups an invocation finished, and whether any is left.
struct GroupsRead {
    done: Vec<String>,
    finished: bool,
}

/// Users Okta returned in this invocation.
struct UsersRead {
    seen: HashSet<String>,
    created: Vec<String>,
    /// The page to continue from when the invocation paused mid-way.
    next: Option<reqwest::Url>,
}

impl UsersRead {
    fn paused(self, groups_done: Vec<String>) -> Paused {
        Paused {
            groups_done,
            users_cursor: self.next.map(String::from),
            users_seen: self.seen.into_iter().collect(),
            users_created: self.created,
        }
    }
}

impl Engine<'_> {
    pub async fn run(
        &self,
        plan: &Plan,
        resume: &Resume,
        report: Report<'_>,
    ) -> Result<Outcome, SyncError> {
        let Report {
            counts,
            warnings,
            approval,
        } = report;
        let started = std::time::Instant::now();
        let mut user_index = self.store.load_user_index(self.connector_id).await?;
        let group_index = self.store.load_group_index(self.connector_id).await?;
        let mirrored_users = user_index.values().filter(|entry| !entry.removed).count() as u64;
        tracing::info!(
            connector_id = %self.connector_id,
            users = user_index.len(),
            groups = group_index.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "loaded mirror index"
        );
        self.progress.set_expected_users(user_index.len() as u64);

        self.policy.forget_adopted(&user_index);

        self.progress.add_users_done(resume.users.seen.len() as u64);
        match plan {
            Plan::Full => {
                let (listed_groups, required) = self.required_members(warnings).await?;
                let first_page = self.policy.users_first_page(self.okta, None);
                let read = if required.is_none() && !self.policy.limits_users() {
                    self.read_all_at_once(
                        first_page,
                        &mut user_index,
                        &group_index,
                        resume,
                        counts,
                        warnings,
                    )
                    .await?
                } else {
                    let RunCounts {
                        users: user_counts,
                        groups: group_counts,
                        memberships: member_counts,
                    } = counts;
                    self.progress.phase("users");
                    let users = self
                        .sync_users(
                            first_page,
                            &mut user_index,
                            required.as_ref(),
                            resume,
                            user_counts,
                        )
                        .await?;
                    if users.next.is_some() {
                        return Ok(Outcome::Paused(users.paused(Vec::new())));
                    }
                    let groups = match listed_groups {
                        Some(groups) => groups,
                        None => {
                            self.progress.phase("groups");
                            self.list_groups(self.okta.groups_first_page()).await?
                        }
                    };
                    let groups = self.policy.mirrored_groups(groups);
                    let seen_groups: HashSet<String> =
                        groups.iter().map(|group| group.id.clone()).collect();
                    self.policy.fix_member_allowlist(&user_index);
                    let sources = |_: &OktaGroup| MemberSource::Fetch;
                    self.progress.phase("memberships");
                    let groups = self
                        .sync_groups(
                            groups,
                            &group_index,
                            sources,
                            resume,
                            (group_counts, member_counts),
                            warnings,
                        )
                        .await?;
                    FullRead {
                        users,
                        seen_groups,
                        groups,
                    }
                };
                let mut users = read.users;
                // Only an incremental run's Everyone group uses the created
                // users, so a full run neither keeps nor checkpoints them.
                users.created = Vec::new();
                if users.next.is_some() || !read.groups.finished {
                    return Ok(Outcome::Paused(users.paused(read.groups.done)));
                }
                let mut seen_users = users.seen;
                seen_users.extend(resume.users.seen.iter().cloned());
                let seen = Seen {
                    users: &seen_users,
                    groups: &read.seen_groups,
                    mirrored_users,
                };
                self.apply_removals(&user_index, group_index, seen, counts, approval)
                    .await?;
                Ok(Outcome::Finished)
            }
            Plan::Incremental { since } => {
                let (_, required) = self.required_members(warnings).await?;
                let first_page = self.policy.users_first_page(self.okta, Some(since));
                self.progress.phase("users");
                let users = self
                    .sync_users(
                        first_page,
                        &mut user_index,
                        required.as_ref(),
                        resume,
                        &mut counts.users,
                    )
                    .await?;
                if users.next.is_some() {
                    return Ok(Outcome::Paused(users.paused(Vec::new())));
                }
                self.progress.phase("groups");
                let groups = self
                    .list_groups(self.okta.groups_changed_since(since))
                    .await?;
                let groups = self.policy.mirrored_groups(groups);
                self.policy.fix_member_allowlist(&user_index);
                let mut created = resume.users.created.clone();
                created.extend(users.created.iter().cloned());
                let log = self
                    .read_membership_log(&groups, &group_index, since, warnings)
                    .await;
                let sources = |group: &OktaGroup| {
                    member_source(group, &group_index, since, &created, log.as_ref())
                };
                self.progress.phase("memberships");
                let RunCounts {
                    groups: group_counts,
                    memberships: member_counts,
                    ..
                } = counts;
                let groups = self
                    .sync_groups(
                        groups,
                        &group_index,
                        sources,
                        resume,
                        (group_counts, member_counts),
                        warnings,
                    )
                    .await?;
                if let Some(log) = &log {
                    tracing::info!(
                        connector_id = %self.connector_id,
                        groups_from_log = log.derived.load(Ordering::Relaxed),
                        groups_read_whole = log.fell_back.load(Ordering::Relaxed),
                        "applied the System Log's membership changes"
                    );
                }
                if groups.finished {
                    return Ok(Outcome::Finished);
                }
                Ok(Outcome::Paused(users.paused(groups.done)))
            }
        }
    }

    /// Reads the System Log's membership changes from `since` to the run's
    /// start, when some changed group can use them. Returns `None` when no
    /// group can use them or the log cannot be read. Then every changed
    /// group is read whole, and a 403 also adds a warning to the run.
    async fn read_membership_log(
        &self,
        groups: &[OktaGroup],
        index: &HashMap<String, GroupIndexEntry>,
        since: &str,
        warnings: &mut Vec<String>,
    ) -> Option<MembershipLog> {
        // With scope rules the mirrored member counts differ from Okta's,
        // so the count check could never pass.
        if self.policy.limits_users() {
            return None;
        }

        let candidates = groups
            .iter()
            .filter(|group| may_use_log(group, index, since))
            .count();
        if candidates == 0 {
            return None;
        }

        // The `Date` header has whole seconds, so the run started before
        // the next second. Events after the run's start that this window
        // includes are read again by the next run, whose watermark is
        // earlier.
        let until = self.okta.okta_time_at_first_answer()? + chrono::Duration::seconds(1);
        let until = until.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);

        match self.okta.membership_events(since, &until).await {
            Ok(events) => {
                tracing::info!(
                    connector_id = %self.connector_id,
                    events = events.len(),
                    groups = candidates,
                    since,
                    until,
                    "read membership changes from the System Log"
                );
                Some(MembershipLog::new(events))
            }
            Err(error) => {
                tracing::warn!(
                    connector_id = %self.connector_id,
                    okta_request_id = error.request_id().unwrap_or_default(),
                    error = %error,
                    groups = candidates,
                    "could not read the System Log; reading changed groups' member lists whole"
                );
                if let OktaError::Forbidden { code, .. } = &error {
                    warnings.push(format!(
                        "Okta denied the System Log ({code}), so the member lists of {candidates} changed groups were read whole. A token whose admin role can read the System Log makes incremental syncs cheaper."
                    ));
                }
                None
            }
        }
    }

    /// Reads the users and, at the same time, the groups and their members.
    /// Users, groups and member lists count against separate Okta buckets,
    /// so reading them one after the other would leave the member lists'
    /// bucket idle while the users are read. Only done when every user Okta
    /// lists is mirrored: a member then needs no check against the users
    /// read so far, and a membership may be written before its user's item
    /// within the run.
    async fn read_all_at_once(
        &self,
        first_page: reqwest::Url,
        user_index: &mut HashMap<String, UserIndexEntry>,
        group_index: &HashMap<String, GroupIndexEntry>,
        resume: &Resume,
        counts: &mut RunCounts,
        warnings: &mut Vec<String>,
    ) -> Result<FullRead, SyncError> {
        self.progress.phase("users and memberships");
        let RunCounts {
            users: user_counts,
            groups: group_counts,
            memberships: member_counts,
        } = counts;
        let users = self.sync_users(first_page, user_index, None, resume, user_counts);
        let groups = async {
            let groups = self.list_groups(self.okta.groups_first_page()).await?;
            let groups = self.policy.mirrored_groups(groups);
            let seen_groups: HashSet<String> =
                groups.iter().map(|group| group.id.clone()).collect();
            let sources = |_: &OktaGroup| MemberSource::Fetch;
            let groups = self
                .sync_groups(
                    groups,
                    group_index,
                    sources,
                    resume,
                    (group_counts, member_counts),
                    warnings,
                )
                .await?;
            Ok::<_, SyncError>((seen_groups, groups))
        };
        let (users, (seen_groups, groups)) = futures::try_join!(users, groups)?;
        Ok(FullRead {
            users,
            seen_groups,
            groups,
        })
    }

    /// With required groups set, lists every group and reads the required
    /// groups' members: only they are in scope. Returns the group list too,
    /// so a full run does not list groups twice. A required group whose
    /// members cannot be read fails the run, because guessing the scope
    /// could remove users who are in it.
    async fn required_members(
        &self,
        warnings: &mut Vec<String>,
    ) -> Result<(Option<Vec<OktaGroup>>, Option<HashSet<String>>), SyncError> {
        if !self.policy.requires_groups() {
            return Ok((None, None));
        }
        self.progress.phase("groups");
        let groups = self.list_groups(self.okta.groups_first_page()).await?;
        let mut members = HashSet::new();
        for group in self.policy.required_groups(&groups, warnings)? {
            members.extend(self.fetch_members(&group.id).await?);
        }
        tracing::info!(
            connector_id = %self.connector_id,
            users_in_scope = members.len(),
            "read the members of the required groups"
        );
        Ok((Some(groups), Some(members)))
    }

    /// Pages through users from `first_page` and writes the new and changed
    /// ones that are in scope: members of a required group (when `required`
    /// is given) that no mapping rule leaves out.
    async fn sync_users(
        &self,
        first_page: reqwest::Url,
        index: &mut HashMap<String, UserIndexEntry>,
        required: Option<&HashSet<String>>,
        resume: &Resume,
        counts: &mut ObjectCounts,
    ) -> Result<UsersRead, SyncError> {
        let earlier = &resume.users;
        let mut seen = HashSet::new();
        let mut created = Vec::new();
        let mut next = match (earlier.finished, &earlier.cursor) {
            (true, _) => None,
            (false, Some(cursor)) => Some(cursor.clone()),
            (false, None) => Some(first_page),
        };
        let now = now_rfc3339();
        let mut pages = 0;

        while let Some(url) = next {
            // Every invocation reads at least one page, so a run always
            // gets further.
            let pause = resume
                .pause_at
                .is_some_and(|pause_at| std::time::Instant::now() >= pause_at);
            if pages > 0 && pause {
                return Ok(UsersRead {
                    seen,
                    created,
                    next: Some(url),
                });
            }
            pages += 1;
            let page = self.okta.users_page(url).await?;
            let mut writes = Vec::new();
            let mut changes = Vec::new();
            let mut updated: Vec<(&OktaUser, bool)> = Vec::new();
            for user in &page.items {
                // Okta may list a user twice when the list changes while it
                // is paged; an earlier invocation's users are written.
                if seen.contains(&user.id) || earlier.seen.contains(&user.id) {
                    continue;
                }
                let in_required = required.is_none_or(|members| members.contains(&user.id));
                let fields = self.policy.map_user(user).filter(|_| in_required);
                let Some(fields) = fields else {
                    counts.out_of_scope += 1;
                    continue;
                };
                seen.insert(user.id.clone());
                counts.seen += 1;
                let hash = mapped_user_hash(user, self.policy.maps_fields().then_some(&fields));
                let mut foreign = None;
                let entry = match index.get(&user.id) {
                    Some(existing) if existing.hash == hash && !existing.removed => {
                        counts.unchanged += 1;
                        continue;
                    }
                    Some(existing) => {
                        counts.updated += 1;
                        updated.push((user, existing.removed));
                        UserIndexEntry {
                            hash,
                            removed: false,
                            ..existing.clone()
                        }
                    }
                    None => {
                        counts.created += 1;
                        created.push(user.id.clone());
                        changes.push(Change::user(
                            ChangeAction::Created,
                            &user.id,
                            login_of(user),
                        ));
                        match self.policy.adopt(&fields) {
                            Some(adopted) => {
                                foreign = Some(adopted.foreign);
                                UserIndexEntry {
                                    hash,
                                    key: adopted.key,
                                    first_synced_at: adopted.first_synced_at,
                                    removed: false,
                                }
                            }
                            None => UserIndexEntry {
                                hash,
                                key: uuid::Uuid::new_v4().to_string(),
                                first_synced_at: now.clone(),
                                removed: false,
                            },
                        }
                    }
                };
                let mut item = Store::user_item(self.connector_id, user, &fields, &entry);
                // NOTE: only adoption copies attributes the product does not
                // write; a later change of the user puts the item whole and
                // drops them.
                if let Some(foreign) = foreign {
                    item.extend(foreign);
                }
                writes.push(Store::put_request(item)?);
                index.insert(user.id.clone(), entry);
            }
            // The mirrored items are read before this page's writes replace them.
            changes.extend(self.user_updates(&updated).await?);
            self.write(writes).await?;
            self.record(changes).await?;
            self.progress.users_page(page.items.len() as u64).await?;
            next = page.next;
        }
        self.progress.users_finished();
        Ok(UsersRead {
            seen,
            created,
            next: None,
        })
    }

    /// Change log entries of updated and returning users, with the names of
    /// the attributes that differ from the mirror.
    async fn user_updates(&self, updated: &[(&OktaUser, bool)]) -> Result<Vec<Change>, SyncError> {
        if updated.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = updated.iter().map(|(user, _)| user.id.clone()).collect();
        let stored = self.store.user_items(self.connector_id, &ids).await?;
        let changes = updated
            .iter()
            .map(|(user, was_removed)| {
                let action = if *was_removed {
                    ChangeAction::Restored
                } else {
                    ChangeAction::Updated
                };
                let attributes = stored
                    .get(&user.id)
                    .map(|item| changed_user_attributes(item, user))
                    .unwrap_or_default();
                Change::user(action, &user.id, login_of(user)).with_attributes(attributes)
            })
            .collect();
        Ok(changes)
    }

    /// Writes to the mirror, except in a dry run.
    async fn write(&self, requests: Vec<WriteRequest>) -> Result<(), SyncError> {
        if !self.dry_run && !requests.is_empty() {
            self.store.write_all(requests).await?;
        }
        Ok(())
    }

    async fn record(&self, changes: Vec<Change>) -> Result<(), SyncError> {
        self.store
            .write_changes(self.connector_id, self.run_id, &changes)
            .await?;
        Ok(())
    }

    async fn list_groups(&self, first_page: reqwest::Url) -> Result<Vec<OktaGroup>, SyncError> {
        let mut groups = Vec::new();
        let mut next = Some(first_page);
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

    /// Syncs the members of each group not done yet, several at once, and
    /// writes the groups that changed. Stops starting groups at the pause
    /// time. Returns the groups this invocation finished.
    async fn sync_groups<'s>(
        &self,
        groups: Vec<OktaGroup>,
        index: &HashMap<String, GroupIndexEntry>,
        source_of: impl Fn(&OktaGroup) -> MemberSource<'s>,
        resume: &Resume,
        (group_counts, member_counts): (&mut ObjectCounts, &mut MembershipCounts),
        warnings: &mut Vec<String>,
    ) -> Result<GroupsRead, SyncError> {
        self.progress.set_groups_total(groups.len() as u64);
        self.progress
            .add_groups_done(resume.groups_done.len() as u64);
        let pending: Vec<OktaGroup> = groups
            .into_iter()
            .filter(|group| !resume.groups_done.contains(&group.id))
            .collect();
        let pending_count = pending.len();
        // `take_while` runs when a slot frees up, so no group starts after
        // the pause time, and groups already started finish. The first
        // groups always start, so every invocation makes progress.
        let started = std::sync::atomic::AtomicUsize::new(0);
        let work = futures::stream::iter(pending)
            .take_while(|_| {
                let count = started.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let go_on = count < PARALLEL_GROUPS
                    || resume
                        .pause_at
                        .is_none_or(|pause_at| std::time::Instant::now() < pause_at);
                futures::future::ready(go_on)
            })
            .map(|group| {
                let source = source_of(&group);
                let is_new = !index.contains_key(&group.id);
                self.sync_members(group, source, is_new)
            });
        let mut outcomes = work.buffer_unordered(PARALLEL_GROUPS);

        let mut done: Vec<String> = Vec::new();
        let mut finished_now = 0;
        let mut group_writes: Vec<GroupWrite> = Vec::new();
        while let Some(outcome) = outcomes.next().await {
            let outcome = outcome?;
            finished_now += 1;
            group_counts.seen += 1;
            member_counts.seen += outcome.seen;
            member_counts.added += outcome.added;
            member_counts.removed += outcome.removed;
            if let Some(warning) = outcome.warning {
                warnings.push(warning);
            }

            let hash = group_hash(&outcome.group, outcome.member_count);
            match index.get(&outcome.group.id) {
                Some(existing) if existing.hash == hash && !existing.removed => {
                    group_counts.unchanged += 1;
                }
                existing => {
                    let action = match existing {
                        // An empty digest marks the provisional item of a
                        // group first seen by an earlier invocation.
                        Some(entry) if entry.hash.is_empty() => ChangeAction::Created,
                        Some(entry) if entry.removed => ChangeAction::Restored,
                        Some(_) => ChangeAction::Updated,
                        None => ChangeAction::Created,
                    };
                    if existing.is_some() {
                        group_counts.updated += 1;
                    } else {
                        group_counts.created += 1;
                    }
                    done.push(outcome.group.id.clone());
                    group_writes.push(GroupWrite {
                        group: outcome.group,
                        member_count: outcome.member_count,
                        hash,
                        action,
                    });
                    if group_writes.len() >= GROUP_WRITE_BATCH {
                        self.write_groups(std::mem::take(&mut group_writes)).await?;
                    }
                    self.progress.group_done().await?;
                    continue;
                }
            }
            done.push(outcome.group.id.clone());
            self.progress.group_done().await?;
        }
        self.write_groups(group_writes).await?;

        Ok(GroupsRead {
            done,
            finished: finished_now == pending_count,
        })
    }

    /// Writes groups that changed and logs them, with the names of the
    /// attributes that differ from the mirror for updated ones.
    async fn write_groups(&self, batch: Vec<GroupWrite>) -> Result<(), SyncError> {
        let existing: Vec<String> = batch
            .iter()
            .filter(|write| write.action != ChangeAction::Created)
            .map(|write| write.group.id.clone())
            .collect();
        let stored = if existing.is_empty() {
            Default::default()
        } else {
            self.store.group_items(self.connector_id, &existing).await?
        };
        let mut writes = Vec::with_capacity(batch.len());
        let mut changes = Vec::with_capacity(batch.len());
        for write in batch {
            let mut change = Change::group(write.action, &write.group.id, name_of(&write.group));
            if let Some(item) = stored.get(&write.group.id) {
                change = change.with_attributes(changed_group_attributes(
                    item,
                    &write.group,
                    write.member_count,
                ));
            }
            changes.push(change);
            let item = Store::group_item(
                self.connector_id,
                &write.group,
                write.member_count,
                &write.hash,
            );
            writes.push(Store::put_request(item)?);
        }
        self.write(writes).await?;
        self.record(changes).await
    }

    /// Finds one group's members and writes the difference to the mirror.
    /// Members the policy's allowlist leaves out are not mirrored. A 403
    /// (the token's admin role does not cover the group) keeps the members
    /// the mirror has and becomes a warning on the run.
    async fn sync_members(
        &self,
        group: OktaGroup,
        source: MemberSource<'_>,
        is_new: bool,
    ) -> Result<GroupOutcome, SyncError> {
        let known = match &source {
            MemberSource::Keep { member_count } => {
                return Ok(GroupOutcome {
                    member_count: *member_count,
                    group,
                    seen: 0,
                    added: 0,
                    removed: 0,
                    warning: None,
                })
            }
            _ => self.store.member_ids(self.connector_id, &group.id).await?,
        };
        let derived = match source {
            MemberSource::Everyone { created } => {
                let mut current = known.clone();
                current.extend(created.iter().cloned());
                Some(current)
            }
            MemberSource::Log(log) => match log.derive_members(&group, &known) {
                Ok(current) => Some(current),
                Err(reason) => {
                    tracing::debug!(
                        connector_id = %self.connector_id,
                        group_id = group.id,
                        reason = %reason,
                        "reading the group's member list whole"
                    );
                    None
                }
            },
            _ => None,
        };
        let mut current = match derived {
            Some(current) => current,
            None => match self.fetch_members(&group.id).await {
                Ok(current) => current,
                Err(error @ OktaError::Forbidden { .. }) => {
                    return Ok(self.forbidden_outcome(group, known.len(), &error));
                }
                Err(error) => return Err(error.into()),
            },
        };
        current.retain(|user_id| self.policy.mirrors_member(user_id));

        let differs = current.difference(&known).next().is_some()
            || known.difference(&current).next().is_some();
        if is_new && differs {
            // The purge of a deleted connector finds member partitions
            // through group items, so a new group's item goes first. Its
            // empty digest makes the run write the full item afterwards.
            let provisional = Store::group_item(self.connector_id, &group, 0, "");
            self.write(vec![Store::put_request(provisional)?]).await?;
        }
        let added = self
            .write_memberships(&group.id, current.difference(&known), MembershipEdit::Add)
            .await?;
        let removed = self
            .write_memberships(
                &group.id,
                known.difference(&current),
                MembershipEdit::Remove,
            )
            .await?;

        Ok(GroupOutcome {
            member_count: current.len() as u64,
            seen: current.len() as u64,
            group,
            added,
            removed,
            warning: None,
        })
    }

    /// Puts or deletes the memberships of `user_ids` in a group and logs
    /// each as added or removed, `MEMBERSHIP_WRITE_BATCH` at a time. Returns
    /// how many memberships it changed.
    async fn write_memberships<'i>(
        &self,
        group_id: &str,
        user_ids: impl Iterator<Item = &'i String>,
        edit: MembershipEdit,
    ) -> Result<u64, SyncError> {
        let mut user_ids = user_ids.peekable();
        let mut changed = 0;
        while user_ids.peek().is_some() {
            let mut writes = Vec::with_capacity(MEMBERSHIP_WRITE_BATCH);
            let mut changes = Vec::with_capacity(MEMBERSHIP_WRITE_BATCH);
            for user_id in user_ids.by_ref().take(MEMBERSHIP_WRITE_BATCH) {
                let (write, action) = match edit {
                    MembershipEdit::Add => (
                        Store::membership_put(self.connector_id, group_id, user_id)?,
                        ChangeAction::Added,
                    ),
                    MembershipEdit::Remove => (
                        Store::membership_delete(self.connector_id, group_id, user_id)?,
                        ChangeAction::Removed,
                    ),
                };
                writes.push(write);
                changes.push(Change::membership(action, group_id, user_id));
            }
            changed += writes.len() as u64;
            self.write(writes).await?;
            self.record(changes).await?;
        }
        Ok(changed)
    }

    async fn fetch_members(&self, group_id: &str) -> Result<HashSet<String>, OktaError> {
        let mut members = HashSet::new();
        let mut next = Some(self.okta.members_first_page(group_id));
        while let Some(url) = next {
            let page = self.okta.members_page(url).await?;
            members.extend(page.items.into_iter().map(|member| member.id));
            next = page.next;
        }
        Ok(members)
    }

    fn forbidden_outcome(&self, group: OktaGroup, known: usize, error: &OktaError) -> GroupOutcome {
        tracing::warn!(
            connector_id = %self.connector_id,
            group_id = group.id,
            okta_request_id = error.request_id().unwrap_or_default(),
            "Okta denied the group's member list; keeping the mirrored members"
        );
        let warning = format!(
            "members of group {} were not read: {error} The mirror keeps the {known} members it had.",
            group.id
        );
        GroupOutcome {
            member_count: known as u64,
            group,
            seen: 0,
            added: 0,
            removed: 0,
            warning: Some(warning),
        }
    }

    /// Marks users and groups that a complete enumeration did not return as
    /// removed, and deletes the memberships of removed groups. User removals
    /// beyond the deletion guard are held instead.
    async fn apply_removals(
        &self,
        user_index: &HashMap<String, UserIndexEntry>,
        mut group_index: HashMap<String, GroupIndexEntry>,
        seen: Seen<'_>,
        counts: &mut RunCounts,
        approval: &mut Option<Approval>,
    ) -> Result<(), SyncError> {
        self.progress.phase("removals");
        let now = now_rfc3339();
        let mut gone_users: Vec<String> = user_index
            .iter()
            .filter(|(id, entry)| !entry.removed && !seen.users.contains(*id))
            .map(|(id, _)| id.clone())
            .collect();
        gone_users.sort();
        let guard = self.connector.deletion_guard;
        if guard.is_exceeded(gone_users.len() as u64, seen.mirrored_users) {
            self.hold_user_removals(&gone_users, seen.mirrored_users, approval)
                .await?;
        } else {
            self.remove_users(&gone_users, counts).await?;
        }

        group_index.retain(|id, entry| !entry.removed && !seen.groups.contains(id));
        let mut gone_groups: Vec<String> = group_index.into_keys().collect();
        gone_groups.sort();
        for group_id in &gone_groups {
            let members = self.store.member_ids(self.connector_id, group_id).await?;
            counts.memberships.removed += self
                .write_memberships(group_id, members.iter(), MembershipEdit::Remove)
                .await?;
            let change = Change::group(ChangeAction::Removed, group_id, None);
            self.record(vec![change]).await?;
        }
        if !self.dry_run {
            let groups_partition = Store::groups_partition(self.connector_id);
            self.store
                .mark_removed(groups_partition, &gone_groups, &now)
                .await?;
        }
        counts.groups.removed = gone_groups.len() as u64;
        Ok(())
    }

    /// Removes users through the cleanup policy, a batch at a time; a dry
    /// run only logs what the policy would do.
    async fn remove_users(
        &self,
        user_ids: &[String],
        counts: &mut RunCounts,
    ) -> Result<(), SyncError> {
        let cleanup = self.policy.cleanup;
        for batch in user_ids.chunks(REMOVAL_BATCH) {
            if self.dry_run {
                self.record(removal_changes(batch, cleanup)).await?;
                counts.users.removed += batch.len() as u64;
                continue;
            }
            let removed =
                remove_and_log(self.store, self.connector_id, self.run_id, batch, cleanup).await?;
            counts.users.removed += removed.users;
            counts.memberships.removed += removed.memberships;
        }
        Ok(())
    }

    /// Stores the user removals the deletion guard holds (a dry run stores
    /// none) and logs each as `removal_held`.
    async fn hold_user_removals(
        &self,
        user_ids: &[String],
        mirrored_users: u64,
        approval: &mut Option<Approval>,
    ) -> Result<(), SyncError> {
        let guard = self.connector.deletion_guard;
        tracing::warn!(
            connector_id = %self.connector_id,
            run_id = self.run_id,
            removals = user_ids.len(),
            mirrored_users,
            max_share = guard.max_share,
            max_count = guard.max_count,
            dry_run = self.dry_run,
            "user removals exceed the deletion guard and are held for approval"
        );
        for batch in user_ids.chunks(REMOVAL_BATCH) {
            if !self.dry_run {
                self.store
                    .put_held_removals(self.connector_id, self.run_id, batch)
                    .await?;
            }
            let changes = batch
                .iter()
                .map(|id| Change::user(ChangeAction::RemovalHeld, id, None))
                .collect();
            self.record(changes).await?;
        }
        *approval = Some(Approval {
            held_users: user_ids.len() as u64,
            mirrored_users,
            guard,
            decision: None,
            decided_at: None,
            superseded_by: None,
        });
        Ok(())
    }
}

/// Users and groups a full run saw, for deciding what to remove.
struct Seen<'a> {
    users: &'a HashSet<String>,
    groups: &'a HashSet<String>,
    /// Mirrored users that were not removed when the run started.
    mirrored_users: u64,
}

fn login_of(user: &OktaUser) -> Option<String> {
    user.profile_str("login").map(str::to_owned)
}

fn name_of(group: &OktaGroup) -> Option<String> {
    group
        .profile
        .get("name")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

/// Decides how an incremental run finds a changed group's members. `log`
/// is the run's System Log window, when it was read.
fn member_source<'u>(
    group: &OktaGroup,
    index: &HashMap<String, GroupIndexEntry>,
    since: &str,
    created: &'u [String],
    log: Option<&'u MembershipLog>,
) -> MemberSource<'u> {
    let from_log_or_fetch = || match log {
        Some(log) if may_use_log(group, index, since) => MemberSource::Log(log),
        _ => MemberSource::Fetch,
    };
    let Some(known) = index.get(&group.id).filter(|entry| !entry.removed) else {
        return from_log_or_fetch();
    };
    if group.group_type.as_deref() == Some(BUILT_IN) {
        return MemberSource::Everyone { created };
    }
    if membership_moved(group, since) {
        from_log_or_fetch()
    } else {
        MemberSource::Keep {
            member_count: known.member_count,
        }
    }
}

/// Tells whether the System Log's window from `since` can contain every
/// membership change of the group that the mirror lacks. That is so for a
/// mirrored group whose membership moved, and for a group created after
/// `since`, whose empty mirrored member set was right at `since`.
fn may_use_log(group: &OktaGroup, index: &HashMap<String, GroupIndexEntry>, since: &str) -> bool {
    if group.group_type.as_deref() == Some(BUILT_IN) {
        return false;
    }
    match index.get(&group.id).filter(|entry| !entry.removed) {
        Some(_) => membership_moved(group, since),
        None => group
            .created
            .as_deref()
            .is_some_and(|created| is_after(created, since)),
    }
}

fn membership_moved(group: &OktaGroup, since: &str) -> bool {
    match group.last_membership_updated.as_deref() {
        Some(updated) => is_after(updated, since),
        None => true,
    }
}

/// Compares two Okta timestamps; an unreadable one counts as later, so the
/// group is read again rather than missed.
fn is_after(timestamp: &str, since: &str) -> bool {
    let parse = |text: &str| chrono::DateTime::parse_from_rfc3339(text).ok();
    match (parse(timestamp), parse(since)) {
        (Some(timestamp), Some(since)) => timestamp > since,
        _ => true,
    }
}
