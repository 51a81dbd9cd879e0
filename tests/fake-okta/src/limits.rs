//! Okta's per-minute rate-limit buckets.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Rate-limit settings. The defaults are Okta Workforce's usual per-minute
/// buckets: 600 for the users list, 500 for the groups list, 120 for the
/// System Log and 1200 for the rest of `/api/v1`, group members included.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateLimits {
    /// When false, requests are counted and the headers still sent, but none
    /// is rejected with 429, not even over the concurrency limit.
    pub enabled: bool,
    /// Factor applied to every bucket limit, so that a faster run keeps the
    /// same shape (for example 10 with a tenth of the latency).
    pub scale: f64,
    pub users: u32,
    pub groups: u32,
    /// `GET /api/v1/logs`.
    #[serde(default = "default_logs_limit")]
    pub logs: u32,
    pub other: u32,
    /// Length of a window, counted from the first request in it rather than
    /// from the start of a wall-clock minute.
    pub window: Duration,
}

const DEFAULT_LOGS_LIMIT: u32 = 120;

fn default_logs_limit() -> u32 {
    DEFAULT_LOGS_LIMIT
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            enabled: true,
            scale: 1.0,
            users: 600,
            groups: 500,
            logs: DEFAULT_LOGS_LIMIT,
            other: 1200,
            window: Duration::from_secs(60),
        }
    }
}

impl RateLimits {
    pub fn disabled() -> Self {
        RateLimits {
            enabled: false,
            ..RateLimits::default()
        }
    }

    /// Returns the limit of `bucket` after scaling, at least 1.
    pub fn limit_of(&self, bucket: Bucket) -> u32 {
        let base = match bucket {
            Bucket::Users => self.users,
            Bucket::Groups => self.groups,
            Bucket::Logs => self.logs,
            Bucket::Other => self.other,
        };
        let scaled = (f64::from(base) * self.scale).round();
        if scaled.is_finite() && scaled >= 1.0 {
            scaled.min(f64::from(u32::MAX)) as u32
        } else {
            1
        }
    }
}

/// The bucket a request counts against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// `GET /api/v1/users`, the users collection.
    Users,
    /// `GET /api/v1/groups`, the groups collection.
    Groups,
    /// `GET /api/v1/logs`, the System Log.
    Logs,
    /// Every other path, single objects and group members included.
    Other,
}

impl Bucket {
    pub fn for_path(path: &str) -> Bucket {
        match path {
            "/api/v1/users" => Bucket::Users,
            "/api/v1/groups" => Bucket::Groups,
            "/api/v1/logs" => Bucket::Logs,
            _ => Bucket::Other,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Bucket::Users => "users",
            Bucket::Groups => "groups",
            Bucket::Logs => "logs",
            Bucket::Other => "other",
        }
    }

    fn index(self) -> usize {
        match self {
            Bucket::Users => 0,
            Bucket::Groups => 1,
            Bucket::Other => 2,
            Bucket::Logs => 3,
        }
    }
}

/// What the rate-limit headers of one response report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RateState {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// When the bucket's window ends.
    pub reset_at: Instant,
}

#[derive(Clone, Copy, Debug, Default)]
struct Window {
    started: Option<Instant>,
    count: u32,
}

/// Counters for the four buckets.
#[derive(Debug, Default)]
pub(crate) struct Buckets {
    windows: [Window; 4],
}

impl Buckets {
    /// Counts one request against `bucket` unless its window is spent.
    pub fn consume(&mut self, limits: &RateLimits, bucket: Bucket, now: Instant) -> RateState {
        self.check(limits, bucket, now, true)
    }

    /// Reports the state of `bucket` without counting a request.
    pub fn peek(&mut self, limits: &RateLimits, bucket: Bucket, now: Instant) -> RateState {
        self.check(limits, bucket, now, false)
    }

    fn check(
        &mut self,
        limits: &RateLimits,
        bucket: Bucket,
        now: Instant,
        count: bool,
    ) -> RateState {
        let limit = limits.limit_of(bucket);
        let window = &mut self.windows[bucket.index()];
        let expired = window
            .started
            .is_none_or(|started| now.duration_since(started) >= limits.window);
        if expired && count {
            window.started = Some(now);
            window.count = 0;
        }
        let started = match (expired, window.started) {
            (false, Some(started)) => started,
            _ => now,
        };
        let used = if expired { 0 } else { window.count };
        let allowed = used < limit || !limits.enabled;
        if count && allowed {
            window.count = window.count.saturating_add(1);
        }
        let used_after = if count && allowed {
            used.saturating_add(1)
        } else {
            used
        };
        RateState {
            allowed: allowed || !count,
            limit,
            remaining: limit.saturating_sub(used_after),
            reset_at: started + limits.window,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_multiplies_limits() {
        let limits = RateLimits {
            scale: 10.0,
            ..RateLimits::default()
        };
        assert_eq!(limits.limit_of(Bucket::Users), 6000);
        assert_eq!(limits.limit_of(Bucket::Groups), 5000);
        assert_eq!(limits.limit_of(Bucket::Logs), 1200);
        assert_eq!(limits.limit_of(Bucket::Other), 12_000);
        let tiny = RateLimits {
            scale: 0.0001,
            ..RateLimits::default()
        };
        assert_eq!(tiny.limit_of(Bucket::Users), 1);
    }

    #[test]
    fn window_runs_from_first_request() {
        let limits = RateLimits {
            users: 2,
            window: Duration::from_secs(60),
            ..RateLimits::default()
        };
        let mut buckets = Buckets::default();
        let start = Instant::now();
        let first = buckets.consume(&limits, Bucket::Users, start);
        assert!(first.allowed);
        assert_eq!(first.remaining, 1);
        assert_eq!(first.reset_at, start + Duration::from_secs(60));
        let second = buckets.consume(&limits, Bucket::Users, start + Duration::from_secs(10));
        assert!(second.allowed);
        assert_eq!(second.remaining, 0);
        assert_eq!(second.reset_at, start + Duration::from_secs(60));
        let third = buckets.consume(&limits, Bucket::Users, start + Duration::from_secs(20));
        assert!(!third.allowed);
        assert_eq!(third.remaining, 0);
        let other = buckets.consume(&limits, Bucket::Groups, start + Duration::from_secs(20));
        assert!(other.allowed);
        let later = start + Duration::from_secs(61);
        let fresh = buckets.consume(&limits, Bucket::Users, later);
        assert!(fresh.allowed);
        assert_eq!(fresh.remaining, 1);
        assert_eq!(fresh.reset_at, later + Duration::from_secs(60));
    }

    #[test]
    fn disabled_limits_never_reject() {
        let limits = RateLimits {
            users: 1,
            ..RateLimits::disabled()
        };
        let mut buckets = Buckets::default();
        let now = Instant::now();
        for _ in 0..5 {
            assert!(buckets.consume(&limits, Bucket::Users, now).allowed);
        }
        assert_eq!(buckets.peek(&limits, Bucket::Users, now).remaining, 0);
    }
}
