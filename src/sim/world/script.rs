//! The scenarios' timelines: what happens to the estate, second by second.

use std::time::{Duration, SystemTime};

use crate::domain::SessionState;
use crate::sim::Scenario;
use crate::sim::ecs::TaskStatus;
use crate::sim::pg::{NewSession, SessionRole};

use super::World;
use super::signals::BAD_API_IMAGE;

/// A long-running statement of the db-connections scenario: when it starts
/// (seconds), user, application, client, wait event, query, role.
type LongQuery = (
    u64,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    SessionRole,
);

impl World {
    /// The scenario's timeline.
    pub(super) fn script(&mut self, now: SystemTime) {
        match self.scenario {
            Scenario::DbConnections => self.db_connections_script(now),
            Scenario::OomCrashloop => {
                let ramp = ((self.ticks as f64 - 30.0) / 120.0).clamp(0.0, 1.0);
                self.worker_demand = 300.0 + 600.0 * ramp + self.rng.uniform(-10.0, 10.0);
            }
            Scenario::BadDeploy => {
                if self.ticks == 120 {
                    let rv = self.k8s.next_rv();
                    if let Some(d) = self.k8s.deployment_mut("api") {
                        d.template.image = BAD_API_IMAGE.into();
                        d.meta.generation += 1;
                        d.meta.resource_version = rv;
                    }
                }
            }
            Scenario::EcsUnhealthy => {
                if self.ticks == 90 {
                    self.ecs_config_goes_stale(now);
                }
            }
        }
    }

    /// Long statements take row locks; a worker leaves two transactions
    /// open; api updates then queue behind the locks, one every 7 to 12
    /// seconds, while any lock holder is connected.
    fn db_connections_script(&mut self, now: SystemTime) {
        let t = self.ticks;
        for (at, user, app, client, wait, query, role) in long_queries() {
            if t == at {
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
                        started: now,
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

    /// The payments service moves: every running checkout task degrades
    /// some time in the next four minutes.
    fn ecs_config_goes_stale(&mut self, now: SystemTime) {
        self.ecs.config_epoch += 1;
        for i in 0..self.ecs.tasks.len() {
            if self.ecs.tasks[i].last_status == TaskStatus::Running {
                let after = self.rng.range(20, 240);
                self.ecs.tasks[i].degrade_at = Some(now + Duration::from_secs(after));
            }
        }
    }
}

/// The archiver, a pending-orders lock and a report, started 25, 40 and 55
/// seconds in.
fn long_queries() -> [LongQuery; 3] {
    let archiver = "UPDATE orders SET archived_at = now() WHERE created_at < now() - interval '2 years' AND status IN ('delivered', 'cancelled')";
    let pending = "SELECT o.id, o.status, o.total_cents FROM orders o WHERE o.status = 'pending' ORDER BY o.created_at FOR UPDATE";
    let report = "SELECT c.region, date_trunc('day', o.created_at) AS day, count(*), sum(i.price_cents * i.quantity) FROM orders o JOIN order_items i ON i.order_id = o.id JOIN customers c ON c.id = o.customer_id GROUP BY 1, 2 ORDER BY 1, 2";
    [
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
    ]
}
