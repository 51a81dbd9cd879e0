//! Client-side rate-limit governor. Okta reports each bucket's limit,
//! remaining requests and reset time on every answer; the governor keeps this
//! client within a share of each bucket and below a concurrency cap, so a sync
//! sleeps until a window resets instead of spending requests on 429s and
//! leaves room for the org's other integrations.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Debug, Clone, Copy)]
pub struct GovernorSettings {
    /// Share of each bucket this product may use (0.8 leaves 20% for others).
    pub max_share: f64,
    /// Requests in flight at once; Okta's org-wide cap is 75.
    pub max_concurrency: usize,
}

impl Default for GovernorSettings {
    fn default() -> Self {
        Self {
            max_share: 0.8,
            max_concurrency: 12,
        }
    }
}

/// How long other requests wait for a probe of an unknown bucket to report.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
const PROBE_POLL: Duration = Duration::from_millis(20);
/// Okta's windows last about a minute; used until a new window reports.
const ASSUMED_WINDOW: Duration = Duration::from_secs(60);

/// A bucket as last reported; `limit` 0 means not reported yet.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    limit: u32,
    remaining: u32,
    resets_at: Instant,
}

#[derive(Debug)]
pub struct Governor {
    settings: GovernorSettings,
    permits: Arc<Semaphore>,
    buckets: Mutex<HashMap<&'static str, Bucket>>,
}

impl Governor {
    pub fn new(settings: GovernorSettings) -> Self {
        Self {
            settings,
            permits: Arc::new(Semaphore::new(settings.max_concurrency.max(1))),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// One governor per Okta domain in this process, so connectors that point
    /// at the same org share its budget.
    // NOTE: syncs of the same org in separate Lambda instances have separate
    // governors. They still share one budget through Okta's
    // `X-Rate-Limit-Remaining`, which counts every client's requests, because
    // `observe` keeps it when it is lower than the local count. Together they
    // can pass the share by what the other instances have in flight (test
    // `separate_governors_share_one_budget`). The SQS event source's maximum
    // concurrency (default 5 instances, 12 requests each) bounds that.
    pub fn for_domain(domain: &str, settings: GovernorSettings) -> Arc<Governor> {
        static REGISTRY: OnceLock<Mutex<HashMap<String, Arc<Governor>>>> = OnceLock::new();
        let registry = REGISTRY.get_or_init(Default::default);
        let mut map = match registry.lock() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.entry(domain.to_owned())
            .or_insert_with(|| Arc::new(Governor::new(settings)))
            .clone()
    }

    /// Waits for a concurrency slot and for room in the bucket, then counts
    /// the request against the bucket. Returns the slot, released on drop.
    pub async fn admit(&self, bucket: &'static str) -> OwnedSemaphorePermit {
        loop {
            let wait = self.reserve(bucket);
            match wait {
                None => break,
                Some(wait) => {
                    tracing::info!(
                        bucket,
                        wait_ms = wait.as_millis() as u64,
                        "rate-limit share used, waiting for the window to reset"
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        }
        // The semaphore is never closed, so acquiring cannot fail.
        match self.permits.clone().acquire_owned().await {
            Ok(permit) => permit,
            Err(_) => unreachable!("governor semaphore is never closed"),
        }
    }

    /// Takes one request from the bucket, or returns how long to wait.
    ///
    /// Until Okta has reported a bucket, one request at a time probes it, so
    /// a burst of concurrent requests cannot overrun a window whose limit is
    /// not known yet. After a window ends, the next one is assumed to start
    /// full with the same limit, until Okta's figures arrive.
    fn reserve(&self, name: &'static str) -> Option<Duration> {
        let mut buckets = self.lock();
        let now = Instant::now();
        let Some(bucket) = buckets.get_mut(name) else {
            buckets.insert(
                name,
                Bucket {
                    limit: 0,
                    remaining: 0,
                    resets_at: now + PROBE_TIMEOUT,
                },
            );
            return None;
        };
        if bucket.limit == 0 {
            // A probe is in flight; if it never reports, the next one goes.
            if now >= bucket.resets_at {
                bucket.resets_at = now + PROBE_TIMEOUT;
                return None;
            }
            return Some(PROBE_POLL);
        }
        if now >= bucket.resets_at {
            bucket.remaining = bucket.limit;
            bucket.resets_at = now + ASSUMED_WINDOW;
        }
        let floor = ((1.0 - self.settings.max_share) * f64::from(bucket.limit)).ceil() as u32;
        if bucket.remaining > floor {
            bucket.remaining -= 1;
            None
        } else {
            Some(bucket.resets_at - now + Duration::from_millis(50))
        }
    }

    /// Records what Okta reported on an answer. `reset_in` is the bucket's
    /// reset time minus the answer's `Date`, so clock skew does not matter.
    pub fn observe(&self, name: &'static str, limit: u32, remaining: u32, reset_in: Duration) {
        let resets_at = Instant::now() + reset_in;
        let mut buckets = self.lock();
        let entry = buckets.entry(name).or_insert(Bucket {
            limit,
            remaining,
            resets_at,
        });
        if entry.limit == 0 {
            *entry = Bucket {
                limit,
                remaining,
                resets_at,
            };
            return;
        }
        let same_window = resets_at.max(entry.resets_at) - resets_at.min(entry.resets_at)
            <= Duration::from_secs(1);
        if same_window {
            // Answers of one window can arrive out of order: keep the lowest.
            entry.limit = limit;
            entry.remaining = entry.remaining.min(remaining);
        } else {
            // Another window (a new one, or a 429 with its own reset time):
            // Okta's figures replace ours.
            *entry = Bucket {
                limit,
                remaining,
                resets_at,
            };
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<&'static str, Bucket>> {
        match self.buckets.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_when_share_is_used() {
        let governor = Governor::new(GovernorSettings {
            max_share: 0.5,
            max_concurrency: 4,
        });
        governor.observe("users", 10, 6, Duration::from_secs(30));
        assert!(governor.reserve("users").is_none());
        assert!(
            governor.reserve("users").is_some(),
            "5 of 10 left is the floor"
        );
    }

    #[test]
    fn throttle_answer_replaces_window() {
        let governor = Governor::new(GovernorSettings::default());
        governor.observe("users", 600, 590, Duration::from_secs(55));
        governor.observe("users", 600, 0, Duration::from_secs(2));
        let wait = governor.reserve("users").expect("must wait");
        assert!(
            wait <= Duration::from_secs(3),
            "waits for the 429's reset, not the window's: {wait:?}"
        );
    }

    #[test]
    fn unknown_bucket_is_probed_once() {
        let governor = Governor::new(GovernorSettings::default());
        assert!(governor.reserve("groups").is_none(), "the probe goes");
        assert!(
            governor.reserve("groups").is_some(),
            "others wait for its report"
        );
        governor.observe("groups", 500, 499, Duration::from_secs(60));
        assert!(governor.reserve("groups").is_none());
    }
}
