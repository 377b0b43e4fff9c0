//! AWS SDK errors as [`SourceError`]s, for every AWS backend (ECS, ELBv2,
//! CloudWatch, CloudWatch Logs): the SDK crates share their error and HTTP
//! response types, so one mapping serves them all.

use aws_sdk_ecs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::source::SourceError;

/// Map an SDK error to a [`SourceError`] with readable text: `what` names
/// the call (`scale ecs-service prod/api 2 -> 4`).
pub fn map_sdk_error<E>(
    what: &str,
    err: SdkError<E, aws_sdk_ecs::config::http::HttpResponse>,
) -> SourceError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match &err {
        SdkError::DispatchFailure(f) => {
            let kind = if f.is_timeout() {
                "timed out"
            } else if f.is_io() {
                "connection failed"
            } else {
                "request failed"
            };
            return SourceError::Unreachable(format!(
                "{what}: {kind}: {}",
                DisplayErrorContext(&err)
            ));
        }
        SdkError::TimeoutError(_) => {
            return SourceError::Unreachable(format!("{what}: timed out"));
        }
        _ => {}
    }
    let code = err.code().unwrap_or("");
    let message = err
        .message()
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| DisplayErrorContext(&err).to_string());
    let text = if code.is_empty() {
        format!("{what}: {message}")
    } else {
        format!("{what}: {code}: {message}")
    };
    match code {
        "ThrottlingException"
        | "Throttling"
        | "TooManyRequestsException"
        | "RequestLimitExceeded"
        | "RequestThrottled"
        | "RequestThrottledException" => SourceError::Throttled(text),
        "AccessDeniedException"
        | "AccessDenied"
        | "ExpiredTokenException"
        | "ExpiredToken"
        | "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch" => SourceError::Forbidden(text),
        "ClusterNotFoundException"
        | "ServiceNotFoundException"
        | "ServiceNotActiveException"
        | "TaskNotFoundException" => SourceError::NotFound(text),
        // No code we know (or an error body we could not read): the
        // status still says what kind of failure it is.
        _ => match err.raw_response().map(|r| r.status().as_u16()) {
            Some(401 | 403) => SourceError::Forbidden(text),
            Some(429) => SourceError::Throttled(text),
            _ => SourceError::Other(text),
        },
    }
}
