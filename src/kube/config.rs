//! Kubeconfig, contexts and clients; kube errors as [`SourceError`]s.

use std::error::Error as StdError;

use ::kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use ::kube::{Client, Config};

use super::KubeOptions;
use crate::source::SourceError;

/// A client for one context.
pub struct Connected {
    pub client: Client,
    /// The context's name.
    pub context: String,
    /// The context's user (auth info) name.
    pub user: String,
}

/// Read the kubeconfig `opts` names (else `$KUBECONFIG`, else `~/.kube/config`).
pub fn read_kubeconfig(opts: &KubeOptions) -> Result<Kubeconfig, SourceError> {
    match &opts.kubeconfig {
        Some(path) => Kubeconfig::read_from(path).map_err(|e| {
            SourceError::Other(format!(
                "kubeconfig {}: {}",
                path.display(),
                error_chain(&e)
            ))
        }),
        None => Kubeconfig::read().map_err(|e| match e {
            KubeconfigError::FindPath => SourceError::Other(
                "no kubeconfig: set KUBECONFIG or create ~/.kube/config".to_string(),
            ),
            e => SourceError::Other(format!("kubeconfig: {}", error_chain(&e))),
        }),
    }
}

/// Every context in the kubeconfig, in file order.
pub fn contexts(opts: &KubeOptions) -> Result<Vec<String>, SourceError> {
    let config = read_kubeconfig(opts)?;
    Ok(config.contexts.iter().map(|c| c.name.clone()).collect())
}

/// Build a client for the context `opts` names (or the current context).
/// Exec credential plugins and tokens are handled by kube itself.
pub async fn connect_client(opts: &KubeOptions) -> Result<Connected, SourceError> {
    let kubeconfig = read_kubeconfig(opts)?;
    let context = match opts
        .context
        .clone()
        .or_else(|| kubeconfig.current_context.clone())
    {
        Some(c) => c,
        None => {
            return Err(SourceError::Other(
                "kubeconfig has no current-context; choose a context".to_string(),
            ));
        }
    };
    let Some(named) = kubeconfig.contexts.iter().find(|c| c.name == context) else {
        let known: Vec<&str> = kubeconfig
            .contexts
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        return Err(SourceError::NotFound(format!(
            "context {context:?} is not in the kubeconfig (contexts: {})",
            known.join(", ")
        )));
    };
    let user = named
        .context
        .as_ref()
        .and_then(|c| c.user.clone())
        .unwrap_or_else(|| context.clone());
    let options = KubeConfigOptions {
        context: Some(context.clone()),
        ..KubeConfigOptions::default()
    };
    let config = Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| {
            SourceError::Other(format!("kubeconfig context {context}: {}", error_chain(&e)))
        })?;
    choose_tls_provider();
    let client = Client::try_from(config).map_err(|e| {
        SourceError::Other(format!(
            "cannot build a client for context {context}: {}",
            error_chain(&e)
        ))
    })?;
    Ok(Connected {
        client,
        context,
        user,
    })
}

/// An error and its sources, `outer: inner: innermost`, without repeats.
pub fn error_chain(e: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = cur {
        let text = err.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = err.source();
    }
    parts.join(": ")
}

/// Map a kube client error to a [`SourceError`], prefixed with what was being done.
pub fn map_kube_error(what: &str, e: &::kube::Error) -> SourceError {
    match e {
        ::kube::Error::Api(status) => {
            let msg = if status.message.is_empty() {
                format!("{what}: {} {}", status.code, status.reason)
            } else {
                format!("{what}: {}", status.message)
            };
            match status.code {
                401 | 403 => SourceError::Forbidden(msg),
                404 => SourceError::NotFound(msg),
                429 => SourceError::Throttled(msg),
                502..=504 => SourceError::Unreachable(msg),
                _ => SourceError::Other(msg),
            }
        }
        ::kube::Error::HyperError(_) | ::kube::Error::Service(_) => {
            // The transport's own words, without kube's wrapper name.
            let text = StdError::source(e).map_or_else(|| error_chain(e), error_chain);
            SourceError::Unreachable(format!("{what}: {text}"))
        }
        ::kube::Error::Auth(_) => {
            SourceError::Forbidden(format!("{what}: credentials failed: {}", error_chain(e)))
        }
        _ => SourceError::Other(format!("{what}: {}", error_chain(e))),
    }
}

/// The HTTP status of an API error, if it is one.
pub fn api_code(e: &::kube::Error) -> Option<u16> {
    match e {
        ::kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}

/// kube's TLS uses rustls' process-wide crypto provider; with more than one
/// compiled in (the AWS SDK brings aws-lc-rs beside ring) it must be chosen
/// before a client is built. Idempotent: an earlier choice stands.
pub fn choose_tls_provider() {
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_api_errors_by_code() {
        let status = |code: u16| {
            ::kube::Error::Api(Box::new(::kube::core::Status {
                code,
                message: "nope".into(),
                reason: "Forbidden".into(),
                ..Default::default()
            }))
        };
        assert_eq!(
            map_kube_error("scale", &status(403)),
            SourceError::Forbidden("scale: nope".into())
        );
        assert!(matches!(
            map_kube_error("get", &status(404)),
            SourceError::NotFound(_)
        ));
        assert!(matches!(
            map_kube_error("get", &status(429)),
            SourceError::Throttled(_)
        ));
    }

    #[test]
    fn missing_kubeconfig_is_an_error_not_a_panic() {
        let opts = KubeOptions {
            kubeconfig: Some("/nonexistent/opsdeck/kubeconfig".into()),
            ..KubeOptions::default()
        };
        let err = contexts(&opts).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/opsdeck/kubeconfig"));
    }
}
