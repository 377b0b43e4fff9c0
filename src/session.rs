//! Assembling a console session from its parts: Kubernetes (or the
//! simulator) plus the PostgreSQL databases named in `config.toml` or the
//! `PG*` environment. Databases stay attached across context switches.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use crate::pg::PgOptions;
use crate::source::{
    Backends, ChangeExecutor, DatabaseSource, RoutingExecutor, SourceError, Switcher,
};

/// One database's source and executor.
pub struct DbBackend {
    pub name: String,
    pub source: Box<dyn DatabaseSource>,
    pub executor: Box<dyn ChangeExecutor>,
}

/// Opens the session's databases (again on every context switch: sources
/// are owned by the tasks that poll them).
pub type DbFactory = Arc<dyn Fn() -> Result<Vec<DbBackend>, SourceError> + Send + Sync>;

/// The databases a session talks to: every `[databases]` entry of
/// `config.toml`, plus one from the `PG*` environment when `PGHOST`,
/// `PGDATABASE` or `PGSERVICE` is set (named after `PGDATABASE`, else `postgres`).
pub fn database_options(
    configured: &BTreeMap<String, String>,
    var: impl Fn(&str) -> Option<String>,
) -> Vec<PgOptions> {
    let mut out: Vec<PgOptions> = configured
        .iter()
        .map(|(name, url)| PgOptions::new(name.clone(), url.clone()))
        .collect();
    let set = |k: &str| var(k).is_some_and(|v| !v.is_empty());
    if set("PGHOST") || set("PGDATABASE") || set("PGSERVICE") {
        let name = var("PGDATABASE")
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "postgres".into());
        if !configured.contains_key(&name) {
            out.push(PgOptions::from_vars(name, &var));
        }
    }
    out
}

/// A factory opening PostgreSQL backends (lazily: an unreachable server shows
/// as a stale, failing feed, not as a refusal to start).
pub fn postgres(options: Vec<PgOptions>) -> DbFactory {
    Arc::new(move || {
        options
            .iter()
            .map(|o| {
                let (source, executor) = crate::pg::open(o)?;
                Ok(DbBackend {
                    name: o.name.clone(),
                    source: Box::new(source),
                    executor: Box::new(executor),
                })
            })
            .collect()
    })
}

/// Add the factory's databases to a backend set: their sources join the
/// Database feed, their executors get the requests naming them, and the
/// switcher keeps them attached in every context it opens.
pub fn attach(mut backends: Backends, factory: DbFactory) -> Result<Backends, SourceError> {
    let dbs = factory()?;
    if dbs.is_empty() {
        return Ok(backends);
    }
    let mut databases = Vec::new();
    for db in dbs {
        backends.databases.push(db.source);
        databases.push((db.name, db.executor));
    }
    backends.executor = Box::new(RoutingExecutor {
        kubernetes: None,
        databases,
        other: Some(backends.executor),
    });
    backends.switcher = backends.switcher.map(|inner| {
        Arc::new(Attaching {
            inner,
            factory: factory.clone(),
        }) as Arc<dyn Switcher>
    });
    Ok(backends)
}

struct Attaching {
    inner: Arc<dyn Switcher>,
    factory: DbFactory,
}

#[async_trait]
impl Switcher for Attaching {
    fn contexts(&self) -> Vec<String> {
        self.inner.contexts()
    }

    fn nouns(&self) -> (&'static str, &'static str) {
        self.inner.nouns()
    }

    async fn open(&self, context: &str, namespace: Option<&str>) -> Result<Backends, SourceError> {
        let b = self.inner.open(context, namespace).await?;
        attach(b, self.factory.clone())
    }
}

/// A session with no Kubernetes: databases only (`opsdeck db`).
pub fn databases_only(factory: DbFactory, label: &str) -> Result<Backends, SourceError> {
    let empty = Backends {
        target: crate::domain::Target::Databases {
            name: label.to_string(),
        },
        workloads: Vec::new(),
        logs: Vec::new(),
        metrics: Vec::new(),
        databases: Vec::new(),
        executor: Box::new(crate::source::ReadOnlyExecutor),
        switcher: None,
        history: None,
        queries: None,
        describer: None,
    };
    let mut b = attach(empty, factory)?;
    if b.databases.is_empty() {
        return Err(SourceError::NotFound(
            "no database: add [databases] to config.toml or set PGHOST/PGDATABASE".into(),
        ));
    }
    b.target = crate::domain::Target::Databases {
        name: label.to_string(),
    };
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn databases_come_from_config_and_the_environment() {
        let mut configured = BTreeMap::new();
        configured.insert(
            "orders-db".to_string(),
            "postgres://app@db/orders".to_string(),
        );
        let none = |_: &str| None;
        let names = |v: Vec<PgOptions>| v.into_iter().map(|o| o.name).collect::<Vec<_>>();
        assert_eq!(
            names(database_options(&configured, none)),
            vec!["orders-db"]
        );
        let env = |k: &str| match k {
            "PGHOST" => Some("10.0.0.5".to_string()),
            "PGDATABASE" => Some("reports".to_string()),
            _ => None,
        };
        assert_eq!(
            names(database_options(&configured, env)),
            vec!["orders-db", "reports"]
        );
        let same = |k: &str| (k == "PGDATABASE").then(|| "orders-db".to_string());
        assert_eq!(
            names(database_options(&configured, same)),
            vec!["orders-db"],
            "config wins over the environment"
        );
        let host_only = |k: &str| (k == "PGHOST").then(|| "db".to_string());
        assert_eq!(
            names(database_options(&BTreeMap::new(), host_only)),
            vec!["postgres"]
        );
    }

    #[test]
    fn databases_only_needs_a_database() {
        let empty: DbFactory = Arc::new(|| Ok(Vec::new()));
        let err = databases_only(empty, "db").err();
        assert!(matches!(err, Some(SourceError::NotFound(m)) if m.contains("[databases]")));
    }
}
