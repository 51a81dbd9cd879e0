//! Short descriptions of AWS SDK errors for logs, Run records and messages.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Describes an SDK error by the service's code and message, or by the
/// chain of causes for a failure to reach the service. The SDK's own
/// `Display` of the whole error also dumps the raw HTTP response.
pub fn describe<E, R>(error: &SdkError<E, R>) -> String
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    if let SdkError::ServiceError(service) = error {
        let inner = service.err();
        return format!(
            "{}: {}",
            inner.code().unwrap_or("unknown error"),
            inner.message().unwrap_or("no message")
        );
    }
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
