//! Bearer tokens, the two users and what each may do.

use axum::http::{HeaderMap, header};
use serde_json::{Value, json};

pub const ADMIN_TOKEN: &str = "opsdeck-sim-admin";
pub const VIEWER_TOKEN: &str = "opsdeck-sim-viewer";
/// A user bound to no role: every request for a resource is forbidden.
pub const NOBODY_TOKEN: &str = "opsdeck-sim-nobody";

/// An authenticated user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum User {
    /// `sim-admin`: may do everything.
    Admin,
    /// `sim-viewer`: get, list and watch only.
    Viewer,
    /// `sim-nobody`: authenticated, bound to no role.
    Nobody,
}

impl User {
    pub fn from_headers(headers: &HeaderMap) -> Option<User> {
        let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let token = auth.strip_prefix("Bearer ")?.trim();
        match token {
            ADMIN_TOKEN => Some(User::Admin),
            VIEWER_TOKEN => Some(User::Viewer),
            NOBODY_TOKEN => Some(User::Nobody),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            User::Admin => "sim-admin",
            User::Viewer => "sim-viewer",
            User::Nobody => "sim-nobody",
        }
    }

    pub fn allows(self, verb: &str) -> bool {
        match self {
            User::Admin => true,
            User::Viewer => matches!(verb, "get" | "list" | "watch"),
            User::Nobody => false,
        }
    }

    /// The RBAC-style reason of an access decision.
    pub fn reason(self, allowed: bool) -> String {
        match (self, allowed) {
            (User::Admin, _) => format!(
                "RBAC: allowed by ClusterRoleBinding \"sim-admin\" of ClusterRole \"cluster-admin\" to User \"{}\"",
                self.name()
            ),
            (User::Viewer, true) => format!(
                "RBAC: allowed by ClusterRoleBinding \"sim-viewer\" of ClusterRole \"view\" to User \"{}\"",
                self.name()
            ),
            (User::Viewer, false) => format!(
                "RBAC: User \"{}\" may only get, list and watch (ClusterRole \"view\")",
                self.name()
            ),
            (User::Nobody, _) => format!("RBAC: User \"{}\" is bound to no role", self.name()),
        }
    }

    /// The message of a 403 for this user.
    pub fn forbidden_message(
        self,
        verb: &str,
        group: &str,
        resource: &str,
        name: Option<&str>,
        namespace: Option<&str>,
    ) -> String {
        let q = super::status::qualified(group, resource.split('/').next().unwrap_or(resource));
        let subject = match name {
            Some(n) => format!("{q} \"{n}\" is forbidden"),
            None => format!("{q} is forbidden"),
        };
        let scope = match namespace {
            Some(ns) => format!(" in the namespace \"{ns}\""),
            None => " at the cluster scope".to_string(),
        };
        format!(
            "{subject}: User \"{}\" cannot {verb} resource \"{resource}\" in API group \"{group}\"{scope}",
            self.name()
        )
    }
}

/// Answer a SelfSubjectAccessReview.
pub fn review(user: User, body: &Value) -> Value {
    let spec = body.get("spec").cloned().unwrap_or_else(|| json!({}));
    let verb = spec
        .pointer("/resourceAttributes/verb")
        .or_else(|| spec.pointer("/nonResourceAttributes/verb"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let allowed = user.allows(verb);
    let mut status = json!({"allowed": allowed, "reason": user.reason(allowed)});
    if !allowed {
        status["denied"] = json!(true);
    }
    json!({
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": null},
        "spec": spec,
        "status": status,
    })
}

/// Read a protobuf varint at `*i`.
fn varint(b: &[u8], i: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*i)?;
        *i += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// The length-delimited fields of a protobuf message, by field number.
fn fields(b: &[u8]) -> Option<Vec<(u64, &[u8])>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let key = varint(b, &mut i)?;
        match key & 7 {
            0 => {
                varint(b, &mut i)?;
            }
            1 => i += 8,
            5 => i += 4,
            2 => {
                let len = usize::try_from(varint(b, &mut i)?).ok()?;
                let end = i.checked_add(len)?;
                out.push((key >> 3, b.get(i..end)?));
                i = end;
            }
            _ => return None,
        }
    }
    Some(out)
}

fn field<'a>(fs: &[(u64, &'a [u8])], n: u64) -> Option<&'a [u8]> {
    fs.iter().find(|(k, _)| *k == n).map(|(_, v)| *v)
}

fn text(fs: &[(u64, &[u8])], n: u64) -> String {
    field(fs, n)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

/// A SelfSubjectAccessReview sent as Kubernetes protobuf (what kubectl's
/// typed client sends), as the equivalent JSON.
pub fn review_from_protobuf(body: &[u8]) -> Option<Value> {
    let unknown = fields(body.strip_prefix(b"k8s\0")?)?;
    let review = fields(field(&unknown, 2)?)?;
    let spec = fields(field(&review, 2)?)?;
    let mut out = json!({});
    if let Some(ra) = field(&spec, 1) {
        let ra = fields(ra)?;
        let names = [
            (1, "namespace"),
            (2, "verb"),
            (3, "group"),
            (4, "version"),
            (5, "resource"),
            (6, "subresource"),
            (7, "name"),
        ];
        let mut attrs = json!({});
        for (n, key) in names {
            let v = text(&ra, n);
            if !v.is_empty() {
                attrs[key] = json!(v);
            }
        }
        out["resourceAttributes"] = attrs;
    }
    if let Some(nra) = field(&spec, 2) {
        let nra = fields(nra)?;
        out["nonResourceAttributes"] = json!({"path": text(&nra, 1), "verb": text(&nra, 2)});
    }
    Some(
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": out}),
    )
}
