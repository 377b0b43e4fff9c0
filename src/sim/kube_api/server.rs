//! The server: binding, the kubeconfig for clients, and the one handler
//! that authenticates, admits and routes every request.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::api::Api;
use super::objects::Res;
use super::rbac::{ADMIN_TOKEN, User, VIEWER_TOKEN};
use super::request::{Call, Params, Route, route, verb};
use super::status::{ApiError, json_response};
use crate::sim::SimEstate;

/// Largest request body accepted.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// How to serve.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// The port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
}

/// A running API server. Dropping it stops serving too (without waiting).
pub struct ApiServer {
    addr: SocketAddr,
    estate: SimEstate,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl ApiServer {
    /// Bind 127.0.0.1:`opts.port` and serve `estate` until [`ApiServer::shutdown`].
    pub async fn start(estate: SimEstate, opts: ServeOptions) -> std::io::Result<ApiServer> {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, opts.port)))
                .await?;
        let addr = listener.local_addr()?;
        let cancel = CancellationToken::new();
        let api = Arc::new(Api {
            estate: estate.clone(),
            cancel: cancel.clone(),
            addr,
        });
        let app = Router::new().fallback(handle).with_state(api);
        let tls = super::serve::tls_acceptor()?;
        let task = tokio::spawn(super::serve::run(listener, app, tls, cancel.clone()));
        Ok(ApiServer {
            addr,
            estate,
            cancel,
            task: Some(task),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (plain HTTP; the same port also speaks TLS).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `https://127.0.0.1:PORT`, as in the kubeconfig (the certificate is
    /// signed by [`ApiServer::ca_pem`]).
    pub fn https_url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The CA certificate (PEM) that the server's TLS certificate chains to.
    pub fn ca_pem() -> &'static str {
        super::serve::CA_PEM
    }

    /// The estate being served.
    pub fn estate(&self) -> &SimEstate {
        &self.estate
    }

    /// A kubeconfig (as JSON, which is valid kubeconfig) with the contexts
    /// `sim` (user `sim-admin`, current) and `sim-viewer` (read-only), both
    /// in namespace `shop`. The cluster `sim` is `https://127.0.0.1:PORT`
    /// with the simulator's CA inline: kubectl (client-go) sends bearer
    /// tokens over TLS only.
    pub fn kubeconfig(&self) -> String {
        kubeconfig_for(&self.https_url())
    }

    /// The same kubeconfig with the plain `http://` server URL (for clients
    /// that send tokens over plain HTTP, such as kube-rs; not kubectl).
    pub fn kubeconfig_http(&self) -> String {
        kubeconfig_for(&self.url())
    }

    pub fn write_kubeconfig(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.kubeconfig())
    }

    /// Stop serving: open watches and log streams end, the port is released.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// The kubeconfig of a server at `url` (`https://` ones carry the CA).
pub fn kubeconfig_for(url: &str) -> String {
    use base64::Engine;
    let mut cluster = json!({"server": url});
    if url.starts_with("https://") {
        cluster["certificate-authority-data"] =
            json!(base64::engine::general_purpose::STANDARD.encode(super::serve::CA_PEM));
    }
    let cfg = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": "sim", "cluster": cluster}],
        "users": [
            {"name": "sim-admin", "user": {"token": ADMIN_TOKEN}},
            {"name": "sim-viewer", "user": {"token": VIEWER_TOKEN}},
        ],
        "contexts": [
            {"name": "sim", "context": {"cluster": "sim", "user": "sim-admin", "namespace": "shop"}},
            {"name": "sim-viewer", "context": {"cluster": "sim", "user": "sim-viewer", "namespace": "shop"}},
        ],
        "current-context": "sim",
    });
    serde_json::to_string_pretty(&cfg).unwrap_or_default()
}

/// A deployment as JSON with uid, resourceVersion, managedFields,
/// timestamps and status removed, so two servers' deployments can be
/// compared after the same change. `Value::Null` when there is none.
pub fn normalised_deployment(estate: &SimEstate, namespace: &str, name: &str) -> Value {
    estate.with(|w| {
        let now = w.now();
        super::objects::one(w.k8s(), Res::Deployments, Some(namespace), name, now)
            .map_or(Value::Null, super::objects::normalise_deployment)
    })
}

async fn handle(State(api): State<Arc<Api>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let params = Params::parse(parts.uri.query());
    let Some(user) = User::from_headers(&parts.headers) else {
        return ApiError::unauthorized().into_response();
    };
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => {
            return ApiError::bad_request(format!("cannot read the body: {e}")).into_response();
        }
    };
    let Some(r) = route(&path) else {
        return ApiError::path_not_found().into_response();
    };
    let get_only = |v: Value| {
        if parts.method == Method::GET {
            json_response(200, &v)
        } else {
            ApiError::method_not_allowed(
                "the server does not allow this method on the requested resource",
            )
            .into_response()
        }
    };
    match r {
        Route::Version => get_only(super::discovery::version()),
        Route::ApiVersions => get_only(super::discovery::api_versions(&api.addr.to_string())),
        Route::GroupList => get_only(super::discovery::api_group_list()),
        Route::Group(g) => match super::discovery::api_group(&g) {
            Some(v) => get_only(v),
            None => ApiError::path_not_found().into_response(),
        },
        Route::ResourceList(g, v) => match super::discovery::resource_list(&g, &v) {
            Some(doc) => get_only(doc),
            None => ApiError::path_not_found().into_response(),
        },
        Route::Review => review(&parts.method, user, &body),
        Route::Metrics { namespace, name } => {
            if parts.method != Method::GET {
                return ApiError::method_not_allowed("metrics are read-only").into_response();
            }
            super::metrics::pod_metrics(&api, namespace.as_deref(), name.as_deref())
        }
        Route::Resource(target) => {
            let call = Call {
                method: parts.method.clone(),
                target,
                params,
                headers: parts.headers.clone(),
                body,
            };
            match admit(user, &call) {
                Ok(()) => super::rest::dispatch(&api, call).await,
                Err(e) => e.into_response(),
            }
        }
    }
}

/// A SelfSubjectAccessReview (JSON or protobuf): what the user may do.
fn review(method: &Method, user: User, body: &Bytes) -> Response {
    if *method != Method::POST {
        return ApiError::method_not_allowed("only create is allowed").into_response();
    }
    let parsed = if body.starts_with(b"k8s\0") {
        super::rbac::review_from_protobuf(body)
            .ok_or_else(|| "cannot decode the protobuf body".to_string())
    } else {
        serde_json::from_slice::<Value>(body).map_err(|e| e.to_string())
    };
    match parsed {
        Ok(v) => json_response(201, &super::rbac::review(user, &v)),
        Err(e) => {
            ApiError::bad_request(format!("invalid SelfSubjectAccessReview: {e}")).into_response()
        }
    }
}

/// Whether the user may make a resource request, and its body is one the
/// server reads (JSON).
fn admit(user: User, call: &Call) -> Result<(), ApiError> {
    let target = &call.target;
    let v = verb(&call.method, target, &call.params);
    if !user.allows(v) {
        let resource = match &target.sub {
            Some(s) => format!("{}/{s}", target.res.plural()),
            None => target.res.plural().to_string(),
        };
        let msg = user.forbidden_message(
            v,
            target.res.group(),
            &resource,
            target.name.as_deref(),
            target.namespace.as_deref(),
        );
        return Err(ApiError::forbidden(
            target.res.group(),
            target.res.plural(),
            target.name.as_deref().unwrap_or(""),
            msg,
        ));
    }
    let protobuf = call
        .header("content-type")
        .is_some_and(|ct| ct.contains("protobuf"));
    if protobuf && !call.body.is_empty() {
        return Err(ApiError::unsupported_media(
            "this server accepts JSON bodies only, not application/vnd.kubernetes.protobuf",
        ));
    }
    Ok(())
}
