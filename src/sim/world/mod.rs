//! The simulated estate as one deterministic state machine.
//!
//! This file has the state, its initial estate and the tick; the scenario
//! timeline is in `script`, the database's behaviour in `database`, the
//! service signals in `signals`, metric sampling in `metrics`, the
//! workload rows in `rows` and the actions in `apply`.

mod apply;
mod database;
mod describe;
mod metrics;
mod rollback;
mod rows;
mod script;
pub(super) mod signals;

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, SystemTime};

use crate::domain::{DbSnapshot, LogLine, MetricSeries, SessionState};

use super::Scenario;
use super::chatter;
use super::ecs::EcsState;
use super::k8s::{K8sState, MemoryModel, PodTemplate};
use super::pg::{NewSession, PgDatabase, SessionRole};
use super::rng::{Rng, fnv1a};

pub use metrics::{METRIC_POINTS, SAMPLE_EVERY};

use metrics::Series;
use signals::{GOOD_API_IMAGE, Signals};

/// Log lines kept.
pub const LOG_CAPACITY: usize = 20_000;

const TICK: Duration = Duration::from_secs(1);
const NAMESPACE: &str = "shop";
const CLUSTER: &str = "prod";
const DATABASE: &str = "orders-db";

/// The simulated estate. See the module docs of [`crate::sim`].
#[derive(Debug, Clone, PartialEq)]
pub struct World {
    pub(super) scenario: Scenario,
    pub(super) rng: Rng,
    pub(super) start: SystemTime,
    /// Whole seconds simulated.
    pub(super) ticks: u64,
    /// Time asked for but not yet simulated (less than one tick).
    pub(super) pending: Duration,
    pub(super) k8s: K8sState,
    pub(super) ecs: EcsState,
    pub(super) db: PgDatabase,
    pub(super) series: Series,
    pub(super) logs: VecDeque<LogLine>,
    /// Sequence number of `logs[0]`.
    pub(super) first_seq: u64,
    pub(super) signals: Signals,
    pub(super) worker_demand: f64,
    pub(super) next_blocked_at: u64,
}

/// `s` seconds before `start`.
fn ago(start: SystemTime, s: u64) -> SystemTime {
    start.checked_sub(Duration::from_secs(s)).unwrap_or(start)
}

/// The namespace: api, worker and web deployments, each with an older
/// ReplicaSet and a current one whose pods have run for hours.
fn initial_kubernetes(rng: &mut Rng, start: SystemTime) -> K8sState {
    let mut k8s = K8sState::new(NAMESPACE);
    let template = |app: &str, image: &str, limit: u64, cpu: u64| PodTemplate {
        labels: [("app".to_string(), app.to_string())].into(),
        annotations: BTreeMap::new(),
        container: app.into(),
        image: image.into(),
        memory_limit_mib: limit,
        cpu_millis: cpu,
        extra: None,
    };
    let apps = [
        (
            "api",
            3,
            "registry.example.com/shop/api:1.8.1",
            GOOD_API_IMAGE,
            768,
            500,
        ),
        (
            "worker",
            2,
            "registry.example.com/shop/worker:3.4.0",
            "registry.example.com/shop/worker:3.4.1",
            512,
            250,
        ),
        (
            "web",
            2,
            "registry.example.com/shop/web:2.11.3",
            "registry.example.com/shop/web:2.12.0",
            256,
            100,
        ),
    ];
    for (app, replicas, old_image, image, limit, cpu) in apps {
        let current = template(app, image, limit, cpu);
        k8s.add_deployment(
            rng,
            app,
            replicas,
            current.clone(),
            2,
            ago(start, 40 * 86400),
        );
        k8s.add_replica_set(
            rng,
            app,
            &template(app, old_image, limit, cpu),
            1,
            0,
            ago(start, 9 * 86400),
        );
        let rs_created = ago(start, 2 * 86400 + rng.range(0, 40_000));
        k8s.add_replica_set(rng, app, &current, 2, replicas, rs_created);
        let rs = k8s.replica_sets.len() - 1;
        for _ in 0..replicas {
            let created = ago(start, rng.range(3_600, 30 * 3_600));
            k8s.add_pod(rng, rs, start, true, created);
        }
    }
    k8s
}

/// The cluster: the checkout service with four healthy tasks.
fn initial_ecs(rng: &mut Rng, start: SystemTime) -> EcsState {
    let mut ecs = EcsState::new(CLUSTER);
    ecs.add_service(rng, "checkout", 4, 14, ago(start, 20 * 86400));
    for _ in 0..4 {
        let created = ago(start, rng.range(3 * 3_600, 5 * 3_600));
        ecs.launch(rng, "checkout", start, true, created);
    }
    ecs
}

/// The database, with only its monitoring agent connected (the apps'
/// pools open on the first reconcile).
fn initial_database(rng: &mut Rng, start: SystemTime) -> PgDatabase {
    let mut db = PgDatabase::new(DATABASE, 100);
    db.connect(
        rng,
        NewSession {
            user: "datadog",
            application: "datadog-agent",
            client: "10.0.8.14".into(),
            state: SessionState::Idle,
            wait_event: Some("ClientRead"),
            query: "SELECT count(*) FROM pg_stat_activity",
            role: SessionRole::Monitor,
            started: ago(start, 6 * 86400),
        },
    );
    db
}

impl World {
    pub fn new(scenario: Scenario, seed: u64, start: SystemTime) -> World {
        let mut rng = Rng::new(seed ^ fnv1a(scenario.name()));
        let k8s = initial_kubernetes(&mut rng, start);
        let ecs = initial_ecs(&mut rng, start);
        let db = initial_database(&mut rng, start);
        let mut w = World {
            scenario,
            rng,
            start,
            ticks: 0,
            pending: Duration::ZERO,
            k8s,
            ecs,
            db,
            series: Series::initial(),
            logs: VecDeque::new(),
            first_seq: 0,
            signals: Signals::default(),
            worker_demand: 300.0,
            next_blocked_at: 60,
        };
        w.k8s.reconcile_deployments(&mut w.rng, start);
        w.reconcile_pools(ago(start, 3_000));
        w.compute_signals();
        w.sample();
        w.k8s.journal_baseline();
        w
    }

    pub fn scenario(&self) -> Scenario {
        self.scenario
    }

    /// The current simulated time.
    pub fn now(&self) -> SystemTime {
        self.start + Duration::from_secs(self.ticks)
    }

    /// Simulated time since the start.
    pub fn elapsed(&self) -> Duration {
        Duration::from_secs(self.ticks)
    }

    /// Advance by `dt` in whole one-second ticks (a remainder carries over).
    pub fn step(&mut self, dt: Duration) {
        self.pending += dt;
        while self.pending >= TICK {
            self.pending -= TICK;
            self.tick();
        }
    }

    /// The raw Kubernetes objects.
    pub fn k8s(&self) -> &K8sState {
        &self.k8s
    }

    /// The Kubernetes objects and what writing them needs (the random
    /// source for new uids and names, and the current time), for the API
    /// server. Record changes with [`K8sState::record_changes`] after writing.
    pub fn k8s_write(&mut self) -> (&mut K8sState, &mut Rng, SystemTime) {
        let now = self.now();
        (&mut self.k8s, &mut self.rng, now)
    }

    /// The raw ECS objects.
    pub fn ecs(&self) -> &EcsState {
        &self.ecs
    }

    /// The raw PostgreSQL server state.
    pub fn postgres(&self) -> &PgDatabase {
        &self.db
    }

    fn tick(&mut self) {
        self.ticks += 1;
        let now = self.now();
        self.script(now);
        let model = MemoryModel {
            worker_demand_mib: self.worker_demand,
        };
        self.k8s.reconcile_deployments(&mut self.rng, now);
        self.k8s.reconcile_replica_sets(&mut self.rng, now);
        self.k8s.run_kubelet(&mut self.rng, now, model);
        self.k8s.record_changes();
        self.ecs.tick(&mut self.rng, now);
        self.db_tick(now);
        self.compute_signals();
        for line in chatter::lines(&self.k8s, &self.ecs, self.signals, &mut self.rng, now) {
            self.push_log(line);
        }
        if self.ticks % SAMPLE_EVERY.as_secs() == 0 {
            self.sample();
        }
    }

    fn compute_signals(&mut self) {
        self.signals =
            Signals::compute(self.signals, &self.k8s, &self.db, &mut self.rng, self.ticks);
    }

    /// Append the current values to the metric series.
    fn sample(&mut self) {
        let now = self.now();
        self.series
            .sample(now, self.signals, &self.k8s, &self.ecs, &self.db);
        self.signals.worker_peak = None;
    }

    fn push_log(&mut self, line: LogLine) {
        self.logs.push_back(line);
        while self.logs.len() > LOG_CAPACITY {
            self.logs.pop_front();
            self.first_seq += 1;
        }
    }

    /// Every line with a sequence number at or after `cursor`, and the cursor
    /// to pass next time. Lines older than the last [`LOG_CAPACITY`] are gone.
    pub fn logs_since(&self, cursor: u64) -> (Vec<LogLine>, u64) {
        let end = self.first_seq + self.logs.len() as u64;
        let from = cursor.max(self.first_seq);
        let lines = if from >= end {
            Vec::new()
        } else {
            self.logs
                .iter()
                .skip((from - self.first_seq) as usize)
                .cloned()
                .collect()
        };
        (lines, end)
    }

    pub fn metrics(&self) -> Vec<MetricSeries> {
        self.series.metrics()
    }

    pub fn databases(&self) -> Vec<DbSnapshot> {
        vec![self.db.snapshot(self.now())]
    }
}
