//! The schedules function: a connector's sync schedule in EventBridge
//! Scheduler, and previews of schedule expressions, behind API Gateway (HTTP
//! API, payload v2) or a cargo-lambda function URL.

use lambda_http::{run, service_fn, Error, Request};
use okta_sync::api::{self, ApiContext};

#[tokio::main]
async fn main() -> Result<(), Error> {
    okta_sync::telemetry::init();
    let context = ApiContext::from_env_without_cursor_key().await?;
    let context = &context;

    // The router serves every API route; in AWS this function only receives
    // the schedule routes.
    run(service_fn(move |request: Request| async move {
        Ok::<_, std::convert::Infallible>(api::handle(context, request).await)
    }))
    .await
}
