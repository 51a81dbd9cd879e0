//! The sync function: runs one connector's sync. It takes the event as a
//! schedule, the console or `cargo lambda invoke` send it, or the SQS
//! envelope of the sync queue.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use okta_sync::config::Services;
use okta_sync::sync::{lambda_deadline, SyncDeps};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    okta_sync::telemetry::init();
    let services = Services::from_env().await?;
    let deps = SyncDeps::from(&services);
    let deps = &deps;
    let time_limit = services.settings.sync_time_limit;

    run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = match time_limit {
            Some(limit) => Some(std::time::Instant::now() + limit),
            None => lambda_deadline(event.context.deadline),
        };
        okta_sync::sync::handle_incoming(deps, event.payload, deadline)
            .await
            .map_err(Error::from)
    }))
    .await
}
