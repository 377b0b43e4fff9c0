//! AWS SDK errors as [`SourceError`]s, for every AWS backend (ECS, ELBv2,
//! CloudWatch, CloudWatch Logs): the SDK crates share their error and HTTP
//! response types, so one mapping serves them all.

use aws_sdk_ecs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::source::SourceError;

/// The common set-up problems, told apart by the error's cause chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The credential chain found nothing (no profile, no keys, no SSO).
    NoCredentials,
    /// The credentials were found but their session has expired.
    Expired,
    /// The endpoint's host name does not resolve.
    Dns,
    /// The endpoint does not accept connections.
    Connect,
}

/// Which common problem `chain` (an error and its sources, joined by `: `)
/// and the service's error `code` describe, if any.
pub fn diagnose(chain: &str, code: &str) -> Option<Problem> {
    let c = chain.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| c.contains(n));
    if matches!(
        code,
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired"
    ) || (has(&["expired"]) && has(&["token", "sso", "session", "credential"]))
    {
        return Some(Problem::Expired);
    }
    if has(&[
        "no providers in chain provided credentials",
        "credentials provider was not enabled",
        "credential provider was not enabled",
        "failed to load credentials",
        "no credentials",
        "credentialsnotloaded",
    ]) {
        return Some(Problem::NoCredentials);
    }
    if has(&[
        "dns error",
        "failed to lookup address",
        "name or service not known",
        "nodename nor servname",
        "no such host",
        "temporary failure in name resolution",
    ]) {
        return Some(Problem::Dns);
    }
    if has(&[
        "connection refused",
        "network is unreachable",
        "no route to host",
    ]) {
        return Some(Problem::Connect);
    }
    None
}

impl Problem {
    /// What is wrong and what to do, for the pane. `profile`: the profile
    /// in use (`AWS_PROFILE`); `endpoint`: the endpoint override, if any.
    pub fn advice(self, profile: Option<&str>, endpoint: Option<&str>) -> String {
        let p = profile.unwrap_or("NAME");
        let at = match endpoint.and_then(host_of) {
            Some(h) => h,
            None => "the AWS endpoint".to_string(),
        };
        match self {
            Problem::NoCredentials => format!(
                "no AWS credentials found: run `aws sso login --profile {p}` (or `aws configure`), or set AWS_PROFILE to a profile with credentials, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            ),
            Problem::Expired => format!(
                "the session token has expired: log in again (`aws sso login --profile {p}`), or refresh AWS_SESSION_TOKEN and the keys that go with it"
            ),
            Problem::Dns => format!(
                "cannot resolve the host name of {at}: check the network, VPN or proxy, the region (--region) and AWS_ENDPOINT_URL"
            ),
            Problem::Connect => format!(
                "cannot connect to {at}: check that it is up and reachable (network, VPN, proxy) and AWS_ENDPOINT_URL"
            ),
        }
    }
}

/// `host:port` of an endpoint URL (`http://127.0.0.1:1` -> `127.0.0.1:1`).
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?']).next()?;
    (!host.is_empty()).then(|| host.to_string())
}

/// An error and its sources, joined by `: ` (repeats left out).
pub fn cause_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// Map an SDK error to a [`SourceError`] with readable text: `what` names
/// the call (`scale ecs-service prod/api 2 -> 4`).
pub fn map_sdk_error<E>(
    what: &str,
    err: SdkError<E, aws_sdk_ecs::config::http::HttpResponse>,
) -> SourceError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let chain = cause_chain(&err);
    if let Some(problem) = diagnose(&chain, err.code().unwrap_or("")) {
        let profile = std::env::var("AWS_PROFILE").ok();
        let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
        let text = format!(
            "{what}: {} (cause: {chain})",
            problem.advice(profile.as_deref(), endpoint.as_deref())
        );
        return match problem {
            Problem::NoCredentials | Problem::Expired => SourceError::Forbidden(text),
            Problem::Dns | Problem::Connect => SourceError::Unreachable(text),
        };
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_credentials_are_told_with_what_to_do() {
        let chain = "dispatch failure: other: no providers in chain provided credentials";
        let p = diagnose(chain, "");
        assert_eq!(p, Some(Problem::NoCredentials));
        let text = Problem::NoCredentials.advice(Some("prod"), None);
        assert!(text.starts_with("no AWS credentials found: run `aws sso login --profile prod`"));
        assert!(text.contains("AWS_ACCESS_KEY_ID"), "{text}");
        assert_eq!(
            diagnose("the credential provider was not enabled", ""),
            Some(Problem::NoCredentials)
        );
    }

    #[test]
    fn an_expired_session_is_told_apart() {
        assert_eq!(
            diagnose(
                "The security token included in the request is expired",
                "ExpiredTokenException"
            ),
            Some(Problem::Expired)
        );
        assert_eq!(
            diagnose(
                "failed to load credentials: the SSO session has expired or is invalid",
                ""
            ),
            Some(Problem::Expired)
        );
        assert!(
            Problem::Expired
                .advice(None, None)
                .starts_with("the session token has expired: log in again")
        );
    }

    #[test]
    fn dns_and_connection_failures_name_the_endpoint() {
        let dns = "dispatch failure: io error: client error (Connect): dns error: failed to lookup address information: Name or service not known";
        assert_eq!(diagnose(dns, ""), Some(Problem::Dns));
        let refused = "dispatch failure: io error: client error (Connect): tcp connect error: Connection refused (os error 111)";
        assert_eq!(diagnose(refused, ""), Some(Problem::Connect));
        assert_eq!(
            Problem::Connect.advice(None, Some("http://127.0.0.1:1")),
            "cannot connect to 127.0.0.1:1: check that it is up and reachable (network, VPN, proxy) and AWS_ENDPOINT_URL"
        );
        assert!(
            Problem::Dns
                .advice(None, None)
                .starts_with("cannot resolve the host name of the AWS endpoint")
        );
    }

    #[test]
    fn other_errors_are_left_to_the_codes() {
        assert_eq!(
            diagnose(
                "AccessDeniedException: not authorized",
                "AccessDeniedException"
            ),
            None
        );
        assert_eq!(diagnose("service error", ""), None);
    }
}
