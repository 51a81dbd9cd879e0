//! Scripted faults: chosen requests fail in a chosen way.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A scripted fault. Of the requests whose path starts with `matcher`, the
/// first `after` pass untouched and the next `times` get `kind`.
///
/// As JSON (for `POST /__admin/faults`):
/// `{"matcher":"/api/v1/users","after":2,"times":1,"kind":"Status500"}`, or
/// `"kind":{"Delay":1500}` for a delay in milliseconds. `after` defaults to 0
/// and `times` to 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// Path prefix, without the query string, for example `/api/v1/groups`.
    pub matcher: String,
    #[serde(default)]
    pub after: usize,
    #[serde(default = "one")]
    pub times: usize,
    pub kind: FaultKind,
}

fn one() -> usize {
    1
}

impl Fault {
    /// Creates a fault on the next request under `matcher`.
    pub fn new(matcher: impl Into<String>, kind: FaultKind) -> Self {
        Fault {
            matcher: matcher.into(),
            after: 0,
            times: 1,
            kind,
        }
    }

    /// Lets `count` matching requests pass before the fault applies.
    pub fn after(mut self, count: usize) -> Self {
        self.after = count;
        self
    }

    /// Applies the fault to `count` matching requests.
    pub fn times(mut self, count: usize) -> Self {
        self.times = count;
        self
    }
}

/// How a faulted request fails.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FaultKind {
    /// 429 with E0000047 and an `X-Rate-Limit-Reset` two seconds ahead.
    Status429,
    /// 500 with E0000009.
    Status500,
    /// 503 with a small HTML page, as a load balancer in front of Okta sends.
    Status503,
    /// Status and headers are sent, then the connection closes halfway through the body.
    ResetConnection,
    /// 200 whose JSON body is cut in half, with a `Content-Length` that matches the cut body.
    TruncatedJson,
    /// The response is sent this much later than the configured latency alone would send it.
    Delay(#[serde(with = "duration_ms")] Duration),
    /// 403 with E0000006.
    Status403,
}

impl FaultKind {
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Status429 => "Status429",
            FaultKind::Status500 => "Status500",
            FaultKind::Status503 => "Status503",
            FaultKind::ResetConnection => "ResetConnection",
            FaultKind::TruncatedJson => "TruncatedJson",
            FaultKind::Delay(_) => "Delay",
            FaultKind::Status403 => "Status403",
        }
    }
}

pub(crate) mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        serializer.serialize_u64(millis)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_millis)
    }
}

/// An injected fault and how many matching requests it has seen.
#[derive(Debug)]
pub(crate) struct ArmedFault {
    fault: Fault,
    seen: usize,
}

/// The injected faults, in the order they were added.
#[derive(Debug, Default)]
pub(crate) struct FaultPlan {
    faults: Vec<ArmedFault>,
    /// Requests a fault has applied to since the server started.
    applied: usize,
}

impl FaultPlan {
    pub fn add(&mut self, fault: Fault) {
        self.faults.push(ArmedFault { fault, seen: 0 });
    }

    pub fn clear(&mut self) {
        self.faults.clear();
    }

    pub fn applied(&self) -> usize {
        self.applied
    }

    /// Counts a request against every fault whose matcher fits `path` and
    /// returns the kind of the first one due. A later fault that is also due
    /// neither applies nor uses up one of its `times`.
    pub fn next_for(&mut self, path: &str) -> Option<FaultKind> {
        let mut fired = None;
        for armed in &mut self.faults {
            if !path.starts_with(&armed.fault.matcher) {
                continue;
            }
            let due = armed.seen >= armed.fault.after
                && armed.seen < armed.fault.after.saturating_add(armed.fault.times);
            if due && fired.is_some() {
                continue;
            }
            armed.seen += 1;
            if due {
                fired = Some(armed.fault.kind.clone());
            }
        }
        self.faults
            .retain(|armed| armed.seen < armed.fault.after.saturating_add(armed.fault.times));
        if fired.is_some() {
            self.applied += 1;
        }
        fired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_and_times_are_counted() {
        let mut plan = FaultPlan::default();
        plan.add(
            Fault::new("/api/v1/users", FaultKind::Status500)
                .after(2)
                .times(2),
        );
        let kinds: Vec<Option<FaultKind>> =
            (0..6).map(|_| plan.next_for("/api/v1/users")).collect();
        assert_eq!(
            kinds,
            vec![
                None,
                None,
                Some(FaultKind::Status500),
                Some(FaultKind::Status500),
                None,
                None
            ]
        );
    }

    #[test]
    fn other_paths_are_not_counted() {
        let mut plan = FaultPlan::default();
        plan.add(Fault::new("/api/v1/groups", FaultKind::Status503));
        assert_eq!(plan.next_for("/api/v1/users"), None);
        assert_eq!(
            plan.next_for("/api/v1/groups/00g1/users"),
            Some(FaultKind::Status503)
        );
        assert_eq!(plan.next_for("/api/v1/groups"), None);
    }

    #[test]
    fn fault_json_round_trip() {
        let parsed: Fault =
            serde_json::from_str(r#"{"matcher":"/api/v1/users","kind":{"Delay":1500}}"#)
                .expect("valid fault JSON");
        assert_eq!(
            parsed,
            Fault::new(
                "/api/v1/users",
                FaultKind::Delay(Duration::from_millis(1500))
            )
        );
        let text =
            serde_json::to_string(&Fault::new("/x", FaultKind::TruncatedJson)).expect("serialises");
        assert_eq!(
            text,
            r#"{"matcher":"/x","after":0,"times":1,"kind":"TruncatedJson"}"#
        );
    }
}
