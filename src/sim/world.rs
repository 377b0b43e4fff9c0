//! The simulated estate as one deterministic state machine.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, SystemTime};

use crate::domain::{
    Change, ChangeOutcome, DbSnapshot, Health, LogLine, MetricSeries, Point, SessionState,
    Workload, WorkloadKind, WorkloadRef, rollout_health,
};
use crate::source::SourceError;

use super::Scenario;
use super::ecs::{EcsState, TaskHealth, TaskStatus};
use super::k8s::{
    ContainerState, K8sState, MemoryModel, Pod, PodTemplate, RESTARTED_AT_ANNOTATION,
};
use super::pg::{API_QUERIES, NewSession, PgDatabase, SessionRole, WORKER_QUERIES};
use super::rng::{Rng, fnv1a};

/// Metrics are sampled this often (sim time).
pub const SAMPLE_EVERY: Duration = Duration::from_secs(10);
/// Points kept per series (15 minutes).
pub const METRIC_POINTS: usize = 90;
/// Log lines kept.
pub const LOG_CAPACITY: usize = 20_000;

const TICK: Duration = Duration::from_secs(1);
const NAMESPACE: &str = "shop";
const CLUSTER: &str = "prod";
const DATABASE: &str = "orders-db";
pub(super) const GOOD_API_IMAGE: &str = "registry.example.com/shop/api:1.8.2";
pub(super) const BAD_API_IMAGE: &str = "registry.example.com/shop/api:1.9.0";
const TEN_MINUTES: Duration = Duration::from_secs(600);

/// A metric series being recorded.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SeriesBuf {
    key: &'static str,
    name: &'static str,
    unit: &'static str,
    warning: Option<f64>,
    critical: Option<f64>,
    lower_is_worse: bool,
    points: VecDeque<Point>,
}

/// Instantaneous service signals, recomputed every tick.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(super) struct Signals {
    pub api_5xx: f64,
    pub api_p95: f64,
    pub api_rps: f64,
    pub blocked: usize,
    pub saturated: bool,
    pub refused_this_tick: u64,
    pub bad_fraction: f64,
    pub worker_peak: Option<f64>,
}

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
    pub(super) series: Vec<SeriesBuf>,
    pub(super) logs: VecDeque<LogLine>,
    /// Sequence number of `logs[0]`.
    pub(super) first_seq: u64,
    pub(super) signals: Signals,
    pub(super) worker_demand: f64,
    pub(super) next_blocked_at: u64,
}

impl World {
    pub fn new(scenario: Scenario, seed: u64, start: SystemTime) -> World {
        let mut rng = Rng::new(seed ^ fnv1a(scenario.name()));
        let mut k8s = K8sState::new(NAMESPACE);
        let ago = |s: u64| start.checked_sub(Duration::from_secs(s)).unwrap_or(start);
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
            k8s.add_deployment(&mut rng, app, replicas, current.clone(), 2, ago(40 * 86400));
            k8s.add_replica_set(
                &mut rng,
                app,
                &template(app, old_image, limit, cpu),
                1,
                0,
                ago(9 * 86400),
            );
            let rs_created = ago(2 * 86400 + rng.range(0, 40_000));
            k8s.add_replica_set(&mut rng, app, &current, 2, replicas, rs_created);
            let rs = k8s.replica_sets.len() - 1;
            for _ in 0..replicas {
                let created = ago(rng.range(3_600, 30 * 3_600));
                k8s.add_pod(&mut rng, rs, start, true, created);
            }
        }
        let mut ecs = EcsState::new(CLUSTER);
        ecs.add_service(&mut rng, "checkout", 4, 14, ago(20 * 86400));
        for _ in 0..4 {
            let created = ago(rng.range(3 * 3_600, 5 * 3_600));
            ecs.launch(&mut rng, "checkout", start, true, created);
        }
        let mut db = PgDatabase::new(DATABASE, 100);
        db.connect(
            &mut rng,
            NewSession {
                user: "datadog",
                application: "datadog-agent",
                client: "10.0.8.14".into(),
                state: SessionState::Idle,
                wait_event: Some("ClientRead"),
                query: "SELECT count(*) FROM pg_stat_activity",
                role: SessionRole::Monitor,
                started: ago(6 * 86400),
            },
        );
        let series = vec![
            series(
                "orders-db.connections",
                "orders-db connections",
                "conn",
                Some(80.0),
                Some(90.0),
                false,
            ),
            series(
                "api.5xx_rate",
                "api 5xx rate",
                "%",
                Some(1.0),
                Some(5.0),
                false,
            ),
            series(
                "api.latency_p95",
                "api p95 latency",
                "s",
                Some(0.5),
                Some(1.0),
                false,
            ),
            series("api.requests", "api requests", "req/s", None, None, false),
            series(
                "api.memory",
                "api memory (max pod, % of limit)",
                "%",
                Some(80.0),
                Some(90.0),
                false,
            ),
            series(
                "worker.memory",
                "worker memory (max pod, % of limit)",
                "%",
                Some(80.0),
                Some(90.0),
                false,
            ),
            series(
                "checkout.running_tasks",
                "checkout running tasks",
                "tasks",
                Some(3.0),
                Some(2.0),
                true,
            ),
            series(
                "checkout.cpu",
                "checkout CPU (avg task)",
                "%",
                Some(80.0),
                Some(95.0),
                false,
            ),
        ];
        let mut w = World {
            scenario,
            rng,
            start,
            ticks: 0,
            pending: Duration::ZERO,
            k8s,
            ecs,
            db,
            series,
            logs: VecDeque::new(),
            first_seq: 0,
            signals: Signals::default(),
            worker_demand: 300.0,
            next_blocked_at: 60,
        };
        w.k8s.reconcile_deployments(&mut w.rng, start);
        w.reconcile_pools(ago(3_000));
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
        super::chatter::emit(self, now);
        if self.ticks % SAMPLE_EVERY.as_secs() == 0 {
            self.sample();
        }
    }

    /// The scenario's timeline.
    fn script(&mut self, now: SystemTime) {
        let t = self.ticks;
        match self.scenario {
            Scenario::DbConnections => {
                let archiver = "UPDATE orders SET archived_at = now() WHERE created_at < now() - interval '2 years' AND status IN ('delivered', 'cancelled')";
                let pending = "SELECT o.id, o.status, o.total_cents FROM orders o WHERE o.status = 'pending' ORDER BY o.created_at FOR UPDATE";
                let report = "SELECT c.region, date_trunc('day', o.created_at) AS day, count(*), sum(i.price_cents * i.quantity) FROM orders o JOIN order_items i ON i.order_id = o.id JOIN customers c ON c.id = o.customer_id GROUP BY 1, 2 ORDER BY 1, 2";
                let long = [
                    (
                        25,
                        "archiver",
                        "orders-archiver",
                        "10.0.3.21",
                        Some("IO:DataFileRead"),
                        archiver,
                        SessionRole::LockHolder,
                    ),
                    (
                        40,
                        "reporting",
                        "metabase",
                        "10.0.3.40",
                        Some("Lock:transactionid"),
                        pending,
                        SessionRole::LockHolder,
                    ),
                    (
                        55,
                        "reporting",
                        "metabase",
                        "10.0.3.40",
                        Some("IO:BufFileWrite"),
                        report,
                        SessionRole::Report,
                    ),
                ];
                for (at, user, app, client, wait, query, role) in long {
                    if t == at {
                        let started = now;
                        self.db.connect(
                            &mut self.rng,
                            NewSession {
                                user,
                                application: app,
                                client: client.into(),
                                state: SessionState::Active,
                                wait_event: wait,
                                query,
                                role,
                                started,
                            },
                        );
                    }
                }
                if t == 100 || t == 160 {
                    let id = self.rng.range(40_000, 99_999);
                    let query = format!("SELECT * FROM orders WHERE id = {id} FOR UPDATE");
                    let client = self.pod_ip("worker");
                    self.db.connect(
                        &mut self.rng,
                        NewSession {
                            user: "app",
                            application: "worker",
                            client,
                            state: SessionState::IdleInTransaction,
                            wait_event: Some("ClientRead"),
                            query: &query,
                            role: SessionRole::IdleInTransaction,
                            started: now,
                        },
                    );
                }
                if t >= self.next_blocked_at && self.db.count(&SessionRole::LockHolder) > 0 {
                    self.next_blocked_at = t + self.rng.range(7, 12);
                    let client = self.pod_ip("api");
                    self.db.connect(
                        &mut self.rng,
                        NewSession {
                            user: "app",
                            application: "api",
                            client,
                            state: SessionState::Active,
                            wait_event: Some("Lock:transactionid"),
                            query: "UPDATE orders SET status = $1, updated_at = now() WHERE id = $2",
                            role: SessionRole::Blocked,
                            started: now,
                        },
                    );
                }
            }
            Scenario::OomCrashloop => {
                let ramp = ((t as f64 - 30.0) / 120.0).clamp(0.0, 1.0);
                self.worker_demand = 300.0 + 600.0 * ramp + self.rng.uniform(-10.0, 10.0);
            }
            Scenario::BadDeploy => {
                if t == 120 {
                    let rv = self.k8s.next_rv();
                    if let Some(d) = self.k8s.deployment_mut("api") {
                        d.template.image = BAD_API_IMAGE.into();
                        d.meta.generation += 1;
                        d.meta.resource_version = rv;
                    }
                }
            }
            Scenario::EcsUnhealthy => {
                if t == 90 {
                    self.ecs.config_epoch += 1;
                    for i in 0..self.ecs.tasks.len() {
                        if self.ecs.tasks[i].last_status == TaskStatus::Running {
                            let after = self.rng.range(20, 240);
                            self.ecs.tasks[i].degrade_at = Some(now + Duration::from_secs(after));
                        }
                    }
                }
            }
        }
    }

    /// Any pod IP of an app (for session client addresses).
    fn pod_ip(&mut self, app: &str) -> String {
        let ips: Vec<String> = self
            .k8s
            .pods
            .iter()
            .filter(|p| p.app() == app && !p.terminating())
            .map(|p| p.ip.clone())
            .collect();
        let ip = self
            .rng
            .pick(&ips)
            .cloned()
            .unwrap_or_else(|| "10.42.0.1".into());
        format!("{ip}:{}", self.rng.range(32_768, 60_999))
    }

    /// Keep each running api/worker container's connection pool open.
    fn reconcile_pools(&mut self, now: SystemTime) {
        let running: Vec<(String, String, String)> = self
            .k8s
            .pods
            .iter()
            .filter(|p| p.container_running() && matches!(p.app(), "api" | "worker"))
            .map(|p| (p.meta.uid.clone(), p.app().to_string(), p.ip.clone()))
            .collect();
        self.db.sessions.retain(|s| match &s.role {
            SessionRole::Pool { pod_uid } => running.iter().any(|(uid, _, _)| uid == pod_uid),
            _ => true,
        });
        for (uid, app, ip) in running {
            let want = if app == "api" { 8 } else { 4 };
            let have = self
                .db
                .sessions
                .iter()
                .filter(|s| matches!(&s.role, SessionRole::Pool { pod_uid } if *pod_uid == uid))
                .count();
            for _ in have..want {
                let port = self.rng.range(32_768, 60_999);
                let opened = self.db.connect(
                    &mut self.rng,
                    NewSession {
                        user: "app",
                        application: if app == "api" { "api" } else { "worker" },
                        client: format!("{ip}:{port}"),
                        state: SessionState::Idle,
                        wait_event: Some("ClientRead"),
                        query: "SELECT 1",
                        role: SessionRole::Pool {
                            pod_uid: uid.clone(),
                        },
                        started: now,
                    },
                );
                if opened.is_none() {
                    break;
                }
            }
        }
    }

    fn db_tick(&mut self, now: SystemTime) {
        let refused_before = self.db.refused_total;
        // Lock waiters go through once nothing holds the rows, then the pool
        // closes the surplus connections.
        let holders = self.db.count(&SessionRole::LockHolder);
        for i in 0..self.db.sessions.len() {
            let s = &mut self.db.sessions[i];
            if s.role == SessionRole::Blocked && holders == 0 && s.close_at.is_none() {
                s.state = SessionState::Idle;
                s.wait_event = Some("ClientRead".into());
                s.xact_start = None;
                s.close_at = Some(now + Duration::from_secs(self.rng.range(1, 6)));
            }
        }
        self.db.sessions.retain(|s| {
            let closing = s.close_at.is_some_and(|c| now >= c);
            let timed_out = s.role == SessionRole::IdleInTransaction
                && now
                    .duration_since(s.query_start)
                    .is_ok_and(|d| d >= Duration::from_secs(900));
            !closing && !timed_out
        });
        self.reconcile_pools(now);
        // Pool traffic: short statements.
        for i in 0..self.db.sessions.len() {
            let (app, is_pool) = {
                let s = &self.db.sessions[i];
                (
                    s.application.clone(),
                    matches!(s.role, SessionRole::Pool { .. }),
                )
            };
            if !is_pool {
                continue;
            }
            let p = if app == "api" { 0.18 } else { 0.3 };
            let active = self.rng.chance(p);
            let queries = if app == "api" {
                API_QUERIES
            } else {
                WORKER_QUERIES
            };
            let q = self.rng.pick(queries).copied().unwrap_or("SELECT 1");
            let s = &mut self.db.sessions[i];
            if active {
                s.state = SessionState::Active;
                s.wait_event = None;
                s.query = q.into();
                s.query_start = now;
                s.xact_start = Some(now);
            } else if s.state == SessionState::Active {
                s.state = SessionState::Idle;
                s.wait_event = Some("ClientRead".into());
                s.xact_start = None;
            }
        }
        self.signals.refused_this_tick = self.db.refused_total - refused_before;
    }

    fn compute_signals(&mut self) {
        let api: Vec<&Pod> = self
            .k8s
            .pods
            .iter()
            .filter(|p| p.app() == "api" && p.ready())
            .collect();
        let bad = api
            .iter()
            .filter(|p| p.container.image == BAD_API_IMAGE)
            .count();
        let bad_fraction = if api.is_empty() {
            0.0
        } else {
            bad as f64 / api.len() as f64
        };
        let blocked = self.db.count(&SessionRole::Blocked);
        let saturated = self.db.full();
        let mut e = 0.12
            + self.rng.uniform(0.0, 0.12)
            + bad_fraction * 11.5
            + (blocked as f64 * 0.045).min(3.0);
        if saturated {
            e += 5.5;
        }
        if api.is_empty() {
            e = 100.0;
        }
        let mut p95 =
            0.15 + self.rng.uniform(0.0, 0.05) + bad_fraction * 1.3 + blocked.min(60) as f64 * 0.02;
        if saturated {
            p95 += 0.5;
        }
        let minute = self.ticks as f64 / 60.0;
        let rps = 118.0
            + 14.0 * (minute / 9.0 * std::f64::consts::TAU).sin()
            + self.rng.uniform(-6.0, 6.0);
        let worker_now = self
            .k8s
            .pods
            .iter()
            .filter(|p| p.app() == "worker" && p.container_running())
            .map(Pod::memory_pct)
            .fold(None, |acc: Option<f64>, v| {
                Some(acc.map_or(v, |a| a.max(v)))
            });
        let worker_peak = match (self.signals.worker_peak, worker_now) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.signals = Signals {
            api_5xx: e.min(100.0),
            api_p95: p95,
            api_rps: rps,
            blocked,
            saturated,
            refused_this_tick: self.signals.refused_this_tick,
            bad_fraction,
            worker_peak,
        };
    }

    fn sample(&mut self) {
        let now = self.now();
        let s = self.signals;
        let api_mem = self
            .k8s
            .pods
            .iter()
            .filter(|p| p.app() == "api" && p.container_running())
            .map(Pod::memory_pct)
            .fold(None, |acc: Option<f64>, v| {
                Some(acc.map_or(v, |a| a.max(v)))
            });
        let running: Vec<f64> = self
            .ecs
            .tasks
            .iter()
            .filter(|t| t.service == "checkout" && t.last_status == TaskStatus::Running)
            .map(|t| t.cpu_pct)
            .collect();
        let cpu = (!running.is_empty()).then(|| running.iter().sum::<f64>() / running.len() as f64);
        let values: [(&str, Option<f64>); 8] = [
            ("orders-db.connections", Some(self.db.sessions.len() as f64)),
            ("api.5xx_rate", Some(round(s.api_5xx, 2))),
            ("api.latency_p95", Some(round(s.api_p95, 3))),
            ("api.requests", Some(round(s.api_rps, 1))),
            ("api.memory", api_mem.map(|v| round(v, 1))),
            (
                "worker.memory",
                s.worker_peak.map(|v| round(v.min(100.0), 1)),
            ),
            ("checkout.running_tasks", Some(running.len() as f64)),
            ("checkout.cpu", cpu.map(|v| round(v, 1))),
        ];
        for (key, value) in values {
            let Some(value) = value else {
                continue;
            };
            if let Some(buf) = self.series.iter_mut().find(|b| b.key == key) {
                buf.points.push_back(Point { time: now, value });
                while buf.points.len() > METRIC_POINTS {
                    buf.points.pop_front();
                }
            }
        }
        self.signals.worker_peak = None;
    }

    pub(super) fn push_log(&mut self, line: LogLine) {
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
        self.series
            .iter()
            .map(|b| MetricSeries {
                key: b.key.into(),
                name: b.name.into(),
                unit: b.unit.into(),
                points: b.points.iter().copied().collect(),
                warning: b.warning,
                critical: b.critical,
                lower_is_worse: b.lower_is_worse,
            })
            .collect()
    }

    pub fn databases(&self) -> Vec<DbSnapshot> {
        vec![self.db.snapshot(self.now())]
    }

    /// Deployments with their pods, then ECS services with their tasks.
    pub fn workloads(&self) -> Vec<Workload> {
        let now = self.now();
        let mut out = Vec::new();
        for d in &self.k8s.deployments {
            let mut pods: Vec<&Pod> = self
                .k8s
                .pods
                .iter()
                .filter(|p| {
                    self.k8s
                        .deployment_of_pod(p)
                        .is_some_and(|pd| pd.meta.uid == d.meta.uid)
                })
                .collect();
            pods.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
            let pod_rows: Vec<Workload> = pods
                .iter()
                .map(|p| self.pod_row(p, &d.meta.name, now))
                .collect();
            let live: Vec<&&Pod> = pods.iter().filter(|p| !p.terminating()).collect();
            let ready = d.status.ready_replicas;
            let desired = d.replicas;
            let rolling = d.status.updated_replicas < desired || d.status.replicas > desired;
            let status = if rolling {
                format!(
                    "Progressing {}/{} updated",
                    d.status.updated_replicas, desired
                )
            } else if ready < desired {
                "Degraded".to_string()
            } else {
                "Available".to_string()
            };
            let mut health = Health::Ok;
            let mut reasons = Vec::new();
            if ready < desired {
                health = rollout_health(ready, desired);
                reasons.push(format!("{ready}/{desired} ready"));
            }
            let bad_pods = pod_rows
                .iter()
                .filter(|r| r.health == Health::Critical)
                .count();
            if bad_pods > 0 {
                health = health.max(Health::Warn);
                let what = pod_rows
                    .iter()
                    .find(|r| r.health == Health::Critical)
                    .and_then(|r| r.reason.clone())
                    .unwrap_or_default();
                let s = if bad_pods == 1 { "" } else { "s" };
                reasons.push(format!("{bad_pods} pod{s} failing ({what})"));
            }
            if rolling {
                reasons.push(format!("rollout to revision {} in progress", d.revision()));
            }
            out.push(Workload {
                id: WorkloadRef::new(WorkloadKind::Deployment, &d.meta.namespace, &d.meta.name),
                status,
                ready,
                desired,
                restarts: live.iter().map(|p| p.container.restart_count).sum(),
                oom_killed: live.iter().any(|p| oom(p)),
                health,
                reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
                owner: None,
                revision: Some(d.revision()),
                created: d.meta.creation,
            });
            out.extend(pod_rows);
        }
        for svc in &self.ecs.services {
            let tasks: Vec<_> = self
                .ecs
                .tasks
                .iter()
                .filter(|t| t.service == svc.name)
                .collect();
            let running = tasks
                .iter()
                .filter(|t| t.last_status == TaskStatus::Running)
                .count() as u32;
            let unhealthy = tasks
                .iter()
                .filter(|t| {
                    t.last_status == TaskStatus::Running && t.health == TaskHealth::Unhealthy
                })
                .count();
            let mut health = Health::Ok;
            let mut reasons = Vec::new();
            if running < svc.desired {
                health = rollout_health(running, svc.desired);
                reasons.push(format!("{running}/{} running", svc.desired));
            }
            if unhealthy > 0 {
                health = health.max(Health::Warn);
                reasons.push(format!("{unhealthy} task(s) UNHEALTHY"));
            }
            if health != Health::Ok {
                if let Some(reason) = tasks
                    .iter()
                    .filter_map(|t| t.stopped.zip(t.stopped_reason.as_ref()))
                    .max_by_key(|(at, _)| *at)
                    .map(|(_, r)| r)
                {
                    reasons.push(format!("last stop: {reason}"));
                }
            }
            let status = if svc.deployments.len() > 1 {
                "ACTIVE (deploying)"
            } else {
                "ACTIVE"
            };
            out.push(Workload {
                id: WorkloadRef::new(WorkloadKind::EcsService, &svc.cluster, &svc.name),
                status: status.into(),
                ready: running,
                desired: svc.desired,
                restarts: 0,
                oom_killed: false,
                health,
                reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
                owner: None,
                revision: Some(svc.task_revision),
                created: svc.deployments.first().map_or(self.start, |d| d.created),
            });
            let mut ordered = tasks.clone();
            ordered.sort_by_key(|t| {
                (
                    t.last_status == TaskStatus::Stopped,
                    std::cmp::Reverse(t.stopped),
                    t.created,
                    t.id.clone(),
                )
            });
            for t in ordered {
                let (health, reason) = match (t.last_status, t.health) {
                    (TaskStatus::Stopped, _) => (Health::Unknown, t.stopped_reason.clone()),
                    (TaskStatus::Running, TaskHealth::Unhealthy) => (
                        Health::Critical,
                        Some(format!(
                            "failing ELB health checks (target-group {}-tg)",
                            svc.name
                        )),
                    ),
                    (TaskStatus::Running, TaskHealth::Healthy) => (Health::Ok, None),
                    (TaskStatus::Running, TaskHealth::Unknown) => {
                        (Health::Unknown, Some("health check grace period".into()))
                    }
                    (s, _) => (Health::Warn, Some(format!("starting ({})", s.as_str()))),
                };
                out.push(Workload {
                    id: WorkloadRef::new(WorkloadKind::EcsTask, &t.cluster, &t.id),
                    status: if t.last_status == TaskStatus::Running {
                        format!("RUNNING {}", t.health.as_str())
                    } else {
                        t.last_status.as_str().into()
                    },
                    ready: u32::from(
                        t.last_status == TaskStatus::Running && t.health == TaskHealth::Healthy,
                    ),
                    desired: 1,
                    restarts: 0,
                    oom_killed: false,
                    health,
                    reason,
                    owner: Some(svc.name.clone()),
                    revision: Some(t.task_revision),
                    created: t.created,
                });
            }
        }
        out
    }

    fn pod_row(&self, p: &Pod, deployment: &str, now: SystemTime) -> Workload {
        let recent = p.restarts_within(now, TEN_MINUTES);
        let last = p
            .container
            .last_termination
            .as_ref()
            .map(|t| t.reason.as_str());
        let status = p.status_text();
        let (health, reason) = if p.terminating() {
            (Health::Ok, Some("terminating".to_string()))
        } else if matches!(&p.container.state, ContainerState::Terminated { .. })
            || status == "CrashLoopBackOff"
        {
            let why = last.unwrap_or("Error");
            (
                Health::Critical,
                Some(format!(
                    "{why} (exit 137), back-off restarting; {recent} restarts in 10m"
                )),
            )
        } else if recent > 3 {
            (
                Health::Critical,
                Some(format!(
                    "{recent} restarts in 10m (last: {})",
                    last.unwrap_or("Error")
                )),
            )
        } else if !p.ready() {
            (Health::Warn, Some(format!("not ready ({status})")))
        } else if recent > 0 {
            (
                Health::Warn,
                Some(format!(
                    "{recent} restarts in 10m (last: {})",
                    last.unwrap_or("Error")
                )),
            )
        } else {
            (Health::Ok, None)
        };
        Workload {
            id: WorkloadRef::new(WorkloadKind::Pod, &p.meta.namespace, &p.meta.name),
            status,
            ready: u32::from(p.ready()),
            desired: 1,
            restarts: p.container.restart_count,
            oom_killed: oom(p),
            health,
            reason,
            owner: Some(deployment.to_string()),
            revision: self.k8s.replica_set_of_pod(p).map(|rs| rs.revision()),
            created: p.meta.creation,
        }
    }

    /// Run an action the way the real API would.
    pub fn apply(&mut self, request: &Change) -> Result<ChangeOutcome, SourceError> {
        let now = self.now();
        match request {
            Change::Scale { target, from, to } => match target.kind {
                WorkloadKind::Deployment => {
                    self.check_scope(target, NAMESPACE)?;
                    self.k8s
                        .deployment(&target.name)
                        .ok_or_else(|| not_found(target))?;
                    let rv = self.k8s.next_rv();
                    let d = self
                        .k8s
                        .deployment_mut(&target.name)
                        .ok_or_else(|| not_found(target))?;
                    let was = d.replicas;
                    d.replicas = *to;
                    d.meta.generation += 1;
                    d.meta.resource_version = rv;
                    Ok(scaled(target, was, *from, *to))
                }
                WorkloadKind::EcsService => {
                    self.check_scope(target, CLUSTER)?;
                    let svc = self
                        .ecs
                        .service_mut(&target.name)
                        .ok_or_else(|| not_found(target))?;
                    let was = svc.desired;
                    svc.desired = *to;
                    let text = format!(
                        "(service {}) desired count changed from {was} to {to}.",
                        svc.name
                    );
                    svc.events.push((now, text));
                    Ok(scaled(target, was, *from, *to))
                }
                _ => Err(SourceError::Blocked(format!(
                    "cannot scale a {}",
                    target.kind.noun()
                ))),
            },
            Change::RolloutUndo {
                target,
                to_revision,
            } if target.kind == WorkloadKind::EcsService => {
                self.check_scope(target, CLUSTER)?;
                let current = self
                    .ecs
                    .service(&target.name)
                    .map(|s| s.task_revision)
                    .ok_or_else(|| not_found(target))?;
                let to = match to_revision {
                    Some(r) if *r == current => {
                        return Err(SourceError::Blocked(format!(
                            "{target} already runs revision {r}"
                        )));
                    }
                    Some(r) => *r,
                    None if current > 1 => current - 1,
                    None => {
                        return Err(SourceError::Blocked(format!(
                            "{target} has no revision before {current}"
                        )));
                    }
                };
                let id = self
                    .ecs
                    .deploy(&mut self.rng, &target.name, Some(to), now)
                    .ok_or_else(|| not_found(target))?;
                Ok(ChangeOutcome {
                    summary: format!("rolled {target} back to revision {to}"),
                    details: vec![
                        format!("was revision {current}"),
                        format!("deployment {id}"),
                    ],
                })
            }
            Change::RolloutUndo {
                target,
                to_revision,
            } => {
                self.expect_kind(target, WorkloadKind::Deployment)?;
                self.check_scope(target, NAMESPACE)?;
                let d = self
                    .k8s
                    .deployment(&target.name)
                    .ok_or_else(|| not_found(target))?;
                let current = d.revision();
                let mut history: Vec<(u64, PodTemplate)> = self
                    .k8s
                    .replica_sets_of(&d.meta.uid)
                    .map(|rs| (rs.revision(), rs.template.clone()))
                    .collect();
                history.sort_by_key(|(r, _)| *r);
                let (rev, template) = match to_revision {
                    Some(r) => history
                        .iter()
                        .find(|(h, _)| h == r)
                        .cloned()
                        .ok_or_else(|| {
                            SourceError::NotFound(format!("revision {r} of {target}"))
                        })?,
                    None => history
                        .iter()
                        .rev()
                        .find(|(h, _)| *h < current)
                        .cloned()
                        .ok_or_else(|| {
                            SourceError::Other(format!(
                                "{target} has no previous revision to roll back to"
                            ))
                        })?,
                };
                if rev == current {
                    return Err(SourceError::Other(format!(
                        "{target} is already at revision {rev}"
                    )));
                }
                let image = template.image.clone();
                let rv = self.k8s.next_rv();
                let d = self
                    .k8s
                    .deployment_mut(&target.name)
                    .ok_or_else(|| not_found(target))?;
                d.template = template;
                d.meta.generation += 1;
                d.meta.resource_version = rv;
                Ok(ChangeOutcome {
                    summary: format!(
                        "rolled back {target} to revision {rev} (becomes revision {})",
                        current + 1
                    ),
                    details: vec![format!("template from revision {rev}: image {image}")],
                })
            }
            Change::RolloutRestart { target } => {
                self.expect_kind(target, WorkloadKind::Deployment)?;
                self.check_scope(target, NAMESPACE)?;
                self.k8s
                    .deployment(&target.name)
                    .ok_or_else(|| not_found(target))?;
                let rv = self.k8s.next_rv();
                let stamp = humantime::format_rfc3339_seconds(now).to_string();
                let d = self
                    .k8s
                    .deployment_mut(&target.name)
                    .ok_or_else(|| not_found(target))?;
                d.template
                    .annotations
                    .insert(RESTARTED_AT_ANNOTATION.into(), stamp.clone());
                d.meta.generation += 1;
                d.meta.resource_version = rv;
                Ok(ChangeOutcome {
                    summary: format!("restarted {target}"),
                    details: vec![format!("{RESTARTED_AT_ANNOTATION}={stamp}")],
                })
            }
            Change::DeletePod { target } => {
                self.expect_kind(target, WorkloadKind::Pod)?;
                self.check_scope(target, NAMESPACE)?;
                let i = self
                    .k8s
                    .pods
                    .iter()
                    .position(|p| p.meta.name == target.name && !p.terminating())
                    .ok_or_else(|| not_found(target))?;
                self.k8s.delete_pod_at(i, now);
                Ok(ChangeOutcome {
                    summary: format!("deleted {target}"),
                    details: vec!["its ReplicaSet will create a replacement".into()],
                })
            }
            Change::StopTask { target } => {
                self.expect_kind(target, WorkloadKind::EcsTask)?;
                self.check_scope(target, CLUSTER)?;
                let i = self
                    .ecs
                    .tasks
                    .iter()
                    .position(|t| t.id == target.name && t.active())
                    .ok_or_else(|| not_found(target))?;
                self.ecs
                    .stop(i, now, "Task stopped by opsdeck", "UserInitiated");
                Ok(ChangeOutcome {
                    summary: format!("stopped {target}"),
                    details: vec!["the service scheduler will start a replacement".into()],
                })
            }
            Change::ForceNewDeployment { target } => {
                self.expect_kind(target, WorkloadKind::EcsService)?;
                self.check_scope(target, CLUSTER)?;
                let id = self
                    .ecs
                    .force_new_deployment(&mut self.rng, &target.name, now)
                    .ok_or_else(|| not_found(target))?;
                Ok(ChangeOutcome {
                    summary: format!("started a new deployment of {target}"),
                    details: vec![format!("deployment {id}")],
                })
            }
            Change::CancelQuery { database, session }
            | Change::TerminateSession { database, session } => {
                if *database != self.db.name {
                    return Err(SourceError::NotFound(format!("database {database}")));
                }
                let cancel = matches!(request, Change::CancelQuery { .. });
                let found =
                    self.db.sessions.iter().position(|x| {
                        x.pid == session.pid && x.backend_start == session.backend_start
                    });
                let Some(i) = found else {
                    return Err(SourceError::NotFound(format!(
                        "pid {} on {database}: no such session (it ended, or the pid now belongs to another session)",
                        session.pid
                    )));
                };
                if cancel {
                    // The query ends; the connection stays, idle.
                    let s = &mut self.db.sessions[i];
                    s.state = SessionState::Idle;
                    s.wait_event = Some("ClientRead".into());
                    s.query_start = now;
                    Ok(ChangeOutcome {
                        summary: format!(
                            "cancelled the query of pid {} on {database}",
                            session.pid
                        ),
                        details: vec![format!("pid {}: cancelled", session.pid)],
                    })
                } else {
                    self.db.sessions.remove(i);
                    Ok(ChangeOutcome {
                        summary: format!("terminated pid {} on {database}", session.pid),
                        details: vec![format!("pid {}: terminated", session.pid)],
                    })
                }
            }
            Change::TerminateQueries {
                database,
                rule,
                sessions,
            } => {
                if *database != self.db.name {
                    return Err(SourceError::NotFound(format!("database {database}")));
                }
                let snapshot = self.db.snapshot(now);
                let mut details = Vec::new();
                let mut done = 0;
                for target in sessions {
                    let Some(s) = snapshot.sessions.iter().find(|s| s.pid == target.pid) else {
                        details.push(format!("pid {}: skipped: no longer connected", target.pid));
                        continue;
                    };
                    if s.backend_start != target.backend_start {
                        details.push(format!(
                            "pid {}: skipped: pid now belongs to another session (backend started {})",
                            target.pid,
                            humantime::format_rfc3339_seconds(s.backend_start)
                        ));
                        continue;
                    }
                    if !rule.matches(s) {
                        details.push(format!(
                            "pid {}: skipped: no longer matches {rule}",
                            target.pid
                        ));
                        continue;
                    }
                    self.db.sessions.retain(|x| {
                        !(x.pid == target.pid && x.backend_start == target.backend_start)
                    });
                    done += 1;
                    details.push(format!(
                        "pid {}: terminated ({} {})",
                        target.pid, s.user, s.application
                    ));
                }
                Ok(ChangeOutcome {
                    summary: format!(
                        "terminated {done} of {} sessions on {database}",
                        sessions.len()
                    ),
                    details,
                })
            }
        }
    }

    fn check_scope(&self, target: &WorkloadRef, scope: &str) -> Result<(), SourceError> {
        if target.scope == scope {
            Ok(())
        } else {
            Err(not_found(target))
        }
    }

    fn expect_kind(&self, target: &WorkloadRef, kind: WorkloadKind) -> Result<(), SourceError> {
        if target.kind == kind {
            Ok(())
        } else {
            Err(SourceError::Blocked(format!(
                "this action needs a {}, not a {}",
                kind.noun(),
                target.kind.noun()
            )))
        }
    }
}

fn oom(p: &Pod) -> bool {
    p.container
        .last_termination
        .as_ref()
        .is_some_and(|t| t.reason == "OOMKilled")
}

fn not_found(target: &WorkloadRef) -> SourceError {
    SourceError::NotFound(target.to_string())
}

fn scaled(target: &WorkloadRef, was: u32, from: u32, to: u32) -> ChangeOutcome {
    let mut details = Vec::new();
    if was != from {
        details.push(format!("it had {was} replicas when applied (not {from})"));
    }
    ChangeOutcome {
        summary: format!("scaled {target} {was} -> {to}"),
        details,
    }
}

fn series(
    key: &'static str,
    name: &'static str,
    unit: &'static str,
    warning: Option<f64>,
    critical: Option<f64>,
    lower_is_worse: bool,
) -> SeriesBuf {
    SeriesBuf {
        key,
        name,
        unit,
        warning,
        critical,
        lower_is_worse,
        points: VecDeque::new(),
    }
}

fn round(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}
