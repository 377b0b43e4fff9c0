//! ECS services and tasks through aws-sdk-ecs: a [`WorkloadSource`] that
//! lists them as workload rows (with their load balancer target health from
//! ELBv2) and an [`ChangeExecutor`] that scales, force-deploys, stops tasks
//! and rolls a service back to its previous task definition revision.
//!
//! The rows have the same shape as the simulator's (`src/sim/world.rs`):
//! a service row (`ACTIVE`, running/desired) followed by its tasks
//! (`RUNNING HEALTHY`, `STOPPED` with the stopped reason).

use std::time::SystemTime;

use async_trait::async_trait;
use aws_sdk_ecs::Client;
use aws_sdk_ecs::primitives::DateTime;
use aws_sdk_ecs::types::{
    DeploymentRolloutState, DesiredStatus, HealthStatus, Service, ServiceEvent, SortOrder, Task,
    TaskDefinitionStatus,
};
use aws_sdk_elasticloadbalancingv2 as elbv2;
use elbv2::types::TargetHealthStateEnum;

use super::error::map_sdk_error;
use super::sdk::{AwsOptions, sdk_config};
use crate::domain::{
    Change, ChangeOutcome, Health, Workload, WorkloadKind, WorkloadRef, rollout_health,
};
use crate::source::{ChangeExecutor, SourceError, WorkloadSource};

/// ListServices/ListTasks page size (the API's maximum).
const LIST_PAGE: i32 = 100;
/// DescribeServices takes at most 10 services per call.
const DESCRIBE_SERVICES_BATCH: usize = 10;
/// DescribeTasks takes at most 100 tasks per call.
const DESCRIBE_TASKS_BATCH: usize = 100;
/// The reason StopTask records (shown by the console and `aws ecs describe-tasks`).
pub const STOP_REASON: &str = "stopped by opsdeck";

/// Open the ECS workload source and executor for `clusters` (every cluster
/// of the account and region when empty).
pub async fn ecs_backends(opts: &AwsOptions, clusters: Vec<String>) -> (EcsWorkloads, EcsExecutor) {
    let config = sdk_config(opts).await;
    let client = Client::new(&config);
    let region = config
        .region()
        .map_or_else(|| "no-region".to_string(), ToString::to_string);
    (
        EcsWorkloads::new(client.clone(), &region, clusters)
            .with_target_health(elbv2::Client::new(&config)),
        EcsExecutor::new(client),
    )
}

/// ECS services and tasks as workload rows.
#[derive(Debug, Clone)]
pub struct EcsWorkloads {
    client: Client,
    label: String,
    clusters: Vec<String>,
    elb: Option<elbv2::Client>,
}

impl EcsWorkloads {
    /// Rows for `clusters` (names or ARNs); every cluster (ListClusters) when empty.
    pub fn new(client: Client, region: &str, clusters: Vec<String>) -> Self {
        Self {
            client,
            label: format!("ecs:{region}"),
            clusters,
            elb: None,
        }
    }

    /// Also read the target health (ELBv2 DescribeTargetHealth) of each
    /// service's load balancer target groups.
    pub fn with_target_health(mut self, elb: elbv2::Client) -> Self {
        self.elb = Some(elb);
        self
    }

    /// The target health of a service's target groups, summed over them.
    pub async fn target_health(&self, svc: &Service) -> Result<Option<TargetHealth>, SourceError> {
        let Some(elb) = &self.elb else {
            return Ok(None);
        };
        let groups: Vec<&str> = svc
            .load_balancers()
            .iter()
            .filter_map(|lb| lb.target_group_arn())
            .collect();
        if groups.is_empty() {
            return Ok(None);
        }
        let mut sum = TargetHealth::default();
        for arn in groups {
            let out = elb
                .describe_target_health()
                .target_group_arn(arn)
                .send()
                .await
                .map_err(|e| {
                    map_sdk_error(&format!("target health of {}", last_segment(arn)), e)
                })?;
            for d in out.target_health_descriptions() {
                let Some(h) = d.target_health() else { continue };
                match h.state() {
                    Some(TargetHealthStateEnum::Healthy) => sum.healthy += 1,
                    Some(TargetHealthStateEnum::Initial) => sum.initial += 1,
                    Some(TargetHealthStateEnum::Draining | TargetHealthStateEnum::Unused) => {
                        sum.idle += 1;
                    }
                    _ => {
                        sum.unhealthy += 1;
                        if let Some(r) = h.reason() {
                            let r = r.as_str().to_string();
                            if !sum.reasons.contains(&r) {
                                sum.reasons.push(r);
                            }
                        }
                    }
                }
            }
        }
        Ok(Some(sum))
    }

    pub async fn cluster_names(&self) -> Result<Vec<String>, SourceError> {
        if !self.clusters.is_empty() {
            return Ok(self.clusters.clone());
        }
        let client = &self.client;
        all_pages(|token| async move {
            let page = client
                .list_clusters()
                .max_results(LIST_PAGE)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| map_sdk_error("list clusters", e))?;
            let names = page
                .cluster_arns()
                .iter()
                .map(|a| last_segment(a).to_string())
                .collect();
            Ok((names, page.next_token().map(str::to_string)))
        })
        .await
    }

    /// Every service of a cluster, described (ListServices paged, DescribeServices by 10).
    pub async fn services(&self, cluster: &str) -> Result<Vec<Service>, SourceError> {
        let client = &self.client;
        let arns = all_pages(|token| async move {
            let page = client
                .list_services()
                .cluster(cluster)
                .max_results(LIST_PAGE)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| map_sdk_error(&format!("list services of cluster {cluster}"), e))?;
            Ok((
                page.service_arns().to_vec(),
                page.next_token().map(str::to_string),
            ))
        })
        .await?;
        let mut out = Vec::with_capacity(arns.len());
        for batch in arns.chunks(DESCRIBE_SERVICES_BATCH) {
            let described = self
                .client
                .describe_services()
                .cluster(cluster)
                .set_services(Some(batch.to_vec()))
                .send()
                .await
                .map_err(|e| {
                    map_sdk_error(&format!("describe services of cluster {cluster}"), e)
                })?;
            out.extend(described.services().iter().cloned());
        }
        Ok(out)
    }

    /// Every running and recently stopped task of a cluster, described.
    pub async fn tasks(&self, cluster: &str) -> Result<Vec<Task>, SourceError> {
        let mut arns: Vec<String> = Vec::new();
        let client = &self.client;
        for desired in [DesiredStatus::Running, DesiredStatus::Stopped] {
            let desired = &desired;
            let listed = all_pages(|token| async move {
                let page = client
                    .list_tasks()
                    .cluster(cluster)
                    .desired_status(desired.clone())
                    .max_results(LIST_PAGE)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| map_sdk_error(&format!("list tasks of cluster {cluster}"), e))?;
                Ok((
                    page.task_arns().to_vec(),
                    page.next_token().map(str::to_string),
                ))
            })
            .await?;
            for arn in listed {
                if !arns.contains(&arn) {
                    arns.push(arn);
                }
            }
        }
        let mut out = Vec::with_capacity(arns.len());
        for batch in arns.chunks(DESCRIBE_TASKS_BATCH) {
            let described = self
                .client
                .describe_tasks()
                .cluster(cluster)
                .set_tasks(Some(batch.to_vec()))
                .send()
                .await
                .map_err(|e| map_sdk_error(&format!("describe tasks of cluster {cluster}"), e))?;
            out.extend(described.tasks().iter().cloned());
        }
        Ok(out)
    }

    async fn cluster_rows(&self, cluster: &str) -> Result<Vec<Workload>, SourceError> {
        let services = self.services(cluster).await?;
        let tasks: Vec<Workload> = self
            .tasks(cluster)
            .await?
            .iter()
            .map(|t| task_to_workload(cluster, t))
            .collect();
        let mut rows = Vec::with_capacity(services.len());
        for svc in &services {
            let mut row = service_to_workload(cluster, svc);
            match self.target_health(svc).await {
                Ok(Some(th)) => th.apply(&mut row),
                Ok(None) => {}
                // The service rows are still right; say what is missing.
                Err(e) => push_reason(&mut row, format!("target health unavailable: {e}")),
            }
            rows.push(row);
        }
        let mut services = rows;
        services.sort_by(|a, b| a.id.name.cmp(&b.id.name));
        let mut out = Vec::with_capacity(services.len() + tasks.len());
        let mut tasks = tasks;
        // Running tasks first, then stopped ones, each by creation time.
        tasks.sort_by(|a, b| {
            (a.status.starts_with("STOPPED"), a.created, &a.id.name).cmp(&(
                b.status.starts_with("STOPPED"),
                b.created,
                &b.id.name,
            ))
        });
        for svc in services {
            let name = svc.id.name.clone();
            out.push(svc);
            out.extend(
                tasks
                    .iter()
                    .filter(|t| t.owner.as_deref() == Some(name.as_str()))
                    .cloned(),
            );
        }
        // Tasks of no listed service (run-task, a deleted service) last.
        let listed: Vec<String> = out
            .iter()
            .filter(|w| w.id.kind == WorkloadKind::EcsService)
            .map(|w| w.id.name.clone())
            .collect();
        out.extend(
            tasks
                .into_iter()
                .filter(|t| t.owner.as_ref().is_none_or(|o| !listed.contains(o))),
        );
        Ok(out)
    }
}

#[async_trait]
impl WorkloadSource for EcsWorkloads {
    fn label(&self) -> String {
        self.label.clone()
    }

    async fn workloads(&self) -> Result<Vec<Workload>, SourceError> {
        let mut out = Vec::new();
        for cluster in self.cluster_names().await? {
            out.extend(self.cluster_rows(&cluster).await?);
        }
        Ok(out)
    }
}

/// One ECS service as a workload row: running/desired, the PRIMARY
/// deployment's rollout state, the latest service event as the reason.
pub fn service_to_workload(cluster: &str, svc: &Service) -> Workload {
    let name = svc
        .service_name()
        .map(str::to_string)
        .or_else(|| svc.service_arn().map(|a| last_segment(a).to_string()))
        .unwrap_or_default();
    let desired = count(svc.desired_count());
    let running = count(svc.running_count());
    let pending = count(svc.pending_count());
    let primary = svc
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"));
    let rollout = primary.and_then(|d| d.rollout_state());
    let failed = matches!(rollout, Some(DeploymentRolloutState::Failed));

    let mut health = Health::Ok;
    let mut reasons = Vec::new();
    if failed {
        health = Health::Critical;
        let why = primary
            .and_then(|d| d.rollout_state_reason())
            .filter(|r| !r.is_empty());
        reasons.push(match why {
            Some(r) => format!("rollout FAILED: {r}"),
            None => "rollout FAILED".to_string(),
        });
    }
    if running < desired {
        health = health.max(rollout_health(running, desired));
        reasons.push(format!("{running}/{desired} running"));
    }
    if pending > 0 {
        reasons.push(format!("{pending} pending"));
    }
    if let Some(ev) = latest_event(svc.events()).and_then(ServiceEvent::message) {
        reasons.push(ev.to_string());
    }

    let base = svc.status().unwrap_or("UNKNOWN");
    let status = if failed {
        format!("{base} (rollout failed)")
    } else if matches!(rollout, Some(DeploymentRolloutState::InProgress))
        || svc.deployments().len() > 1
    {
        format!("{base} (deploying)")
    } else {
        base.to_string()
    };
    let task_def = primary
        .and_then(|d| d.task_definition())
        .or_else(|| svc.task_definition());

    Workload {
        id: WorkloadRef::new(WorkloadKind::EcsService, cluster, name),
        status,
        ready: running,
        desired,
        restarts: 0,
        oom_killed: false,
        health,
        reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
        owner: None,
        revision: task_def.and_then(revision_of),
        created: time_of(svc.created_at()),
    }
}

/// One ECS task as a workload row: last status and health, the stopped
/// reason, its service (from the `service:NAME` group) and task definition revision.
pub fn task_to_workload(cluster: &str, task: &Task) -> Workload {
    let id = task.task_arn().map(last_segment).unwrap_or_default();
    let last = task.last_status().unwrap_or("UNKNOWN");
    let hs = task.health_status().unwrap_or(&HealthStatus::UnknownValue);
    let running = last == "RUNNING";
    let stopping = matches!(last, "DEACTIVATING" | "STOPPING" | "DEPROVISIONING");
    let (health, reason) = if stopping && task.stopped_reason().is_none() {
        (Health::Unknown, Some(format!("stopping ({last})")))
    } else if last == "STOPPED" || stopping {
        let reason = task.stopped_reason().map(str::to_string).or_else(|| {
            task.stop_code()
                .map(|c| format!("stop code {}", c.as_str()))
        });
        (Health::Unknown, reason)
    } else if running {
        match hs {
            HealthStatus::Unhealthy => (
                Health::Critical,
                Some("container health check failing (UNHEALTHY)".to_string()),
            ),
            // UNKNOWN: no health check configured, or still in its grace period.
            _ => (Health::Ok, None),
        }
    } else {
        (Health::Warn, Some(format!("starting ({last})")))
    };
    let status = if running {
        format!("RUNNING {}", hs.as_str())
    } else {
        last.to_string()
    };
    Workload {
        id: WorkloadRef::new(WorkloadKind::EcsTask, cluster, id),
        status,
        ready: u32::from(running && *hs != HealthStatus::Unhealthy),
        desired: 1,
        restarts: 0,
        oom_killed: false,
        health,
        reason,
        owner: task
            .group()
            .and_then(|g| g.strip_prefix("service:"))
            .map(str::to_string),
        revision: task.task_definition_arn().and_then(revision_of),
        created: time_of(task.created_at()),
    }
}

/// Load balancer targets of one service by state, summed over its target groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetHealth {
    pub healthy: u32,
    pub unhealthy: u32,
    /// Registered, health checks not yet passed.
    pub initial: u32,
    /// Draining or unused (not receiving traffic by design).
    pub idle: u32,
    /// Distinct reason codes of the unhealthy targets (`Target.FailedHealthChecks`).
    pub reasons: Vec<String>,
}

impl TargetHealth {
    /// Fold into a service row: `targets 1/3 healthy` in the reason, Warn
    /// when some serving target is unhealthy, Critical when none is healthy.
    pub fn apply(&self, row: &mut Workload) {
        let serving = self.healthy + self.unhealthy + self.initial;
        if serving == 0 {
            return;
        }
        let mut text = format!("targets {}/{serving} healthy", self.healthy);
        if self.unhealthy > 0 {
            text.push_str(&format!(" ({} unhealthy", self.unhealthy));
            if !self.reasons.is_empty() {
                text.push_str(&format!(": {}", self.reasons.join(", ")));
            }
            text.push(')');
            let h = if self.healthy == 0 {
                Health::Critical
            } else {
                Health::Warn
            };
            row.health = row.health.max(h);
        }
        push_reason(row, text);
    }
}

fn push_reason(row: &mut Workload, text: String) {
    row.reason = Some(match row.reason.take() {
        Some(r) => format!("{text}; {r}"),
        None => text,
    });
}

/// Runs Scale, ForceNewDeployment, StopTask and RolloutUndo (back to an
/// earlier task definition revision) against ECS.
#[derive(Debug, Clone)]
pub struct EcsExecutor {
    client: Client,
}

impl EcsExecutor {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// The service's current task definition (`family:revision`) and the one
    /// a rollback goes to: `to_revision` if given, else the newest ACTIVE
    /// revision of the family below the current one.
    pub async fn rollback_plan(
        &self,
        target: &WorkloadRef,
        to_revision: Option<u64>,
    ) -> Result<(String, String), SourceError> {
        let what = format!("roll back {target}");
        let out = self
            .client
            .describe_services()
            .cluster(&target.scope)
            .services(&target.name)
            .send()
            .await
            .map_err(|e| map_sdk_error(&what, e))?;
        let current = out
            .services()
            .iter()
            .find(|s| s.status() != Some("INACTIVE"))
            .and_then(|s| s.task_definition())
            .map(|arn| last_segment(arn).to_string())
            .ok_or_else(|| SourceError::NotFound(format!("{what}: service not found")))?;
        let (family, rev) = current
            .rsplit_once(':')
            .and_then(|(f, r)| Some((f.to_string(), r.parse::<u64>().ok()?)))
            .ok_or_else(|| {
                SourceError::Other(format!("{what}: unexpected task definition {current}"))
            })?;
        if let Some(to) = to_revision {
            if to == rev {
                return Err(SourceError::Blocked(format!(
                    "{what}: it already runs {current}"
                )));
            }
            return Ok((current.clone(), format!("{family}:{to}")));
        }
        // Every ACTIVE revision of the family (not every endpoint honours the
        // sort order, so all pages are read): the newest below the current one.
        let (client, family_ref, what_ref) = (&self.client, &family, &what);
        let arns = all_pages(|token| async move {
            let page = client
                .list_task_definitions()
                .family_prefix(family_ref)
                .status(TaskDefinitionStatus::Active)
                .sort(SortOrder::Desc)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| map_sdk_error(what_ref, e))?;
            Ok((
                page.task_definition_arns().to_vec(),
                page.next_token().map(str::to_string),
            ))
        })
        .await?;
        let previous = arns
            .iter()
            .map(|a| last_segment(a))
            .filter_map(|td| td.rsplit_once(':'))
            .filter(|(f, _)| *f == family)
            .filter_map(|(_, r)| r.parse::<u64>().ok())
            .filter(|r| *r < rev)
            .max();
        match previous {
            Some(p) => Ok((current, format!("{family}:{p}"))),
            None => Err(SourceError::Blocked(format!(
                "{what}: no earlier ACTIVE revision of {family} than {rev}"
            ))),
        }
    }
}

fn expect_kind(target: &WorkloadRef, kind: WorkloadKind, verb: &str) -> Result<(), SourceError> {
    if target.kind == kind {
        Ok(())
    } else {
        Err(SourceError::Blocked(format!(
            "{verb} applies to an {}, not to {target}",
            kind.noun()
        )))
    }
}

fn check(request: &Change) -> Result<(), SourceError> {
    match request {
        Change::Scale { target, .. } => expect_kind(target, WorkloadKind::EcsService, "scale"),
        Change::ForceNewDeployment { target } => {
            expect_kind(target, WorkloadKind::EcsService, "force new deployment")
        }
        Change::StopTask { target } => expect_kind(target, WorkloadKind::EcsTask, "stop task"),
        Change::RolloutUndo { target, .. } => {
            expect_kind(target, WorkloadKind::EcsService, "roll back")
        }
        other => Err(SourceError::Blocked(format!(
            "the ECS backend cannot {}",
            other.describe()
        ))),
    }
}

#[async_trait]
impl ChangeExecutor for EcsExecutor {
    async fn execute(&self, request: &Change) -> Result<ChangeOutcome, SourceError> {
        check(request)?;
        let what = request.describe();
        match request {
            Change::Scale { target, from, to } => {
                let desired = i32::try_from(*to).map_err(|_| {
                    SourceError::Blocked(format!("desired count {to} is out of range"))
                })?;
                let out = self
                    .client
                    .update_service()
                    .cluster(&target.scope)
                    .service(&target.name)
                    .desired_count(desired)
                    .send()
                    .await
                    .map_err(|e| map_sdk_error(&what, e))?;
                let now = out.service().map_or(*to, |s| count(s.desired_count()));
                Ok(ChangeOutcome {
                    summary: format!("scaled {target} {from} -> {now}"),
                    details: Vec::new(),
                })
            }
            Change::ForceNewDeployment { target } => {
                let out = self
                    .client
                    .update_service()
                    .cluster(&target.scope)
                    .service(&target.name)
                    .force_new_deployment(true)
                    .send()
                    .await
                    .map_err(|e| map_sdk_error(&what, e))?;
                let details = out
                    .service()
                    .and_then(|s| {
                        s.deployments()
                            .iter()
                            .find(|d| d.status() == Some("PRIMARY"))
                    })
                    .and_then(|d| d.id())
                    .map(|id| vec![format!("deployment {id}")])
                    .unwrap_or_default();
                Ok(ChangeOutcome {
                    summary: format!("started a new deployment of {target}"),
                    details,
                })
            }
            Change::StopTask { target } => {
                let out = self
                    .client
                    .stop_task()
                    .cluster(&target.scope)
                    .task(&target.name)
                    .reason(STOP_REASON)
                    .send()
                    .await
                    .map_err(|e| map_sdk_error(&what, e))?;
                let status = out
                    .task()
                    .and_then(|t| t.desired_status())
                    .unwrap_or("STOPPED");
                Ok(ChangeOutcome {
                    summary: format!("stopped {target} (desired status {status})"),
                    details: Vec::new(),
                })
            }
            Change::RolloutUndo {
                target,
                to_revision,
            } => {
                let (from, to) = self.rollback_plan(target, *to_revision).await?;
                self.client
                    .update_service()
                    .cluster(&target.scope)
                    .service(&target.name)
                    .task_definition(&to)
                    .send()
                    .await
                    .map_err(|e| map_sdk_error(&what, e))?;
                Ok(ChangeOutcome {
                    summary: format!("rolled {target} back to {to}"),
                    details: vec![format!("was {from}")],
                })
            }
            _ => Err(SourceError::Blocked(format!(
                "the ECS backend cannot {what}"
            ))),
        }
    }

    async fn preview(&self, request: &Change) -> Result<Option<String>, SourceError> {
        match request {
            Change::RolloutUndo {
                target,
                to_revision,
            } => {
                check(request)?;
                let (from, to) = self.rollback_plan(target, *to_revision).await?;
                Ok(Some(format!("task definition {from} -> {to}")))
            }
            _ => Ok(None),
        }
    }

    async fn allowed(&self, request: &Change) -> Result<(), String> {
        check(request).map_err(|e| e.to_string())
    }
}

/// Every item of a paged list call: `page(token)` fetches one page and
/// returns its items and the next token; an absent or empty token ends it.
async fn all_pages<T, F, Fut>(mut page: F) -> Result<Vec<T>, SourceError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<String>), SourceError>>,
{
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let (items, next) = page(token.take()).await?;
        out.extend(items);
        match next {
            Some(t) if !t.is_empty() => token = Some(t),
            _ => return Ok(out),
        }
    }
}

fn count(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

/// `arn:aws:ecs:us-east-1:123:task/prod/abc` -> `abc`; a plain name stays.
fn last_segment(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// The revision of a task definition ARN or `family:revision`.
fn revision_of(task_def: &str) -> Option<u64> {
    task_def.rsplit_once(':').and_then(|(_, r)| r.parse().ok())
}

fn time_of(t: Option<&DateTime>) -> SystemTime {
    t.and_then(|t| SystemTime::try_from(*t).ok())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

fn latest_event(events: &[ServiceEvent]) -> Option<&ServiceEvent> {
    // The API lists events newest first; pick by time in case it does not.
    events
        .iter()
        .enumerate()
        .max_by(|(ia, a), (ib, b)| {
            let ta = a.created_at().map(|t| (t.secs(), t.subsec_nanos()));
            let tb = b.created_at().map(|t| (t.secs(), t.subsec_nanos()));
            // Same time: the earlier in the list is the newer.
            ta.cmp(&tb).then(ib.cmp(ia))
        })
        .map(|(_, e)| e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::types::{Deployment, TaskStopCode};

    fn dt(secs: i64) -> DateTime {
        DateTime::from_secs(secs)
    }

    fn service(desired: i32, running: i32, rollout: DeploymentRolloutState) -> Service {
        Service::builder()
            .service_name("checkout")
            .service_arn("arn:aws:ecs:us-east-1:123456789012:service/prod/checkout")
            .status("ACTIVE")
            .desired_count(desired)
            .running_count(running)
            .pending_count(0)
            .task_definition("arn:aws:ecs:us-east-1:123456789012:task-definition/checkout:7")
            .deployments(
                Deployment::builder()
                    .id("ecs-svc/1")
                    .status("PRIMARY")
                    .task_definition(
                        "arn:aws:ecs:us-east-1:123456789012:task-definition/checkout:8",
                    )
                    .rollout_state(rollout)
                    .rollout_state_reason("tasks failed to start")
                    .build(),
            )
            .events(
                ServiceEvent::builder()
                    .id("2")
                    .created_at(dt(2_000))
                    .message("(service checkout) has reached a steady state.")
                    .build(),
            )
            .events(
                ServiceEvent::builder()
                    .id("1")
                    .created_at(dt(1_000))
                    .message("(service checkout) has started 2 tasks.")
                    .build(),
            )
            .created_at(dt(500))
            .build()
    }

    #[test]
    fn a_healthy_service_is_ok_with_the_latest_event_and_primary_revision() {
        let w = service_to_workload("prod", &service(2, 2, DeploymentRolloutState::Completed));
        assert_eq!(
            w.id,
            WorkloadRef::new(WorkloadKind::EcsService, "prod", "checkout")
        );
        assert_eq!(w.status, "ACTIVE");
        assert_eq!((w.ready, w.desired), (2, 2));
        assert_eq!(w.health, Health::Ok);
        assert_eq!(
            w.reason.as_deref(),
            Some("(service checkout) has reached a steady state.")
        );
        assert_eq!(w.revision, Some(8));
        assert_eq!(w.created, time_of(Some(&dt(500))));
    }

    #[test]
    fn service_health_follows_running_against_desired_and_rollout() {
        let warn = service_to_workload("prod", &service(3, 2, DeploymentRolloutState::InProgress));
        assert_eq!(warn.health, Health::Warn);
        assert_eq!(warn.status, "ACTIVE (deploying)");
        assert!(
            warn.reason
                .as_deref()
                .is_some_and(|r| r.starts_with("2/3 running"))
        );

        let none = service_to_workload("prod", &service(2, 0, DeploymentRolloutState::Completed));
        assert_eq!(none.health, Health::Critical);

        let failed = service_to_workload("prod", &service(2, 2, DeploymentRolloutState::Failed));
        assert_eq!(failed.health, Health::Critical);
        assert_eq!(failed.status, "ACTIVE (rollout failed)");
        assert!(
            failed
                .reason
                .as_deref()
                .is_some_and(|r| r.starts_with("rollout FAILED: tasks failed to start"))
        );

        let idle = service_to_workload("prod", &service(0, 0, DeploymentRolloutState::Completed));
        assert_eq!(idle.health, Health::Ok);
    }

    fn task(last: &str, health: HealthStatus) -> Task {
        task_builder(last, health).build()
    }

    fn task_builder(last: &str, health: HealthStatus) -> aws_sdk_ecs::types::builders::TaskBuilder {
        Task::builder()
            .task_arn("arn:aws:ecs:us-east-1:123456789012:task/prod/0123abcd")
            .cluster_arn("arn:aws:ecs:us-east-1:123456789012:cluster/prod")
            .task_definition_arn("arn:aws:ecs:us-east-1:123456789012:task-definition/checkout:2")
            .group("service:checkout")
            .last_status(last)
            .desired_status("RUNNING")
            .health_status(health)
            .created_at(dt(100))
    }

    #[test]
    fn running_tasks_show_status_health_owner_and_revision() {
        let w = task_to_workload("prod", &task("RUNNING", HealthStatus::Healthy));
        assert_eq!(
            w.id,
            WorkloadRef::new(WorkloadKind::EcsTask, "prod", "0123abcd")
        );
        assert_eq!(w.status, "RUNNING HEALTHY");
        assert_eq!((w.ready, w.desired), (1, 1));
        assert_eq!(w.health, Health::Ok);
        assert_eq!(w.owner.as_deref(), Some("checkout"));
        assert_eq!(w.revision, Some(2));

        let sick = task_to_workload("prod", &task("RUNNING", HealthStatus::Unhealthy));
        assert_eq!(sick.status, "RUNNING UNHEALTHY");
        assert_eq!(sick.health, Health::Critical);
        assert_eq!(sick.ready, 0);

        let pending = task_to_workload("prod", &task("PENDING", HealthStatus::UnknownValue));
        assert_eq!(pending.status, "PENDING");
        assert_eq!(pending.health, Health::Warn);
        assert_eq!(pending.reason.as_deref(), Some("starting (PENDING)"));
    }

    #[test]
    fn stopped_tasks_carry_the_stopped_reason() {
        let t = task_builder("STOPPED", HealthStatus::UnknownValue)
            .stopped_reason("Essential container in task exited")
            .stop_code(TaskStopCode::EssentialContainerExited)
            .build();
        let w = task_to_workload("prod", &t);
        assert_eq!(w.status, "STOPPED");
        assert_eq!(w.health, Health::Unknown);
        assert_eq!(
            w.reason.as_deref(),
            Some("Essential container in task exited")
        );

        let run_task = Task::builder()
            .task_arn("arn:x:task/prod/ff")
            .group("family:batch")
            .build();
        assert_eq!(task_to_workload("prod", &run_task).owner, None);
    }

    #[test]
    fn revisions_and_names_parse_from_arns() {
        assert_eq!(
            revision_of("arn:aws:ecs:r:1:task-definition/web:12"),
            Some(12)
        );
        assert_eq!(revision_of("web:3"), Some(3));
        assert_eq!(revision_of("web"), None);
        assert_eq!(last_segment("arn:aws:ecs:r:1:cluster/prod"), "prod");
        assert_eq!(last_segment("prod"), "prod");
    }

    #[test]
    fn only_ecs_actions_on_the_right_kind_are_accepted() {
        let svc = WorkloadRef::new(WorkloadKind::EcsService, "prod", "checkout");
        let dep = WorkloadRef::new(WorkloadKind::Deployment, "shop", "api");
        assert!(
            check(&Change::ForceNewDeployment {
                target: svc.clone()
            })
            .is_ok()
        );
        assert!(matches!(
            check(&Change::StopTask { target: svc }),
            Err(SourceError::Blocked(_))
        ));
        assert!(matches!(
            check(&Change::RolloutRestart { target: dep }),
            Err(SourceError::Blocked(_))
        ));
    }
}
