//! The database's behaviour: the apps' connection pools, their traffic,
//! lock waiters that go through once the rows are free, idle-in-transaction
//! sessions timing out.

use std::time::{Duration, SystemTime};

use crate::domain::SessionState;
use crate::sim::pg::{API_QUERIES, NewSession, SessionRole, WORKER_QUERIES};

use super::World;

impl World {
    /// Any pod IP of an app (for session client addresses).
    pub(super) fn pod_ip(&mut self, app: &str) -> String {
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
    pub(super) fn reconcile_pools(&mut self, now: SystemTime) {
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

    pub(super) fn db_tick(&mut self, now: SystemTime) {
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
}
