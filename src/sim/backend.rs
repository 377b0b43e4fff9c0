//! The simulator behind the [`crate::source`] traits, stepped lazily to the
//! wall clock.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;

use crate::domain::{Change, ChangeOutcome, DbSnapshot, LogLine, MetricSeries, Preview, Workload};
use crate::source::{
    Backends, ChangeExecutor, DatabaseSource, LogSource, MetricSource, SourceError, WorkloadSource,
};

use super::{Scenario, World};

/// How often `next_batch` looks for new lines while waiting.
const LOG_POLL: Duration = Duration::from_millis(100);

/// A [`World`] shared by the sim backends. Every access first steps the
/// world (in one-second ticks) up to the wall-clock time elapsed since the
/// anchor, times `speed`. The lock is never held across an await.
#[derive(Clone)]
pub struct SimEstate {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    world: World,
    anchor: Instant,
    /// World time simulated when the anchor was taken.
    anchor_elapsed: Duration,
    speed: f64,
}

impl SimEstate {
    /// Serve `world`, advancing it `speed` sim seconds per wall second.
    pub fn new(world: World, speed: f64) -> Self {
        let anchor_elapsed = world.elapsed();
        Self {
            inner: Arc::new(Mutex::new(Inner {
                world,
                anchor: Instant::now(),
                anchor_elapsed,
                speed: speed.max(0.0),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while stepping leaves a usable world; keep serving it.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Run `f` on the world after catching it up with the wall clock.
    pub fn with<T>(&self, f: impl FnOnce(&mut World) -> T) -> T {
        let mut inner = self.lock();
        let target = inner.anchor_elapsed + inner.anchor.elapsed().mul_f64(inner.speed);
        let behind = target.saturating_sub(inner.world.elapsed());
        let whole = Duration::from_secs(behind.as_secs());
        if !whole.is_zero() {
            inner.world.step(whole);
        }
        f(&mut inner.world)
    }

    pub fn scenario(&self) -> Scenario {
        self.lock().world.scenario()
    }
}

/// The whole simulated estate behind the source traits, with no Kubernetes
/// API in between: a world started `prewarm` ago and stepped through it, so
/// the incident is under way at once. (`opsdeck demo` reaches the cluster
/// through the kube backend instead; see `crate::demo`.)
pub fn demo_backends(scenario: Scenario, seed: u64, prewarm: Duration) -> Backends {
    let start = SystemTime::now()
        .checked_sub(prewarm)
        .unwrap_or_else(SystemTime::now);
    let mut world = World::new(scenario, seed, start);
    world.step(prewarm);
    backends_for(SimEstate::new(world, 1.0))
}

/// The trait objects serving one estate.
pub fn backends_for(estate: SimEstate) -> Backends {
    let scenario = estate.scenario();
    Backends {
        target: crate::domain::Target::Sim {
            scenario: scenario.name().to_string(),
        },
        workloads: vec![Box::new(SimWorkloads(estate.clone()))],
        logs: vec![Box::new(SimLogs {
            estate: estate.clone(),
            cursor: 0,
        })],
        metrics: vec![Box::new(SimMetrics(estate.clone()))],
        databases: vec![Box::new(SimDatabase {
            estate: estate.clone(),
            name: "orders-db".into(),
        })],
        executor: Box::new(SimExecutor(estate.clone())),
        switcher: None,
        history: None,
        queries: None,
        describer: Some(std::sync::Arc::new(SimDescriber(estate))),
    }
}

/// The estate's sources without its Kubernetes part, for a session that
/// reaches the simulated cluster through the real Kubernetes API instead
/// (the demo: kube backend against the embedded API server on loopback).
pub fn backends_without_kubernetes(estate: SimEstate) -> Backends {
    let mut b = backends_for(estate.clone());
    b.workloads = vec![Box::new(SimEcsWorkloads(estate.clone()))];
    b.logs = vec![Box::new(SimEcsLogs(SimLogs { estate, cursor: 0 }))];
    b
}

/// ECS services and tasks only.
pub struct SimEcsWorkloads(pub SimEstate);

#[async_trait]
impl WorkloadSource for SimEcsWorkloads {
    fn label(&self) -> String {
        "sim:ecs".into()
    }

    async fn workloads(&self) -> Result<Vec<Workload>, SourceError> {
        Ok(self.0.with(|w| w.ecs_workloads()))
    }
}

/// The logs of ECS tasks only (their source is `service/container/task`).
pub struct SimEcsLogs(pub SimLogs);

#[async_trait]
impl LogSource for SimEcsLogs {
    fn label(&self) -> String {
        "sim:ecs-logs".into()
    }

    async fn next_batch(&mut self, max_wait: Duration) -> Result<Vec<LogLine>, SourceError> {
        let deadline = tokio::time::Instant::now() + max_wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let lines = self.0.next_batch(left).await?;
            let services: Vec<String> = self.0.estate.with(|w| {
                w.ecs()
                    .services
                    .iter()
                    .map(|s| format!("{}/", s.name))
                    .collect()
            });
            let ecs: Vec<LogLine> = lines
                .into_iter()
                .filter(|l| services.iter().any(|p| l.source.starts_with(p.as_str())))
                .collect();
            if !ecs.is_empty() || left.is_zero() {
                return Ok(ecs);
            }
        }
    }
}

pub struct SimWorkloads(pub SimEstate);

#[async_trait]
impl WorkloadSource for SimWorkloads {
    fn label(&self) -> String {
        "sim".into()
    }

    async fn workloads(&self) -> Result<Vec<Workload>, SourceError> {
        Ok(self.0.with(|w| w.workloads()))
    }
}

/// All pod and task logs of the estate, from a cursor.
pub struct SimLogs {
    pub estate: SimEstate,
    pub cursor: u64,
}

#[async_trait]
impl LogSource for SimLogs {
    fn label(&self) -> String {
        "sim:logs".into()
    }

    async fn next_batch(&mut self, max_wait: Duration) -> Result<Vec<LogLine>, SourceError> {
        let deadline = tokio::time::Instant::now() + max_wait;
        loop {
            let cursor = self.cursor;
            let (lines, next) = self.estate.with(|w| w.logs_since(cursor));
            self.cursor = next;
            if !lines.is_empty() {
                return Ok(lines);
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(Vec::new());
            }
            tokio::time::sleep(LOG_POLL.min(deadline - now)).await;
        }
    }
}

pub struct SimMetrics(pub SimEstate);

#[async_trait]
impl MetricSource for SimMetrics {
    fn label(&self) -> String {
        "sim:metrics".into()
    }

    async fn metrics(&self) -> Result<Vec<MetricSeries>, SourceError> {
        Ok(self.0.with(|w| w.metrics()))
    }
}

pub struct SimDatabase {
    pub estate: SimEstate,
    pub name: String,
}

#[async_trait]
impl DatabaseSource for SimDatabase {
    fn label(&self) -> String {
        format!("sim:{}", self.name)
    }

    async fn snapshot(&self) -> Result<DbSnapshot, SourceError> {
        self.estate
            .with(|w| w.databases())
            .into_iter()
            .find(|d| d.name == self.name)
            .ok_or_else(|| SourceError::NotFound(format!("database {}", self.name)))
    }
}

/// Describes the simulated ECS services and tasks.
pub struct SimDescriber(pub SimEstate);

#[async_trait]
impl crate::source::Describer for SimDescriber {
    async fn describe(
        &self,
        target: &crate::domain::DetailTarget,
    ) -> Result<crate::domain::Detail, SourceError> {
        self.0.with(|w| w.describe_ecs(target))
    }
}

pub struct SimExecutor(pub SimEstate);

#[async_trait]
impl ChangeExecutor for SimExecutor {
    fn context(&self, request: &Change) -> Option<String> {
        use crate::domain::WorkloadKind;
        let target = request.workload()?;
        matches!(
            target.kind,
            WorkloadKind::EcsService | WorkloadKind::EcsTask
        )
        .then(|| format!("sim:ecs cluster {}", target.scope))
    }

    async fn execute(&self, request: &Change) -> Result<ChangeOutcome, SourceError> {
        self.0.with(|w| w.apply(request))
    }

    /// Rollbacks resolve their revision and both ends, as a server dry run
    /// would; other actions have no dry run here.
    async fn preview(&self, request: &Change) -> Result<Option<Preview>, SourceError> {
        let Change::RolloutUndo {
            target,
            to_revision,
            ..
        } = request
        else {
            return Ok(None);
        };
        let (to, plan) = self.0.with(|w| w.rollback_plan(target, *to_revision))?;
        Ok(Some(Preview {
            summary: format!("dry run: {target} would roll back to revision {to}"),
            resolved: Some(Change::RolloutUndo {
                target: target.clone(),
                to_revision: Some(to),
                plan: Some(plan),
            }),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::WorkloadKind;

    #[tokio::test]
    async fn backends_serve_the_world() {
        let b = demo_backends(Scenario::BadDeploy, 7, Duration::from_secs(180));
        assert_eq!(b.target.label(), "sim:bad-deploy");
        let rows = b.workloads[0].workloads().await.unwrap_or_default();
        assert!(
            rows.iter()
                .any(|w| w.id.kind == WorkloadKind::Deployment && w.id.name == "api")
        );
        let metrics = b.metrics[0].metrics().await.unwrap_or_default();
        assert!(
            metrics
                .iter()
                .any(|m| m.key == "api.5xx_rate" && m.points.len() >= 18)
        );
        let db = b.databases[0].snapshot().await;
        assert!(db.is_ok_and(|d| d.max_connections == 100 && !d.sessions.is_empty()));
        let mut logs = b.logs.into_iter().next();
        let first = match logs.as_mut() {
            Some(l) => l
                .next_batch(Duration::from_millis(10))
                .await
                .unwrap_or_default(),
            None => Vec::new(),
        };
        assert!(!first.is_empty(), "prewarm produced history");
        let missing = crate::domain::WorkloadRef::new(WorkloadKind::Deployment, "shop", "nope");
        let err = b
            .executor
            .execute(&Change::RolloutRestart { target: missing })
            .await;
        assert!(matches!(err, Err(SourceError::NotFound(_))));
    }

    #[tokio::test]
    async fn next_batch_waits_then_returns_empty() {
        let world = World::new(Scenario::DbConnections, 1, SystemTime::UNIX_EPOCH);
        let mut logs = SimLogs {
            estate: SimEstate::new(world, 0.0),
            cursor: u64::MAX,
        };
        let started = Instant::now();
        let batch = logs
            .next_batch(Duration::from_millis(150))
            .await
            .unwrap_or_default();
        assert!(batch.is_empty());
        assert!(started.elapsed() >= Duration::from_millis(150));
    }
}
