//! Label and field selectors, evaluated on the served JSON objects, and the
//! objects of a list or watch that they select.

use std::time::SystemTime;

use serde_json::Value;

use crate::sim::k8s::K8sState;

use super::objects::{self, Res};
use super::status::ApiError;

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LabelReq {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector (`app=api,tier in (a,b),!canary`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSelector(Vec<LabelReq>);

/// Split on commas that are not inside parentheses.
fn split_top(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => {
                depth += 1;
                cur.push(c);
            }
            ')' => {
                depth -= 1;
                cur.push(c);
            }
            ',' if depth == 0 => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

fn set_values(s: &str) -> Option<Vec<String>> {
    let s = s.trim();
    let inner = s.strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect(),
    )
}

impl LabelSelector {
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let bad = |p: &str| ApiError::bad_request(format!("unable to parse requirement: {p:?}"));
        let mut reqs = Vec::new();
        for part in split_top(s) {
            let p = part.as_str();
            if let Some(key) = p.strip_prefix('!') {
                reqs.push(LabelReq::NotExists(key.trim().to_string()));
            } else if let Some((k, v)) = p.split_once("!=") {
                reqs.push(LabelReq::NotEq(k.trim().into(), v.trim().into()));
            } else if let Some((k, v)) = p.split_once("==") {
                reqs.push(LabelReq::Eq(k.trim().into(), v.trim().into()));
            } else if let Some((k, v)) = p.split_once('=') {
                reqs.push(LabelReq::Eq(k.trim().into(), v.trim().into()));
            } else if let Some((k, rest)) = p.split_once(" notin ") {
                let vals = set_values(rest).ok_or_else(|| bad(p))?;
                reqs.push(LabelReq::NotIn(k.trim().into(), vals));
            } else if let Some((k, rest)) = p.split_once(" in ") {
                let vals = set_values(rest).ok_or_else(|| bad(p))?;
                reqs.push(LabelReq::In(k.trim().into(), vals));
            } else if p
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
            {
                reqs.push(LabelReq::Exists(p.into()));
            } else {
                return Err(bad(p));
            }
        }
        Ok(Self(reqs))
    }

    /// Whether an object with these labels (`metadata.labels`) matches.
    pub fn matches(&self, labels: Option<&Value>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            LabelReq::Eq(k, v) => get(k) == Some(v.as_str()),
            LabelReq::NotEq(k, v) => get(k) != Some(v.as_str()),
            LabelReq::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelReq::NotIn(k, vs) => !get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelReq::Exists(k) => get(k).is_some(),
            LabelReq::NotExists(k) => get(k).is_none(),
        })
    }
}

/// A parsed field selector (`metadata.name=api,status.phase!=Running`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let mut reqs = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (path, eq, value) = if let Some((k, v)) = part.split_once("!=") {
                (k, false, v)
            } else if let Some((k, v)) = part.split_once("==") {
                (k, true, v)
            } else if let Some((k, v)) = part.split_once('=') {
                (k, true, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{part}'; can't understand '{part}'"
                )));
            };
            reqs.push((path.trim().to_string(), eq, value.trim().to_string()));
        }
        Ok(Self(reqs))
    }

    /// Evaluate on an object: the field is looked up by its dotted path
    /// (a missing field is the empty string, as the API server does).
    pub fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(path, eq, want)| {
            let mut cur = Some(obj);
            for seg in path.split('.') {
                cur = cur.and_then(|c| c.get(seg));
            }
            let have = match cur {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            (have == *want) == *eq
        })
    }
}

/// Both selectors of a request.
#[derive(Debug, Clone, Default)]
pub struct Selectors {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Selectors {
    pub fn matches(&self, obj: &Value) -> bool {
        self.labels.matches(obj.pointer("/metadata/labels")) && self.fields.matches(obj)
    }
}

/// Items of a list request: the target's namespace, matching the selectors.
pub(crate) fn matching(
    k: &K8sState,
    res: Res,
    ns: Option<&str>,
    sel: &Selectors,
    now: SystemTime,
) -> Vec<Value> {
    objects::all(k, res, now)
        .into_iter()
        .filter(|v| in_namespace(v, ns) && sel.matches(v))
        .collect()
}

pub(crate) fn in_namespace(v: &Value, ns: Option<&str>) -> bool {
    ns.is_none_or(|ns| v.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_selectors() {
        let labels = json!({"app": "api", "tier": "front"});
        let m = |s: &str| {
            LabelSelector::parse(s)
                .map(|sel| sel.matches(Some(&labels)))
                .unwrap_or(false)
        };
        assert!(m("app=api"));
        assert!(m("app==api,tier"));
        assert!(!m("app!=api"));
        assert!(m("app in (api, web)"));
        assert!(!m("app notin (api,web)"));
        assert!(m("!canary"));
        assert!(!m("!app"));
        assert!(m(""));
    }

    #[test]
    fn field_selectors() {
        let obj =
            json!({"metadata": {"name": "a", "namespace": "shop"}, "status": {"phase": "Running"}});
        let m = |s: &str| {
            FieldSelector::parse(s)
                .map(|f| f.matches(&obj))
                .unwrap_or(false)
        };
        assert!(m("metadata.name=a,metadata.namespace=shop"));
        assert!(m("status.phase!=Pending"));
        assert!(!m("metadata.name=b"));
        assert!(FieldSelector::parse("nonsense").is_err());
    }
}
