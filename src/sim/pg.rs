//! The simulated PostgreSQL server: sessions as pg_stat_activity shows them.

use std::time::{Duration, SystemTime};

use crate::domain::{DbSession, DbSnapshot, SessionState};

use super::rng::Rng;

/// What a session is, for the simulation (not visible through the API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionRole {
    /// A pooled connection of a pod (by pod uid).
    Pool { pod_uid: String },
    /// A long statement holding row locks on `orders`.
    LockHolder,
    /// A long report query (no locks that matter).
    Report,
    /// An api connection waiting on a row lock.
    Blocked,
    /// A transaction left open by a client.
    IdleInTransaction,
    /// The monitoring agent.
    Monitor,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PgSession {
    pub pid: i32,
    pub backend_start: SystemTime,
    pub user: String,
    pub application: String,
    pub client: String,
    pub state: SessionState,
    pub wait_event: Option<String>,
    pub xact_start: Option<SystemTime>,
    pub query_start: SystemTime,
    pub query: String,
    pub role: SessionRole,
    /// When a finishing session disconnects.
    pub close_at: Option<SystemTime>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PgDatabase {
    pub name: String,
    pub max_connections: u32,
    pub superuser_reserved: u32,
    pub sessions: Vec<PgSession>,
    pub next_pid: i32,
    /// Connection attempts refused because the slots were exhausted.
    pub refused_total: u64,
}

/// Everything needed to open a session.
pub struct NewSession<'a> {
    pub user: &'a str,
    pub application: &'a str,
    pub client: String,
    pub state: SessionState,
    pub wait_event: Option<&'a str>,
    pub query: &'a str,
    pub role: SessionRole,
    pub started: SystemTime,
}

impl PgDatabase {
    pub fn new(name: &str, max_connections: u32) -> Self {
        Self {
            name: name.into(),
            max_connections,
            superuser_reserved: 3,
            sessions: Vec::new(),
            next_pid: 4100,
            refused_total: 0,
        }
    }

    /// Slots ordinary users can take (max_connections - superuser_reserved_connections).
    pub fn user_slots(&self) -> usize {
        self.max_connections.saturating_sub(self.superuser_reserved) as usize
    }

    pub fn full(&self) -> bool {
        self.sessions.len() >= self.user_slots()
    }

    /// Open a session, or refuse with "remaining connection slots are reserved".
    pub fn connect(&mut self, rng: &mut Rng, s: NewSession<'_>) -> Option<i32> {
        if self.full() {
            self.refused_total += 1;
            return None;
        }
        self.next_pid += rng.range(1, 60) as i32;
        if self.next_pid > 64_000 {
            self.next_pid = 1200;
        }
        let pid = self.next_pid;
        let in_tx = matches!(
            s.state,
            SessionState::Active | SessionState::IdleInTransaction
        );
        self.sessions.push(PgSession {
            pid,
            backend_start: s.started,
            user: s.user.into(),
            application: s.application.into(),
            client: s.client,
            state: s.state,
            wait_event: s.wait_event.map(str::to_string),
            xact_start: in_tx.then_some(s.started),
            query_start: s.started,
            query: s.query.into(),
            role: s.role,
            close_at: None,
        });
        Some(pid)
    }

    pub fn snapshot(&self, now: SystemTime) -> DbSnapshot {
        // What pg_blocking_pids reports: a session waiting on a lock is
        // blocked by the sessions holding the rows (that are not waiting themselves).
        let holders: Vec<i32> = self
            .sessions
            .iter()
            .filter(|s| {
                s.role == SessionRole::LockHolder
                    && !s
                        .wait_event
                        .as_deref()
                        .is_some_and(|w| w.starts_with("Lock"))
            })
            .map(|s| s.pid)
            .collect();
        DbSnapshot {
            name: self.name.clone(),
            max_connections: self.max_connections,
            sessions: self
                .sessions
                .iter()
                .map(|s| DbSession {
                    blocked_by: if s
                        .wait_event
                        .as_deref()
                        .is_some_and(|w| w.starts_with("Lock"))
                    {
                        holders.iter().copied().filter(|&p| p != s.pid).collect()
                    } else {
                        Vec::new()
                    },
                    pid: s.pid,
                    backend_start: s.backend_start,
                    user: s.user.clone(),
                    application: s.application.clone(),
                    client: s.client.clone(),
                    state: s.state,
                    wait_event: s.wait_event.clone(),
                    running: now.duration_since(s.query_start).unwrap_or(Duration::ZERO),
                    query: s.query.clone(),
                })
                .collect(),
            unreadable: 0,
            other_databases: 0,
        }
    }

    pub fn count(&self, role: &SessionRole) -> usize {
        self.sessions.iter().filter(|s| &s.role == role).count()
    }
}

/// Short queries the pools run.
pub const API_QUERIES: &[&str] = &[
    "SELECT id, status, total_cents FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 20",
    "SELECT * FROM order_items WHERE order_id = $1",
    "INSERT INTO orders (customer_id, status, total_cents) VALUES ($1, 'pending', $2) RETURNING id",
    "UPDATE orders SET status = $1, updated_at = now() WHERE id = $2",
    "SELECT sku, price_cents, stock FROM products WHERE sku = ANY($1)",
];

pub const WORKER_QUERIES: &[&str] = &[
    "SELECT id, payload FROM jobs WHERE state = 'queued' ORDER BY priority, id LIMIT 50 FOR UPDATE SKIP LOCKED",
    "UPDATE jobs SET state = 'done', finished_at = now() WHERE id = ANY($1)",
    "INSERT INTO shipments (order_id, carrier, label_url) VALUES ($1, $2, $3)",
];
