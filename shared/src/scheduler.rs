//! EventBridge Scheduler calls: one schedule per connector, in the product's
//! schedule group, named after the connector. Each schedule sends the
//! connector's sync event to the sync queue.

use aws_sdk_scheduler::error::{DisplayErrorContext, SdkError};
use aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput;
use aws_sdk_scheduler::types::{
    DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode, RetryPolicy, ScheduleState,
    Target,
};

use crate::config::{ScheduleTarget, Services};
use crate::domain::ConnectorId;
use crate::records::Trigger;
use crate::sync::SyncEvent;

/// Retries after a failed delivery to the sync queue. The queue is the only
/// target, so a failure lasting past three retries is a permission or
/// configuration problem that retrying does not fix.
pub const MAX_RETRY_ATTEMPTS: i32 = 3;

/// Age in seconds after which EventBridge Scheduler stops retrying a sync
/// event and sends it to the dead-letter queue. One hour, because a sync
/// started much later than scheduled is better skipped than run late.
pub const MAX_EVENT_AGE_SECONDS: i32 = 3600;

#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    #[error(
        "EventBridge Scheduler call {operation} failed for connector {connector_id}: {message}"
    )]
    Call {
        operation: &'static str,
        connector_id: String,
        message: String,
    },
    #[error("failed to build the request for connector {connector_id}'s schedule: {message}")]
    Build {
        connector_id: String,
        message: String,
    },
    #[error("schedules cannot be written because {0} is not set in the function's environment; set it there (the SAM template sets it for the schedules function)")]
    NotConfigured(&'static str),
}

/// The parts of a connector's schedule that the admin chooses.
#[derive(Debug, Clone, Copy)]
pub struct DesiredSchedule<'a> {
    /// An EventBridge `cron(…)` or `rate(…)` expression.
    pub expression: &'a str,
    /// An IANA time zone name.
    pub timezone: &'a str,
    pub enabled: bool,
}

/// Schedule names allow 1–64 of `[0-9a-zA-Z-_.]`; a connector id is 32 hex
/// digits, so this name is 43 characters.
pub fn schedule_name(connector_id: &ConnectorId) -> String {
    format!("okta-sync-{connector_id}")
}

/// Creates the connector's schedule, or updates the one that exists.
///
/// UpdateSchedule replaces the whole schedule and resets every field it is
/// not sent, so an update reads the schedule first. It then sends back the
/// fields the product does not set: description, start and end dates, KMS
/// key, action after completion, SQS parameters, and the dead-letter queue
/// when none is configured here.
pub async fn put_schedule(
    services: &Services,
    connector_id: &ConnectorId,
    desired: &DesiredSchedule<'_>,
) -> Result<(), SchedulerError> {
    let settings = &services.settings;
    let group = settings
        .schedule_group
        .as_deref()
        .ok_or(SchedulerError::NotConfigured("SCHEDULE_GROUP_NAME"))?;
    let target = settings
        .schedule_target
        .as_ref()
        .ok_or(SchedulerError::NotConfigured(
            "SCHEDULER_ROLE_ARN or SYNC_QUEUE_ARN",
        ))?;
    let call = ScheduleCall {
        services,
        group,
        connector_id,
        target,
    };

    if let Some(existing) = call.get().await? {
        return call.update(desired, existing).await;
    }
    match call.create(desired).await {
        Err(CreateError::AlreadyExists) => {
            // Another request created the schedule after the read above.
            let existing = call.get().await?.ok_or_else(|| {
                call.error(
                    "GetSchedule",
                    "the schedule was created and deleted again by other requests; retry",
                )
            })?;
            call.update(desired, existing).await
        }
        Err(CreateError::Other(error)) => Err(error),
        Ok(()) => Ok(()),
    }
}

/// Deletes the connector's schedule; one that does not exist is not an error.
pub async fn delete_schedule(
    services: &Services,
    connector_id: &ConnectorId,
) -> Result<(), SchedulerError> {
    let Some(group) = &services.settings.schedule_group else {
        return Ok(());
    };
    let result = services
        .scheduler
        .delete_schedule()
        .group_name(group)
        .name(schedule_name(connector_id))
        .send()
        .await;
    match result {
        Ok(_) => {
            tracing::info!(connector_id = %connector_id, "schedule deleted");
            Ok(())
        }
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Ok(())
        }
        Err(error) => Err(call_error("DeleteSchedule", connector_id, error)),
    }
}

enum CreateError {
    AlreadyExists,
    Other(SchedulerError),
}

/// One connector's schedule in the configured group.
struct ScheduleCall<'a> {
    services: &'a Services,
    group: &'a str,
    connector_id: &'a ConnectorId,
    target: &'a ScheduleTarget,
}

impl ScheduleCall<'_> {
    async fn get(&self) -> Result<Option<GetScheduleOutput>, SchedulerError> {
        let result = self
            .services
            .scheduler
            .get_schedule()
            .group_name(self.group)
            .name(schedule_name(self.connector_id))
            .send()
            .await;
        match result {
            Ok(output) => Ok(Some(output)),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(error) => Err(call_error("GetSchedule", self.connector_id, error)),
        }
    }

    async fn create(&self, desired: &DesiredSchedule<'_>) -> Result<(), CreateError> {
        let target = self.target(None).map_err(CreateError::Other)?;
        let window = self
            .flexible_time_window_off()
            .map_err(CreateError::Other)?;
        let result = self
            .services
            .scheduler
            .create_schedule()
            .group_name(self.group)
            .name(schedule_name(self.connector_id))
            .description(format!("Syncs Okta connector {}", self.connector_id))
            .schedule_expression(desired.expression)
            .schedule_expression_timezone(desired.timezone)
            .state(schedule_state(desired.enabled))
            .flexible_time_window(window)
            .target(target)
            .send()
            .await;
        match result {
            Ok(_) => {
                tracing::info!(
                    connector_id = %self.connector_id,
                    expression = desired.expression,
                    timezone = desired.timezone,
                    enabled = desired.enabled,
                    "schedule created"
                );
                Ok(())
            }
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conflict_exception()) =>
            {
                Err(CreateError::AlreadyExists)
            }
            Err(error) => Err(CreateError::Other(call_error(
                "CreateSchedule",
                self.connector_id,
                error,
            ))),
        }
    }

    async fn update(
        &self,
        desired: &DesiredSchedule<'_>,
        existing: GetScheduleOutput,
    ) -> Result<(), SchedulerError> {
        let target = self.target(existing.target.as_ref())?;
        let window = self.flexible_time_window_off()?;
        self.services
            .scheduler
            .update_schedule()
            .group_name(self.group)
            .name(schedule_name(self.connector_id))
            .schedule_expression(desired.expression)
            .schedule_expression_timezone(desired.timezone)
            .state(schedule_state(desired.enabled))
            .flexible_time_window(window)
            .target(target)
            .set_description(existing.description)
            .set_start_date(existing.start_date)
            .set_end_date(existing.end_date)
            .set_kms_key_arn(existing.kms_key_arn)
            .set_action_after_completion(existing.action_after_completion)
            .send()
            .await
            .map_err(|error| call_error("UpdateSchedule", self.connector_id, error))?;
        tracing::info!(
            connector_id = %self.connector_id,
            expression = desired.expression,
            timezone = desired.timezone,
            enabled = desired.enabled,
            "schedule updated"
        );
        Ok(())
    }

    /// Builds the target that sends the connector's sync event to the sync
    /// queue. Parameters for other target types (ECS, Kinesis and so on) are
    /// dropped, because the target is always the queue.
    fn target(&self, existing: Option<&Target>) -> Result<Target, SchedulerError> {
        let event = SyncEvent {
            connector_id: self.connector_id.to_string(),
            mode: None,
            run_id: None,
            trigger: Some(Trigger::Schedule),
            action: None,
            dry_run: None,
        };
        let input = serde_json::to_string(&event).map_err(|error| self.build_error(&error))?;
        let retry_policy = RetryPolicy::builder()
            .maximum_retry_attempts(MAX_RETRY_ATTEMPTS)
            .maximum_event_age_in_seconds(MAX_EVENT_AGE_SECONDS)
            .build();
        let dead_letter = match &self.target.dead_letter_arn {
            Some(arn) => Some(DeadLetterConfig::builder().arn(arn).build()),
            None => existing.and_then(|target| target.dead_letter_config.clone()),
        };
        Target::builder()
            .arn(&self.target.queue_arn)
            .role_arn(&self.target.role_arn)
            .input(input)
            .retry_policy(retry_policy)
            .set_dead_letter_config(dead_letter)
            .set_sqs_parameters(existing.and_then(|target| target.sqs_parameters.clone()))
            .build()
            .map_err(|error| self.build_error(&error))
    }

    /// Runs start at the scheduled minute, not somewhere inside a window, so
    /// the times the API lists are the times syncs start.
    fn flexible_time_window_off(&self) -> Result<FlexibleTimeWindow, SchedulerError> {
        FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .map_err(|error| self.build_error(&error))
    }

    fn error(&self, operation: &'static str, message: &str) -> SchedulerError {
        SchedulerError::Call {
            operation,
            connector_id: self.connector_id.to_string(),
            message: message.to_owned(),
        }
    }

    fn build_error(&self, error: &dyn std::fmt::Display) -> SchedulerError {
        SchedulerError::Build {
            connector_id: self.connector_id.to_string(),
            message: error.to_string(),
        }
    }
}

fn schedule_state(enabled: bool) -> ScheduleState {
    if enabled {
        ScheduleState::Enabled
    } else {
        ScheduleState::Disabled
    }
}

fn call_error<E, R>(
    operation: &'static str,
    connector_id: &ConnectorId,
    error: SdkError<E, R>,
) -> SchedulerError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    SchedulerError::Call {
        operation,
        connector_id: connector_id.to_string(),
        message: DisplayErrorContext(&error).to_string(),
    }
}
