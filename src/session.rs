//! Assembling a console session from its parts: Kubernetes (or the
//! simulator) plus the PostgreSQL databases named in `config.toml` or the
//! `PG*` environment. Databases stay attached across context switches.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use crate::config::DatabaseEntry;
use crate::domain::{Change, ChangeOutcome, DbSnapshot};
use crate::pg::PgOptions;
use crate::problem::{Place, Problem};
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

/// One database of the session: how to connect, and where that was said
/// (for the problem when it cannot be used).
#[derive(Debug, Clone)]
pub struct DbSpec {
    pub options: PgOptions,
    pub place: Place,
}

/// The `Problem::file` of a database from the `PG*` environment variables.
pub const PG_ENVIRONMENT: &str = "environment (PG* variables)";

/// The databases a session talks to: every `[databases]` entry of
/// `config.toml`, plus one from the `PG*` environment when `PGHOST`,
/// `PGDATABASE` or `PGSERVICE` is set (named after `PGDATABASE`, else `postgres`).
pub fn database_specs(
    configured: &BTreeMap<String, DatabaseEntry>,
    var: impl Fn(&str) -> Option<String>,
) -> Vec<DbSpec> {
    let mut out: Vec<DbSpec> = configured
        .iter()
        .map(|(name, entry)| DbSpec {
            options: PgOptions::new(name.clone(), entry.url.clone()),
            place: entry.place.clone(),
        })
        .collect();
    let set = |k: &str| var(k).is_some_and(|v| !v.is_empty());
    if set("PGHOST") || set("PGDATABASE") || set("PGSERVICE") {
        let name = var("PGDATABASE")
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "postgres".into());
        if !configured.contains_key(&name) {
            out.push(DbSpec {
                options: PgOptions::from_vars(name, &var),
                place: Place {
                    file: PG_ENVIRONMENT.into(),
                    line: None,
                    key: None,
                },
            });
        }
    }
    out
}

/// Every database that cannot be opened as configured (a connection string
/// start-up cannot parse, an `sslrootcert` it cannot read, ...), as a
/// problem at its entry: what `check-config` reports, and what the
/// console shows for that database while the rest runs.
pub fn database_problems(specs: &[DbSpec]) -> Vec<Problem> {
    let mut out: Vec<Problem> = specs
        .iter()
        .filter_map(|s| crate::pg::open(&s.options).err().map(|e| problem(s, &e)))
        .collect();
    // In file order (the entries come by name).
    out.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    out
}

fn problem(spec: &DbSpec, e: &SourceError) -> Problem {
    let message = match e {
        SourceError::Other(m) => m.clone(),
        other => other.to_string(),
    };
    spec.place.problem(message)
}

/// A factory opening PostgreSQL backends (lazily: an unreachable server shows
/// as a stale, failing feed, not as a refusal to start). A database that
/// cannot be opened as configured does not stop the others: it becomes a
/// source failing with its problem on every poll, and an executor refusing
/// with it.
pub fn postgres(specs: Vec<DbSpec>) -> DbFactory {
    Arc::new(move || Ok(specs.iter().map(open_or_unusable).collect()))
}

fn open_or_unusable(spec: &DbSpec) -> DbBackend {
    let name = spec.options.name.clone();
    match crate::pg::open(&spec.options) {
        Ok((source, executor)) => DbBackend {
            name,
            source: Box::new(source),
            executor: Box::new(executor),
        },
        Err(e) => {
            let error = problem(spec, &e).to_string();
            tracing::warn!(database = %name, %error, "database not opened: its configuration is unusable");
            let unusable = Arc::new(Unusable {
                label: format!("pg:{name}"),
                error,
            });
            DbBackend {
                name,
                source: Box::new(unusable.clone()),
                executor: Box::new(unusable),
            }
        }
    }
}

/// A configured database that cannot be used: every poll and every action
/// fails with its configuration problem.
struct Unusable {
    label: String,
    /// The problem, with file, line and key (no password: connection
    /// strings are redacted before they reach a problem).
    error: String,
}

#[async_trait]
impl DatabaseSource for Arc<Unusable> {
    fn label(&self) -> String {
        self.label.clone()
    }

    async fn snapshot(&self) -> Result<DbSnapshot, SourceError> {
        Err(SourceError::Other(self.error.clone()))
    }
}

#[async_trait]
impl ChangeExecutor for Arc<Unusable> {
    async fn execute(&self, request: &Change) -> Result<ChangeOutcome, SourceError> {
        Err(SourceError::Blocked(format!(
            "{} was not run: {}",
            request.describe(),
            self.error
        )))
    }

    async fn allowed(&self, _request: &Change) -> Result<(), String> {
        Err(self.error.clone())
    }
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
        // Only database requests have somewhere to go.
        executor: Box::new(RoutingExecutor::default()),
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

    fn entry(url: &str, line: usize) -> DatabaseEntry {
        DatabaseEntry {
            url: url.to_string(),
            place: Place {
                file: "config.toml".into(),
                line: Some(line),
                key: Some("databases.x".into()),
            },
        }
    }

    #[test]
    fn databases_come_from_config_and_the_environment() {
        let mut configured = BTreeMap::new();
        configured.insert(
            "orders-db".to_string(),
            entry("postgres://app@db/orders", 2),
        );
        let none = |_: &str| None;
        let names = |v: Vec<DbSpec>| v.into_iter().map(|o| o.options.name).collect::<Vec<_>>();
        assert_eq!(names(database_specs(&configured, none)), vec!["orders-db"]);
        let env = |k: &str| match k {
            "PGHOST" => Some("10.0.0.5".to_string()),
            "PGDATABASE" => Some("reports".to_string()),
            _ => None,
        };
        assert_eq!(
            names(database_specs(&configured, env)),
            vec!["orders-db", "reports"]
        );
        let same = |k: &str| (k == "PGDATABASE").then(|| "orders-db".to_string());
        assert_eq!(
            names(database_specs(&configured, same)),
            vec!["orders-db"],
            "config wins over the environment"
        );
        let host_only = |k: &str| (k == "PGHOST").then(|| "db".to_string());
        let specs = database_specs(&BTreeMap::new(), host_only);
        assert_eq!(names(specs.clone()), vec!["postgres"]);
        assert_eq!(specs[0].place.file, PG_ENVIRONMENT);
    }

    /// A bad entry does not stop the others: it polls and acts as failing,
    /// with its problem (file, line, key; no password).
    #[tokio::test]
    async fn a_database_that_cannot_be_opened_fails_on_every_poll() {
        let mut configured = BTreeMap::new();
        configured.insert("good".to_string(), entry("postgres://app@db/orders", 2));
        configured.insert(
            "bad".to_string(),
            entry("postgres://app:hunter2@db/orders?sslmode=bogus", 3),
        );
        let specs = database_specs(&configured, |_| None);
        let problems: Vec<String> = database_problems(&specs)
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0]
                .starts_with("config.toml:3: databases.x: invalid connection string for bad"),
            "{}",
            problems[0]
        );
        assert!(problems[0].contains("invalid sslmode \"bogus\""));
        assert!(!problems[0].contains("hunter2"));
        let dbs = postgres(specs)().unwrap();
        assert_eq!(dbs.len(), 2);
        let bad = dbs.iter().find(|d| d.name == "bad").unwrap();
        assert_eq!(bad.source.label(), "pg:bad");
        for _ in 0..2 {
            let err = bad.source.snapshot().await.unwrap_err();
            assert_eq!(err.to_string(), problems[0]);
        }
        let cancel = Change::CancelQuery {
            database: "bad".into(),
            session: crate::domain::SessionTarget {
                pid: 1,
                backend_start: std::time::SystemTime::UNIX_EPOCH,
                query: String::new(),
            },
        };
        let refused = bad.executor.execute(&cancel).await.unwrap_err();
        assert!(matches!(&refused, SourceError::Blocked(m) if m.contains("invalid sslmode")));
        assert_eq!(
            bad.executor.allowed(&cancel).await,
            Err(problems[0].clone())
        );
        // And the session starts, with both databases.
        let b = databases_only(postgres(database_specs(&configured, |_| None)), "db").unwrap();
        assert_eq!(b.databases.len(), 2);
    }

    #[test]
    fn databases_only_needs_a_database() {
        let empty: DbFactory = Arc::new(|| Ok(Vec::new()));
        let err = databases_only(empty, "db").err();
        assert!(matches!(err, Some(SourceError::NotFound(m)) if m.contains("[databases]")));
    }
}
