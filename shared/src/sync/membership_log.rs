//! Members of changed groups derived from Okta's System Log, so an
//! incremental sync need not read a changed group's member list whole.
//!
//! The log's membership adds and removes, applied to the mirrored members in
//! `published` order, give the group's members at the end of the log's
//! window. Two checks decide whether that result may be written:
//! - The latest change the log explains for the group must be as late as
//!   the group's `lastMembershipUpdated`, or a user deletion must fall at
//!   that time. A late event for the group's last change, or a change after
//!   the window, fails this check.
//! - The result must have exactly Okta's member count for the group
//!   (`_embedded.stats.usersCount`), because the log can miss changes.
//!   Events can arrive late. A user deleted outright leaves its groups with
//!   only a deletion event, which can be late too. A change that Okta does
//!   not log would be missed as well. Each miss makes the count differ
//!   unless other misses cancel it out.
//!
//! A group that fails either check has its member list read whole.
//! NOTE: misses that cancel out in the count and leave the group's last
//! change in the log go unnoticed until the next full sync.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};

use crate::okta::{MembershipChange, MembershipEvent, OktaGroup};

/// How much earlier than a group's `lastMembershipUpdated` the latest logged
/// change may be published and still explain it.
// NOTE: Okta does not document how an event's `published` relates to the
// group's `lastMembershipUpdated`, which has whole seconds. One second covers
// the truncation. If Okta stamps them further apart, groups fall back to
// reading their member lists, which costs calls but stays correct.
const CLOCK_TOLERANCE: chrono::Duration = chrono::Duration::seconds(1);

/// One group's membership change from the log.
struct GroupChange {
    published: DateTime<Utc>,
    user_id: String,
    added: bool,
}

/// Reason a group's members could not be derived from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Fallback {
    /// Okta returned the group without `_embedded.stats.usersCount`.
    NoCount,
    /// The group's membership changed later than the latest logged change.
    ChangeNotInLog,
    /// The derived member count differs from Okta's.
    CountDiffers { okta: u64, derived: u64 },
}

impl std::fmt::Display for Fallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoCount => f.write_str("Okta returned no member count"),
            Self::ChangeNotInLog => {
                f.write_str("the group's last membership change is not in the System Log yet")
            }
            Self::CountDiffers { okta, derived } => write!(
                f,
                "Okta counts {okta} members, the System Log's changes give {derived}"
            ),
        }
    }
}

/// The membership changes of one run's log window, by group, and counters
/// of how the groups fared.
pub(super) struct MembershipLog {
    by_group: HashMap<String, Vec<GroupChange>>,
    /// Users deleted outright, with the time of the deletion.
    deleted: HashMap<String, DateTime<Utc>>,
    pub derived: AtomicU64,
    pub fell_back: AtomicU64,
}

impl MembershipLog {
    /// Indexes events by group, in `published` order. Events with the same
    /// time keep the order Okta returned them in.
    pub fn new(mut events: Vec<MembershipEvent>) -> Self {
        events.sort_by_key(|event| event.published);
        let mut by_group: HashMap<String, Vec<GroupChange>> = HashMap::new();
        let mut deleted = HashMap::new();
        for event in events {
            let (group_id, user_id, added) = match event.change {
                MembershipChange::Added { group_id, user_id } => (group_id, user_id, true),
                MembershipChange::Removed { group_id, user_id } => (group_id, user_id, false),
                MembershipChange::UserDeleted { user_id } => {
                    deleted.insert(user_id, event.published);
                    continue;
                }
            };
            by_group.entry(group_id).or_default().push(GroupChange {
                published: event.published,
                user_id,
                added,
            });
        }
        Self {
            by_group,
            deleted,
            derived: AtomicU64::new(0),
            fell_back: AtomicU64::new(0),
        }
    }

    /// Applies the group's logged changes to its mirrored members, the last
    /// change of each user winning, and drops deleted users. Returns the
    /// members when they pass both checks of the module comment.
    pub fn derive_members(
        &self,
        group: &OktaGroup,
        mirrored: &HashSet<String>,
    ) -> Result<HashSet<String>, Fallback> {
        let outcome = self.derive_unchecked(group, mirrored);
        let counter = match outcome {
            Ok(_) => &self.derived,
            Err(_) => &self.fell_back,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        outcome
    }

    fn derive_unchecked(
        &self,
        group: &OktaGroup,
        mirrored: &HashSet<String>,
    ) -> Result<HashSet<String>, Fallback> {
        let okta_count = group.users_count().ok_or(Fallback::NoCount)?;
        let mut members = mirrored.clone();
        let mut latest: Option<DateTime<Utc>> = None;
        for change in self.by_group.get(&group.id).into_iter().flatten() {
            if change.added {
                members.insert(change.user_id.clone());
            } else {
                members.remove(&change.user_id);
            }
            latest = latest.max(Some(change.published));
        }
        members.retain(|user_id| match self.deleted.get(user_id) {
            Some(deleted_at) => {
                latest = latest.max(Some(*deleted_at));
                false
            }
            None => true,
        });

        if !explains_last_change(group, latest, self.deleted.values()) {
            return Err(Fallback::ChangeNotInLog);
        }
        let derived = members.len() as u64;
        if derived != okta_count {
            return Err(Fallback::CountDiffers {
                okta: okta_count,
                derived,
            });
        }
        Ok(members)
    }
}

/// Tells whether a logged change at `latest`, or a user deletion, accounts
/// for the group's `lastMembershipUpdated`. A group whose membership has not
/// changed since it was created needs no logged change.
fn explains_last_change<'a>(
    group: &OktaGroup,
    latest: Option<DateTime<Utc>>,
    mut deletion_times: impl Iterator<Item = &'a DateTime<Utc>>,
) -> bool {
    let parse = |text: Option<&str>| {
        text.and_then(|text| DateTime::parse_from_rfc3339(text).ok())
            .map(|at| at.to_utc())
    };
    let Some(changed) = parse(group.last_membership_updated.as_deref()) else {
        // Without the time, only the count check applies.
        return true;
    };
    if parse(group.created.as_deref()).is_some_and(|created| changed <= created) {
        return true;
    }
    if latest.is_some_and(|latest| latest + CLOCK_TOLERANCE >= changed) {
        return true;
    }
    // Once an earlier run applied a deletion, the deleted user is no longer
    // among the mirrored members, so nothing ties the deletion to this
    // group. A deletion at the time of the group's last change may explain
    // it, and the count check still applies.
    deletion_times.any(|deleted_at| (*deleted_at - changed).abs() <= CLOCK_TOLERANCE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn group(users_count: u64, last_membership_updated: &str) -> OktaGroup {
        serde_json::from_value(serde_json::json!({
            "id": "00gA",
            "created": "2026-01-01T00:00:00.000Z",
            "lastMembershipUpdated": last_membership_updated,
            "_embedded": {"stats": {"usersCount": users_count}}
        }))
        .unwrap()
    }

    fn added(published: &str, user_id: &str) -> MembershipEvent {
        MembershipEvent {
            published: at(published),
            change: MembershipChange::Added {
                group_id: "00gA".into(),
                user_id: user_id.into(),
            },
        }
    }

    fn removed(published: &str, user_id: &str) -> MembershipEvent {
        MembershipEvent {
            published: at(published),
            change: MembershipChange::Removed {
                group_id: "00gA".into(),
                user_id: user_id.into(),
            },
        }
    }

    fn set(ids: &[&str]) -> HashSet<String> {
        ids.iter().map(|id| id.to_string()).collect()
    }

    #[test]
    fn last_change_of_a_user_wins() {
        // Given out of order: the remove of u2 is later than its add.
        let log = MembershipLog::new(vec![
            removed("2026-02-01T10:00:05.200Z", "u2"),
            added("2026-02-01T10:00:05.100Z", "u2"),
            added("2026-02-01T10:00:04.000Z", "u3"),
            removed("2026-02-01T10:00:03.000Z", "u1"),
        ]);
        let members = log.derive_members(&group(1, "2026-02-01T10:00:05.000Z"), &set(&["u1"]));
        assert_eq!(members, Ok(set(&["u3"])));
    }

    #[test]
    fn deleted_user_leaves_group() {
        let log = MembershipLog::new(vec![MembershipEvent {
            published: at("2026-02-01T10:00:05.500Z"),
            change: MembershipChange::UserDeleted {
                user_id: "u1".into(),
            },
        }]);
        let members =
            log.derive_members(&group(1, "2026-02-01T10:00:05.000Z"), &set(&["u1", "u2"]));
        assert_eq!(members, Ok(set(&["u2"])));
    }

    #[test]
    fn deletion_applied_earlier_explains_change() {
        let deletion = |published: &str| MembershipEvent {
            published: at(published),
            change: MembershipChange::UserDeleted {
                user_id: "u9".into(),
            },
        };
        let same_time = MembershipLog::new(vec![deletion("2026-02-01T10:00:05.500Z")]);
        let much_earlier = MembershipLog::new(vec![deletion("2026-02-01T09:00:00.000Z")]);
        let group = group(1, "2026-02-01T10:00:05.000Z");

        assert_eq!(
            same_time.derive_members(&group, &set(&["u1"])),
            Ok(set(&["u1"]))
        );
        assert_eq!(
            much_earlier.derive_members(&group, &set(&["u1"])),
            Err(Fallback::ChangeNotInLog)
        );
    }

    #[test]
    fn count_mismatch_falls_back() {
        let log = MembershipLog::new(vec![added("2026-02-01T10:00:05.100Z", "u2")]);
        let members = log.derive_members(&group(3, "2026-02-01T10:00:05.000Z"), &set(&["u1"]));
        assert_eq!(
            members,
            Err(Fallback::CountDiffers {
                okta: 3,
                derived: 2
            })
        );
        assert_eq!(log.fell_back.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn change_later_than_log_falls_back() {
        // The count matches by chance: an add and a remove are both missing.
        let log = MembershipLog::new(vec![added("2026-02-01T10:00:05.100Z", "u2")]);
        let members = log.derive_members(&group(2, "2026-02-01T10:09:00.000Z"), &set(&["u1"]));
        assert_eq!(members, Err(Fallback::ChangeNotInLog));
    }

    #[test]
    fn group_without_count_falls_back() {
        let mut plain = group(0, "2026-02-01T10:00:05.000Z");
        plain.embedded = None;
        let log = MembershipLog::new(vec![added("2026-02-01T10:00:05.100Z", "u2")]);
        assert_eq!(
            log.derive_members(&plain, &set(&[])),
            Err(Fallback::NoCount)
        );
    }

    #[test]
    fn new_empty_group_needs_no_event() {
        let log = MembershipLog::new(Vec::new());
        let members = log.derive_members(&group(0, "2026-01-01T00:00:00.000Z"), &set(&[]));
        assert_eq!(members, Ok(set(&[])));
    }
}
