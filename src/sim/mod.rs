//! A deterministic simulated estate: a Kubernetes namespace, an ECS service
//! and a PostgreSQL database, with four scripted incidents.
//!
//! [`World`] is a plain state machine stepped in fixed one-second ticks: the
//! same scenario, seed, steps and actions always give the same state. The
//! [`backend`] module serves it through the [`crate::source`] traits, stepping
//! it lazily to the wall clock; [`kube_api`] serves its Kubernetes objects
//! as a Kubernetes API server, and its Kubernetes workload rows are those
//! objects converted by [`crate::kube::convert`], as a real cluster's are.

pub mod backend;
mod chatter;
pub mod ecs;
pub mod k8s;
pub mod kube_api;
pub mod pg;
pub mod rng;
mod world;

pub use backend::{SimEstate, demo_backends};
pub use world::{LOG_CAPACITY, METRIC_POINTS, SAMPLE_EVERY, World};

use std::fmt;

/// One of the scripted incidents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    DbConnections,
    OomCrashloop,
    BadDeploy,
    EcsUnhealthy,
}

impl Scenario {
    pub const ALL: [Scenario; 4] = [
        Scenario::DbConnections,
        Scenario::OomCrashloop,
        Scenario::BadDeploy,
        Scenario::EcsUnhealthy,
    ];

    /// The scenario's stable name (`db-connections`), as on the command line
    /// and in runbooks.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::DbConnections => "db-connections",
            Scenario::OomCrashloop => "oom-crashloop",
            Scenario::BadDeploy => "bad-deploy",
            Scenario::EcsUnhealthy => "ecs-unhealthy",
        }
    }

    /// Every scenario's name, for checking runbooks that name one.
    pub fn names() -> Vec<&'static str> {
        Scenario::ALL.iter().map(|s| s.name()).collect()
    }

    pub fn from_name(name: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.name() == name)
    }

    pub fn title(self) -> &'static str {
        match self {
            Scenario::DbConnections => "Database connection exhaustion",
            Scenario::OomCrashloop => "Worker pods OOMKilled in a crash loop",
            Scenario::BadDeploy => "Bad deploy of the api",
            Scenario::EcsUnhealthy => "ECS checkout tasks failing health checks",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Scenario::DbConnections => {
                "Long-running queries on orders-db hold row locks; api requests pile up behind them \
                 until connections approach max_connections, and the api starts failing with pool \
                 timeouts and 'remaining connection slots are reserved'."
            }
            Scenario::OomCrashloop => {
                "The job backlog grows until the two worker pods exceed their 512Mi memory limit; \
                 they are OOMKilled and restart in CrashLoopBackOff, which pushes more load onto \
                 the survivors."
            }
            Scenario::BadDeploy => {
                "About two minutes in, api 1.9.0 rolls out. Its pods pass readiness but a good \
                 share of requests fail with 500s and p95 latency passes one second."
            }
            Scenario::EcsUnhealthy => {
                "The payments service moved; the checkout service's current ECS deployment still \
                 points at the old endpoint, so its tasks fail ELB health checks, get stopped, and \
                 replacements from the same deployment fail too."
            }
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Scenario::ALL {
            assert_eq!(Scenario::from_name(s.name()), Some(s));
            assert!(!s.title().is_empty() && !s.description().is_empty());
        }
        assert_eq!(Scenario::from_name("nope"), None);
    }
}
