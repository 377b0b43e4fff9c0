//! A request as the handlers see it: its route, resource target, query
//! parameters and RBAC verb.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method};

use super::objects::Res;

/// Query parameters (last one wins).
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(HashMap<String, String>);

impl Params {
    pub fn parse(query: Option<&str>) -> Params {
        let mut m = HashMap::new();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            m.insert(decode(k), decode(v));
        }
        Params(m)
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str).filter(|v| !v.is_empty())
    }

    pub fn flag(&self, k: &str) -> bool {
        matches!(
            self.0.get(k).map(String::as_str),
            Some("true" | "1" | "True")
        )
    }

    pub fn number(&self, k: &str) -> Option<u64> {
        self.get(k).and_then(|v| v.parse().ok())
    }
}

/// Percent-decoding of a query component (`+` is a space).
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A parsed request to a resource path.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub res: Res,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub sub: Option<String>,
}

/// Everything a resource handler needs.
pub(crate) struct Call {
    pub method: Method,
    pub target: Target,
    pub params: Params,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Call {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn dry_run(&self) -> bool {
        self.params.get("dryRun").is_some_and(|v| v == "All")
    }
}

/// Where a request path leads.
pub(crate) enum Route {
    Version,
    ApiVersions,
    GroupList,
    Group(String),
    ResourceList(String, String),
    Review,
    Metrics {
        namespace: Option<String>,
        name: Option<String>,
    },
    Resource(Target),
}

pub(crate) fn route(path: &str) -> Option<Route> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (group, version, rest) = match segs.as_slice() {
        ["version"] => return Some(Route::Version),
        ["api"] => return Some(Route::ApiVersions),
        ["apis"] => return Some(Route::GroupList),
        ["apis", g] => return Some(Route::Group((*g).into())),
        ["api", "v1"] => return Some(Route::ResourceList(String::new(), "v1".into())),
        ["apis", g, v] => return Some(Route::ResourceList((*g).into(), (*v).into())),
        ["api", "v1", rest @ ..] => ("", "v1", rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return None,
    };
    if group == "authorization.k8s.io" && version == "v1" {
        return (rest == ["selfsubjectaccessreviews"]).then_some(Route::Review);
    }
    if group == "metrics.k8s.io" && version == "v1beta1" {
        return match rest {
            ["pods"] => Some(Route::Metrics {
                namespace: None,
                name: None,
            }),
            ["namespaces", ns, "pods"] => Some(Route::Metrics {
                namespace: Some((*ns).into()),
                name: None,
            }),
            ["namespaces", ns, "pods", name] => Some(Route::Metrics {
                namespace: Some((*ns).into()),
                name: Some((*name).into()),
            }),
            _ => None,
        };
    }
    if version != "v1" || !matches!(group, "" | "apps") {
        return None;
    }
    let target = |res: &str, ns: Option<&str>, name: Option<&str>, sub: Option<&str>| {
        Res::from_path(group, res).map(|res| Target {
            res,
            namespace: ns.map(Into::into),
            name: name.map(Into::into),
            sub: sub.map(Into::into),
        })
    };
    let t = match rest {
        ["namespaces"] if group.is_empty() => target("namespaces", None, None, None),
        ["namespaces", name] if group.is_empty() => target("namespaces", None, Some(name), None),
        [res] => target(res, None, None, None),
        ["namespaces", ns, res] => target(res, Some(ns), None, None),
        ["namespaces", ns, res, name] => target(res, Some(ns), Some(name), None),
        ["namespaces", ns, res, name, sub] => target(res, Some(ns), Some(name), Some(sub)),
        _ => None,
    }?;
    Some(Route::Resource(t))
}

/// The RBAC verb of a request.
pub(crate) fn verb(method: &Method, t: &Target, params: &Params) -> &'static str {
    match *method {
        Method::GET | Method::HEAD => {
            if t.name.is_some() {
                "get"
            } else if params.flag("watch") {
                "watch"
            } else {
                "list"
            }
        }
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE => {
            if t.name.is_some() {
                "delete"
            } else {
                "deletecollection"
            }
        }
        _ => "unknown",
    }
}
