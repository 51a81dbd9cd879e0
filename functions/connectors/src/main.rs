//! The connectors function: connector CRUD and the read API over the mirror,
//! behind API Gateway (HTTP API, payload v2) or a cargo-lambda function URL.

use lambda_http::{run, service_fn, Error, Request};
use okta_sync::api::{self, ApiContext};

#[tokio::main]
async fn main() -> Result<(), Error> {
    okta_sync::telemetry::init();
    let context = ApiContext::from_env().await?;
    let context = &context;

    run(service_fn(move |request: Request| async move {
        Ok::<_, std::convert::Infallible>(api::handle(context, request).await)
    }))
    .await
}
