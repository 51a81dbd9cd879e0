//! Progress of a running sync, saved to its Run record every few seconds
//! together with a renewal of the run lease.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::SyncError;
use crate::domain::ConnectorId;
use crate::records::Progress;
use crate::store::Store;

/// How often progress is written and the lease renewed.
const SAVE_EVERY: Duration = Duration::from_secs(2);

/// Share of the percentage given to the users phase; members take the rest
/// up to 95, and removals the last 5.
const USERS_PERCENT: u64 = 40;
const MEMBERS_PERCENT: u64 = 55;

pub struct ProgressReporter {
    store: Store,
    connector_id: ConnectorId,
    run_id: String,
    lease_owner: String,
    lease_seconds: i64,
    /// Users the mirror held before the run: the estimate of the total.
    expected_users: std::sync::atomic::AtomicU64,
    state: Mutex<State>,
}

struct State {
    progress: Progress,
    last_save: Instant,
    /// Set once every user is read; the users' share of the percentage is
    /// then complete even when the mirror's estimate was off.
    users_finished: bool,
}

impl State {
    /// Computes the percentage from the users read and the groups done. A
    /// full run may read both at once, so each phase adds its own share.
    fn percent(&self, expected_users: u64) -> u8 {
        let progress = &self.progress;
        let users = match (self.users_finished, expected_users) {
            (true, _) => USERS_PERCENT,
            (false, 0) => USERS_PERCENT / 2,
            (false, expected) => progress.users.min(expected) * USERS_PERCENT / expected,
        };
        let members = match progress.groups_total {
            0 => 0,
            total => progress.groups_done.min(total) * MEMBERS_PERCENT / total,
        };
        (users + members) as u8
    }
}

impl ProgressReporter {
    pub fn new(
        store: Store,
        connector_id: ConnectorId,
        run_id: String,
        lease_owner: String,
        lease_seconds: i64,
    ) -> Self {
        Self {
            store,
            connector_id,
            run_id,
            lease_owner,
            lease_seconds,
            expected_users: Default::default(),
            state: Mutex::new(State {
                progress: Progress::default(),
                last_save: Instant::now(),
                users_finished: false,
            }),
        }
    }

    pub fn snapshot(&self) -> Progress {
        self.with_state(|state| state.progress.clone())
    }

    pub fn phase(&self, phase: &str) {
        let removals = phase == "removals";
        self.with_state(|state| {
            state.progress.phase = phase.to_owned();
            if removals {
                state.progress.percent = (USERS_PERCENT + MEMBERS_PERCENT) as u8;
            }
        });
    }

    pub fn set_expected_users(&self, users: u64) {
        self.expected_users
            .store(users, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn set_groups_total(&self, total: u64) {
        self.with_state(|state| state.progress.groups_total = total);
    }

    pub async fn users_page(&self, users: u64) -> Result<(), SyncError> {
        let expected = self.expected();
        self.with_state(|state| {
            state.progress.pages += 1;
            state.progress.users += users;
            state.progress.percent = state.percent(expected);
        });
        self.maybe_save().await
    }

    /// Marks the users as read to the end.
    pub fn users_finished(&self) {
        let expected = self.expected();
        self.with_state(|state| {
            state.users_finished = true;
            state.progress.percent = state.percent(expected);
        });
    }

    pub async fn groups_page(&self) -> Result<(), SyncError> {
        self.with_state(|state| state.progress.pages += 1);
        self.maybe_save().await
    }

    /// Counts users an earlier invocation of the run read.
    pub fn add_users_done(&self, users: u64) {
        let expected = self.expected();
        self.with_state(|state| {
            state.progress.users += users;
            state.progress.percent = state.percent(expected);
        });
    }

    /// Counts groups an earlier invocation of the run finished.
    pub fn add_groups_done(&self, groups: u64) {
        self.with_state(|state| {
            state.progress.groups_done += groups;
            state.progress.groups = state.progress.groups_done;
        });
    }

    pub async fn group_done(&self) -> Result<(), SyncError> {
        let expected = self.expected();
        self.with_state(|state| {
            state.progress.groups_done += 1;
            state.progress.groups = state.progress.groups_done;
            state.progress.percent = state.percent(expected);
        });
        self.maybe_save().await
    }

    fn expected(&self) -> u64 {
        self.expected_users
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Saves progress and renews the lease if the last save is old enough.
    async fn maybe_save(&self) -> Result<(), SyncError> {
        let due = self.with_state(|state| {
            let due = state.last_save.elapsed() >= SAVE_EVERY;
            if due {
                state.last_save = Instant::now();
            }
            due.then(|| state.progress.clone())
        });
        let Some(progress) = due else {
            return Ok(());
        };
        self.save(&progress).await
    }

    pub async fn save(&self, progress: &Progress) -> Result<(), SyncError> {
        let held = self
            .store
            .renew_lease(&self.connector_id, &self.lease_owner, self.lease_seconds)
            .await?;
        if !held {
            return Err(SyncError::LeaseLost);
        }
        if self
            .store
            .get_connector(&self.connector_id)
            .await?
            .is_none()
        {
            return Err(SyncError::ConnectorDeleted);
        }
        self.store
            .update_run_progress(&self.connector_id, &self.run_id, progress)
            .await?;
        Ok(())
    }

    fn with_state<T>(&self, action: impl FnOnce(&mut State) -> T) -> T {
        let mut guard = match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        action(&mut guard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(users: u64, groups_done: u64, groups_total: u64, users_finished: bool) -> State {
        State {
            progress: Progress {
                users,
                groups_done,
                groups_total,
                ..Default::default()
            },
            last_save: Instant::now(),
            users_finished,
        }
    }

    #[test]
    fn phases_add_their_shares() {
        assert_eq!(state(500, 0, 0, false).percent(1000), 20);
        assert_eq!(state(500, 50, 100, false).percent(1000), 47);
        assert_eq!(state(1000, 100, 100, true).percent(1000), 95);
    }

    #[test]
    fn finished_users_give_full_share() {
        assert_eq!(state(10, 0, 0, true).percent(1000), 40);
        assert_eq!(state(5000, 0, 10, false).percent(1000), 40);
        assert_eq!(state(3, 0, 0, false).percent(0), 20);
    }
}
