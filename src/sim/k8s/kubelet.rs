//! The kubelet: containers start, turn ready, grow in memory, are
//! OOM-killed and restart with backoff; deleted pods terminate and go.

use std::time::{Duration, SystemTime};

use crate::sim::rng::Rng;

use super::events::EventText;
use super::journal::Object;
use super::memory::{MemoryModel, base_memory_for};
use super::objects::{ContainerState, Pod, PodPhase, Termination};
use super::state::K8sState;

/// Crash-loop backoff: 10 s doubling, capped at five minutes, as the kubelet does.
const BACKOFF_BASE: u64 = 10;
const BACKOFF_CAP: u64 = 300;
/// A container that runs this long resets its backoff.
const BACKOFF_RESET: Duration = Duration::from_secs(600);
/// How long a deleted pod stays Terminating.
const TERMINATION_GRACE: Duration = Duration::from_secs(3);
/// Restarts remembered (for "restarts in the last 10 minutes").
const RESTART_MEMORY: Duration = Duration::from_secs(3600);

impl K8sState {
    /// Mark a pod for deletion (it goes Terminating, then disappears).
    pub fn delete_pod_at(&mut self, i: usize, now: SystemTime) {
        let rv = self.next_rv();
        let mut killed = None;
        if let Some(p) = self.pods.get_mut(i) {
            if p.meta.deletion.is_none() {
                p.meta.deletion = Some(now);
                p.meta.resource_version = rv;
                p.container.ready = false;
                let mut r = p.meta.involved("Pod", "v1");
                r.field_path = Some(format!("spec.containers{{{}}}", p.container.name));
                killed = Some((r, p.container.name.clone(), p.node.clone()));
            }
        }
        if let Some((r, c, node)) = killed {
            self.emit_event(
                r,
                EventText::normal("Killing", "kubelet", format!("Stopping container {c}"))
                    .on(&node),
                now,
            );
        }
    }

    /// The kubelet: start containers, flip readiness, grow memory, OOM-kill
    /// and restart with backoff, remove terminated pods.
    pub fn run_kubelet(&mut self, rng: &mut Rng, now: SystemTime, model: MemoryModel) {
        self.remove_terminated(now);
        let mut events: Vec<(usize, EventText)> = Vec::new();
        let running_workers = self
            .pods
            .iter()
            .filter(|p| p.app() == "worker" && p.container_running())
            .count()
            .max(1);
        for i in 0..self.pods.len() {
            let p = &mut self.pods[i];
            if p.terminating() {
                p.memory_mib *= 0.5;
                continue;
            }
            let mut texts = Vec::new();
            let touched = match p.container.state.clone() {
                ContainerState::Waiting { reason } => {
                    start_container(p, &reason, rng, now, &mut texts)
                }
                ContainerState::Running { started } => {
                    let workers = running_workers as f64;
                    run_container(p, started, rng, now, model, workers, &mut texts)
                }
                ContainerState::Terminated { finished, .. } => {
                    enter_backoff(p, finished, now, &mut texts)
                }
            };
            p.restart_times
                .retain(|t| now.duration_since(*t).map_or(true, |d| d <= RESTART_MEMORY));
            events.extend(texts.into_iter().map(|t| (i, t)));
            if touched {
                let rv = self.next_rv();
                self.pods[i].meta.resource_version = rv;
            }
        }
        for (i, text) in events {
            let p = &self.pods[i];
            let mut r = p.meta.involved("Pod", "v1");
            r.field_path = Some(format!("spec.containers{{{}}}", p.container.name));
            let node = p.node.clone();
            self.emit_event(r, text.on(&node), now);
        }
    }

    /// Pods whose termination grace period is over disappear.
    fn remove_terminated(&mut self, now: SystemTime) {
        let (keep, gone): (Vec<Pod>, Vec<Pod>) = std::mem::take(&mut self.pods)
            .into_iter()
            .partition(|p| p.meta.deletion.is_none_or(|d| now < d + TERMINATION_GRACE));
        self.pods = keep;
        for p in gone {
            self.note_removed(Object::Pod(Box::new(p)));
        }
    }
}

/// A waiting container starts once it is due (after its backoff when
/// crash-looping). Whether the pod changed.
fn start_container(
    p: &mut Pod,
    reason: &str,
    rng: &mut Rng,
    now: SystemTime,
    events: &mut Vec<EventText>,
) -> bool {
    let due = if reason == "CrashLoopBackOff" {
        p.backoff_until.unwrap_or(now)
    } else {
        p.start_at
    };
    if now < due {
        return false;
    }
    let c = p.container.name.clone();
    if reason != "CrashLoopBackOff" {
        events.push(EventText::normal(
            "Pulled",
            "kubelet",
            format!(
                "Container image \"{}\" already present on machine",
                p.container.image
            ),
        ));
    }
    events.push(EventText::normal(
        "Created",
        "kubelet",
        format!("Created container: {c}"),
    ));
    events.push(EventText::normal(
        "Started",
        "kubelet",
        format!("Started container {c}"),
    ));
    p.phase = PodPhase::Running;
    p.container.state = ContainerState::Running { started: now };
    p.ready_at = Some(now + Duration::from_secs(rng.range(2, 5)));
    p.memory_mib = base_memory_for(p.app(), p.memory_limit_mib) * rng.uniform(0.9, 1.0);
    p.backoff_until = None;
    true
}

/// A running container turns ready, forgets its crash streak after a
/// while, and moves its memory toward its target; past the limit it is
/// OOMKilled. Whether the pod changed.
fn run_container(
    p: &mut Pod,
    started: SystemTime,
    rng: &mut Rng,
    now: SystemTime,
    model: MemoryModel,
    running_workers: f64,
    events: &mut Vec<EventText>,
) -> bool {
    let mut touched = false;
    if !p.container.ready && p.ready_at.is_some_and(|r| now >= r) {
        p.container.ready = true;
        touched = true;
    }
    if p.crash_streak > 0
        && now
            .duration_since(started)
            .is_ok_and(|d| d >= BACKOFF_RESET)
    {
        p.crash_streak = 0;
    }
    let target = match p.app() {
        "worker" => 170.0 + model.worker_demand_mib / running_workers,
        app => base_memory_for(app, p.memory_limit_mib),
    };
    let noise = rng.uniform(-3.0, 3.0);
    p.memory_mib = (p.memory_mib + (target - p.memory_mib) * 0.06 + noise).max(20.0);
    if p.memory_mib >= p.memory_limit_mib as f64 {
        oom_kill(p, now, events);
        touched = true;
    }
    touched
}

/// OOMKilled: exit 137, restart after the crash-loop backoff.
fn oom_kill(p: &mut Pod, now: SystemTime, events: &mut Vec<EventText>) {
    p.crash_streak += 1;
    p.container.restart_count += 1;
    p.restart_times.push(now);
    p.container.last_termination = Some(Termination {
        reason: "OOMKilled".into(),
        exit_code: 137,
        finished: now,
    });
    p.container.state = ContainerState::Terminated {
        reason: "OOMKilled".into(),
        exit_code: 137,
        finished: now,
    };
    p.container.ready = false;
    p.memory_mib = 0.0;
    let backoff = (BACKOFF_BASE << (p.crash_streak - 1).min(5)).min(BACKOFF_CAP);
    p.backoff_until = Some(now + Duration::from_secs(backoff));
    events.push(EventText::warning(
        "OOMKilled",
        "kubelet",
        format!(
            "Container {} was OOMKilled (exit code 137): memory limit {}Mi exceeded",
            p.container.name, p.memory_limit_mib
        ),
    ));
}

/// A terminated container shows as OOMKilled for a moment, then waits in
/// CrashLoopBackOff. Whether the pod changed.
fn enter_backoff(
    p: &mut Pod,
    finished: SystemTime,
    now: SystemTime,
    events: &mut Vec<EventText>,
) -> bool {
    if !now
        .duration_since(finished)
        .is_ok_and(|d| d >= Duration::from_secs(2))
    {
        return false;
    }
    p.container.state = ContainerState::Waiting {
        reason: "CrashLoopBackOff".into(),
    };
    events.push(EventText::warning(
        "BackOff",
        "kubelet",
        format!(
            "Back-off restarting failed container {} in pod {}_{}({})",
            p.container.name, p.meta.name, p.meta.namespace, p.meta.uid
        ),
    ));
    true
}
