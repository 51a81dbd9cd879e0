//! Settings read from the functions' environment (set by the SAM template,
//! or by the local targets), and the AWS clients built from them once per
//! Lambda instance.

use crate::domain::DomainPolicy;
use crate::handoff::Handoff;
use crate::okta::ClientOptions;
use crate::secrets::TokenStore;
use crate::store::Store;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set; the SAM template sets it, and locally `make dev` does")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {message}")]
    Invalid { name: &'static str, message: String },
    #[error("could not read the cursor signing key from Secrets Manager: {0}")]
    CursorKey(String),
}

/// Runs, change logs and audit records expire after this many days unless
/// `RETENTION_DAYS` says otherwise.
pub const DEFAULT_RETENTION_DAYS: i64 = 90;

/// Schedules whose runs come closer together than this many minutes are
/// rejected, unless `MIN_SCHEDULE_INTERVAL_MINUTES` sets another minimum.
pub const DEFAULT_MIN_SCHEDULE_INTERVAL_MINUTES: i64 = 5;

/// Upper bound of `MIN_SCHEDULE_INTERVAL_MINUTES`: one week, because a larger
/// minimum would reject even weekly schedules.
const MAX_MIN_SCHEDULE_INTERVAL_MINUTES: i64 = 7 * 24 * 60;

#[derive(Debug, Clone)]
pub struct Settings {
    pub table_name: String,
    pub secret_prefix: String,
    pub sync_queue_url: Option<String>,
    pub domain_policy: DomainPolicy,
    pub retention_days: i64,
    /// KMS key that encrypts the connectors' secrets (`SECRETS_KMS_KEY_ARN`),
    /// or `None` for the `aws/secretsmanager` key.
    pub secrets_kms_key_id: Option<String>,
    /// EventBridge Scheduler group that holds the connectors' schedules.
    pub schedule_group: Option<String>,
    /// Target of the connectors' schedules, or `None` in functions that
    /// create no schedules.
    pub schedule_target: Option<ScheduleTarget>,
    /// A scheduled run is full when the last full run is older than this.
    pub full_sync_every: chrono::Duration,
    /// Time a sync invocation may run, in place of the Lambda context's
    /// deadline. Local runs set it (`SYNC_TIME_LIMIT_SECONDS`) because
    /// `cargo lambda watch` gives functions a much shorter deadline than the
    /// template's 900 s timeout.
    pub sync_time_limit: Option<std::time::Duration>,
    /// Smallest allowed gap between two runs of a schedule.
    pub min_schedule_interval: chrono::Duration,
    /// When failing connectors enter quarantine and how their scheduled
    /// runs back off (`QUARANTINE_AFTER_FAILURES` sets the threshold).
    pub quarantine: crate::sync::QuarantinePolicy,
}

/// The target every connector schedule shares: the sync queue, the role
/// EventBridge Scheduler assumes to send to it, and the dead-letter queue for
/// events it could not deliver.
#[derive(Debug, Clone)]
pub struct ScheduleTarget {
    pub role_arn: String,
    pub queue_arn: String,
    pub dead_letter_arn: Option<String>,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        let custom_domains = optional("ALLOWED_CUSTOM_DOMAINS")
            .map(|list| {
                list.split(',')
                    .map(|domain| domain.trim().to_ascii_lowercase())
                    .filter(|domain| !domain.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let retention_days = retention_days_from_env()?;
        Ok(Self {
            table_name: required("TABLE_NAME")?,
            secret_prefix: optional("SECRET_NAME_PREFIX")
                .unwrap_or_else(|| "okta-sync/connectors/".into()),
            sync_queue_url: optional("SYNC_QUEUE_URL"),
            domain_policy: DomainPolicy {
                allow_http_loopback: optional("OKTA_ALLOW_HTTP_LOOPBACK").as_deref() == Some("1"),
                custom_domains,
            },
            retention_days,
            secrets_kms_key_id: optional("SECRETS_KMS_KEY_ARN"),
            schedule_group: optional("SCHEDULE_GROUP_NAME"),
            schedule_target: schedule_target_from_env()?,
            min_schedule_interval: min_schedule_interval_from_env()?,
            full_sync_every: full_sync_every_from_env()?,
            sync_time_limit: sync_time_limit_from_env()?,
            quarantine: crate::sync::QuarantinePolicy {
                after_failures: quarantine_after_failures_from_env()?,
                ..Default::default()
            },
        })
    }
}

/// AWS clients and stores shared by every handler of one function.
#[derive(Clone, Debug)]
pub struct Services {
    pub settings: Settings,
    pub store: Store,
    pub tokens: TokenStore,
    pub handoff: Option<Handoff>,
    pub scheduler: aws_sdk_scheduler::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub okta: ClientOptions,
}

impl Services {
    /// Builds the clients from an SDK configuration; tests pass one that
    /// points at the emulator.
    pub fn new(settings: Settings, sdk: &aws_config::SdkConfig) -> Self {
        let dynamo = aws_sdk_dynamodb::Client::new(sdk);
        let secrets = aws_sdk_secretsmanager::Client::new(sdk);
        let handoff = settings
            .sync_queue_url
            .as_ref()
            .map(|url| Handoff::new(aws_sdk_sqs::Client::new(sdk), url.clone()));
        Self {
            store: Store::new(dynamo, settings.table_name.clone(), settings.retention_days),
            tokens: TokenStore::new(secrets.clone(), settings.secret_prefix.clone())
                .with_kms_key_id(settings.secrets_kms_key_id.clone()),
            handoff,
            scheduler: aws_sdk_scheduler::Client::new(sdk),
            secrets,
            okta: ClientOptions::default(),
            settings,
        }
    }

    pub async fn from_env() -> Result<Self, ConfigError> {
        let settings = Settings::from_env()?;
        let sdk = aws_config::load_from_env().await;
        Ok(Self::new(settings, &sdk))
    }
}

/// Reads the schedule target. `SCHEDULER_ROLE_ARN` and `SYNC_QUEUE_ARN` must
/// be set together, because a schedule needs both.
fn schedule_target_from_env() -> Result<Option<ScheduleTarget>, ConfigError> {
    let role_arn = optional("SCHEDULER_ROLE_ARN");
    let queue_arn = optional("SYNC_QUEUE_ARN");
    let (role_arn, queue_arn) = match (role_arn, queue_arn) {
        (None, None) => return Ok(None),
        (Some(_), None) => return Err(ConfigError::Missing("SYNC_QUEUE_ARN")),
        (None, Some(_)) => return Err(ConfigError::Missing("SCHEDULER_ROLE_ARN")),
        (Some(role_arn), Some(queue_arn)) => (role_arn, queue_arn),
    };
    Ok(Some(ScheduleTarget {
        role_arn,
        queue_arn,
        dead_letter_arn: optional("SCHEDULE_DLQ_ARN"),
    }))
}

/// Reads `RETENTION_DAYS`: a whole number of days from 1 to 36500 (about a
/// century), default 90.
fn retention_days_from_env() -> Result<i64, ConfigError> {
    let Some(value) = optional("RETENTION_DAYS") else {
        return Ok(DEFAULT_RETENTION_DAYS);
    };
    match value.trim().parse::<i64>() {
        Ok(days) if (1..=36_500).contains(&days) => Ok(days),
        _ => Err(ConfigError::Invalid {
            name: "RETENTION_DAYS",
            message: format!("'{value}' is not a whole number of days from 1 to 36500"),
        }),
    }
}

fn min_schedule_interval_from_env() -> Result<chrono::Duration, ConfigError> {
    let Some(value) = optional("MIN_SCHEDULE_INTERVAL_MINUTES") else {
        return Ok(chrono::Duration::minutes(
            DEFAULT_MIN_SCHEDULE_INTERVAL_MINUTES,
        ));
    };
    // The lower bound is 1 because EventBridge Scheduler's shortest rate is
    // one minute.
    match value.trim().parse::<i64>() {
        Ok(minutes) if (1..=MAX_MIN_SCHEDULE_INTERVAL_MINUTES).contains(&minutes) => {
            Ok(chrono::Duration::minutes(minutes))
        }
        _ => Err(ConfigError::Invalid {
            name: "MIN_SCHEDULE_INTERVAL_MINUTES",
            message: format!(
                "'{value}' is not a whole number of minutes from 1 to \
                 {MAX_MIN_SCHEDULE_INTERVAL_MINUTES}"
            ),
        }),
    }
}

pub fn required(name: &'static str) -> Result<String, ConfigError> {
    optional(name).ok_or(ConfigError::Missing(name))
}

pub fn optional(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

fn full_sync_every_from_env() -> Result<chrono::Duration, ConfigError> {
    let default = crate::sync::DEFAULT_FULL_SYNC_EVERY_HOURS;
    let Some(value) = optional("FULL_SYNC_EVERY_HOURS") else {
        return Ok(chrono::Duration::hours(default));
    };
    match value.parse::<i64>() {
        Ok(hours) if (1..=24 * 30).contains(&hours) => Ok(chrono::Duration::hours(hours)),
        _ => Err(ConfigError::Invalid {
            name: "FULL_SYNC_EVERY_HOURS",
            message: format!(
                "'{value}' is not a whole number of hours from 1 to 720 (default {default})"
            ),
        }),
    }
}

fn sync_time_limit_from_env() -> Result<Option<std::time::Duration>, ConfigError> {
    let Some(value) = optional("SYNC_TIME_LIMIT_SECONDS") else {
        return Ok(None);
    };
    match value.parse::<u64>() {
        Ok(seconds) if (60..=86_400).contains(&seconds) => {
            Ok(Some(std::time::Duration::from_secs(seconds)))
        }
        _ => Err(ConfigError::Invalid {
            name: "SYNC_TIME_LIMIT_SECONDS",
            message: format!("'{value}' is not a whole number of seconds from 60 to 86400"),
        }),
    }
}

fn quarantine_after_failures_from_env() -> Result<u32, ConfigError> {
    let default = crate::sync::DEFAULT_QUARANTINE_AFTER_FAILURES;
    let Some(value) = optional("QUARANTINE_AFTER_FAILURES") else {
        return Ok(default);
    };
    match value.trim().parse::<u32>() {
        Ok(failures) if (1..=100).contains(&failures) => Ok(failures),
        _ => Err(ConfigError::Invalid {
            name: "QUARANTINE_AFTER_FAILURES",
            message: format!(
                "'{value}' is not a whole number of failed runs from 1 to 100 (default {default})"
            ),
        }),
    }
}
