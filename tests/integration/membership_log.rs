//! Incremental syncs that take group membership changes from the System Log,
//! and their fallback to reading a group's member list whole.

use std::collections::BTreeSet;
use std::time::Duration;

use fake_okta::{FakeOkta, GroupType, LogSettings, OrgSpec};
use harness::Stack;
use okta_sync::records::{Run, RunStatus, SyncMode};

use crate::sync::{fake_okta, memberships, okta_memberships, sync_with_mode};

/// A synced connector over a fresh fake org.
struct Synced {
    okta: FakeOkta,
    stack: Stack,
    connector: String,
}

async fn synced() -> Synced {
    let okta = fake_okta(OrgSpec::new(41, 300, 20)).await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;
    let full = stack.sync_now(&connector).await;
    assert_eq!(full.status, RunStatus::Succeeded, "full run: {full:?}");
    Synced {
        okta,
        stack,
        connector,
    }
}

impl Synced {
    /// Runs an incremental sync with a fresh request log.
    async fn incremental(&self) -> Run {
        self.okta.clear_requests();
        let run = sync_with_mode(&self.stack, &self.connector, "incremental").await;
        assert_eq!(run.status, RunStatus::Succeeded, "run: {run:?}");
        assert_eq!(run.mode, SyncMode::Incremental);
        run
    }

    /// Counts the run's requests for the group's member list.
    fn member_list_reads(&self, group_id: &str) -> usize {
        let path = format!("/api/v1/groups/{group_id}/users");
        self.okta
            .requests()
            .iter()
            .filter(|request| request.path == path)
            .count()
    }

    fn log_reads(&self) -> usize {
        self.okta
            .requests()
            .iter()
            .filter(|request| request.path == "/api/v1/logs")
            .count()
    }

    /// Memberships of the mirror and of the fake, without the Everyone
    /// group, which keeps users deleted outright until a full sync.
    async fn memberships_outside_everyone(
        &self,
    ) -> (BTreeSet<(String, String)>, BTreeSet<(String, String)>) {
        let everyone = self.okta.org().everyone_id().to_string();
        let outside = |pairs: BTreeSet<(String, String)>| -> BTreeSet<(String, String)> {
            pairs
                .into_iter()
                .filter(|(group, _)| *group != everyone)
                .collect()
        };
        let mirrored = outside(memberships(&self.stack, &self.connector).await);
        let okta = outside(okta_memberships(&self.okta));
        (mirrored, okta)
    }

    fn set_log(&self, delay: Duration, forbidden: bool) {
        self.okta.set_log_settings(LogSettings { delay, forbidden });
    }
}

/// Two regular groups with members, and for each a user outside it.
fn two_groups(okta: &FakeOkta) -> [(String, String, String); 2] {
    let org = okta.org();
    let mut groups = org
        .groups()
        .filter(|group| group.group_type != GroupType::BuiltIn && group.members.len() >= 2);
    let mut pick = || {
        let group = groups.next().expect("a regular group with two members");
        let member = group.members.iter().next().cloned().expect("a member");
        let outsider = org
            .users()
            .find(|user| !group.members.contains(&user.id))
            .expect("a user outside the group")
            .id
            .clone();
        (group.id.clone(), member, outsider)
    };
    [pick(), pick()]
}

#[tokio::test]
async fn log_changes_skip_member_lists() {
    let synced = synced().await;
    let [(grown, _, joiner), (shrunk, leaver, _)] = two_groups(&synced.okta);
    synced.okta.add_member(&grown, &joiner).expect("added");
    synced
        .okta
        .remove_member(&shrunk, &leaver)
        .expect("removed");

    let run = synced.incremental().await;

    assert_eq!(synced.member_list_reads(&grown), 0);
    assert_eq!(synced.member_list_reads(&shrunk), 0);
    assert_eq!(synced.log_reads(), 1);
    assert_eq!(run.counts.memberships.added, 1);
    assert_eq!(run.counts.memberships.removed, 1);
    assert_eq!(
        memberships(&synced.stack, &synced.connector).await,
        okta_memberships(&synced.okta)
    );
    assert!(run.warnings.is_empty(), "{:?}", run.warnings);
}

#[tokio::test]
async fn new_group_built_from_log() {
    let synced = synced().await;
    let [(_, member, outsider), _] = two_groups(&synced.okta);
    let created = synced.okta.create_group("Formed after the full sync");
    synced.okta.add_member(&created, &member).expect("added");
    synced.okta.add_member(&created, &outsider).expect("added");

    let run = synced.incremental().await;

    assert_eq!(synced.member_list_reads(&created), 0);
    assert_eq!(run.counts.groups.created, 1);
    assert_eq!(
        memberships(&synced.stack, &synced.connector).await,
        okta_memberships(&synced.okta)
    );
}

#[tokio::test]
async fn late_events_read_member_lists() {
    let synced = synced().await;
    let [(swapped, leaver, joiner), (grown, _, other_joiner)] = two_groups(&synced.okta);
    synced.set_log(Duration::from_secs(3600), false);
    // One add and one remove keep the count, so only the check of the last
    // change can tell that the log is behind.
    synced.okta.add_member(&swapped, &joiner).expect("added");
    synced
        .okta
        .remove_member(&swapped, &leaver)
        .expect("removed");
    synced
        .okta
        .add_member(&grown, &other_joiner)
        .expect("added");

    let run = synced.incremental().await;

    assert_eq!(synced.member_list_reads(&swapped), 1);
    assert_eq!(synced.member_list_reads(&grown), 1);
    assert_eq!(synced.log_reads(), 1);
    assert_eq!(run.counts.memberships.added, 2);
    assert_eq!(run.counts.memberships.removed, 1);
    assert_eq!(
        memberships(&synced.stack, &synced.connector).await,
        okta_memberships(&synced.okta)
    );
}

#[tokio::test]
async fn forbidden_log_reads_member_lists() {
    let synced = synced().await;
    let [(grown, _, joiner), _] = two_groups(&synced.okta);
    synced.set_log(Duration::ZERO, true);
    synced.okta.add_member(&grown, &joiner).expect("added");

    let run = synced.incremental().await;

    assert_eq!(synced.member_list_reads(&grown), 1);
    assert_eq!(
        memberships(&synced.stack, &synced.connector).await,
        okta_memberships(&synced.okta)
    );
    assert_eq!(run.warnings.len(), 1, "{:?}", run.warnings);
    assert!(
        run.warnings[0].contains("System Log") && run.warnings[0].contains("E0000006"),
        "{}",
        run.warnings[0]
    );
}

#[tokio::test]
async fn log_server_errors_read_member_lists() {
    let synced = synced().await;
    let [(grown, _, joiner), _] = two_groups(&synced.okta);
    synced
        .okta
        .inject(fake_okta::Fault::new("/api/v1/logs", fake_okta::FaultKind::Status500).times(10));
    synced.okta.add_member(&grown, &joiner).expect("added");

    let run = synced.incremental().await;
    synced.okta.clear_faults();

    assert_eq!(synced.member_list_reads(&grown), 1);
    assert_eq!(
        memberships(&synced.stack, &synced.connector).await,
        okta_memberships(&synced.okta)
    );
    assert!(run.warnings.is_empty(), "{:?}", run.warnings);
}

#[tokio::test]
async fn deleted_user_leaves_groups_via_log() {
    let synced = synced().await;
    let [(group, deleted, _), _] = two_groups(&synced.okta);
    synced.okta.delete_user(&deleted).expect("deleted");

    synced.incremental().await;
    let first_reads = synced.member_list_reads(&group);
    // The next run's window still contains the deletion, but the mirror no
    // longer lists the user in the group.
    let again = synced.incremental().await;

    assert_eq!(first_reads, 0);
    assert_eq!(synced.member_list_reads(&group), 0);
    assert_eq!(again.dynamo.items_written, 0, "nothing changed since");
    let (mirrored, okta) = synced.memberships_outside_everyone().await;
    assert_eq!(mirrored, okta);
}

#[tokio::test]
async fn late_deletion_reads_member_lists() {
    let synced = synced().await;
    let [(group, deleted, _), _] = two_groups(&synced.okta);
    synced.set_log(Duration::from_secs(3600), false);
    // A deletion the log does not show leaves no event at all for the
    // group: the member count differs and the list is read.
    synced.okta.delete_user(&deleted).expect("deleted");

    let run = synced.incremental().await;

    assert_eq!(synced.member_list_reads(&group), 1);
    assert!(run.counts.memberships.removed >= 1);
    let (mirrored, okta) = synced.memberships_outside_everyone().await;
    assert_eq!(mirrored, okta);
}
