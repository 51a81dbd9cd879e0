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
        let expected = self
            .expected_users
            .load(std::sync::atomic::Ordering::Relaxed);
        self.with_state(|state| {
            state.progress.pages += 1;
            state.progress.users += users;
            let done = state.progress.users;
            state.progress.percent = match expected {
                0 => (USERS_PERCENT / 2) as u8,
                expected => (done.min(expected) * USERS_PERCENT / expected) as u8,
            };
        });
        self.maybe_save().await
    }

    pub async fn groups_page(&self) -> Result<(), SyncError> {
        self.with_state(|state| {
            state.progress.pages += 1;
            state.progress.percent = USERS_PERCENT as u8;
        });
        self.maybe_save().await
    }

    /// Counts groups an earlier invocation of the run finished.
    pub fn add_groups_done(&self, groups: u64) {
        self.with_state(|state| {
            state.progress.groups_done += groups;
            state.progress.groups = state.progress.groups_done;
        });
    }

    pub async fn group_done(&self) -> Result<(), SyncError> {
        self.with_state(|state| {
            let progress = &mut state.progress;
            progress.groups_done += 1;
            progress.groups = progress.groups_done;
            let total = progress.groups_total.max(1);
            progress.percent =
                (USERS_PERCENT + progress.groups_done.min(total) * MEMBERS_PERCENT / total) as u8;
        });
        self.maybe_save().await
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
