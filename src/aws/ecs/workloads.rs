//! The workload source: every service and task of the clusters (ListServices
//! and ListTasks paged, DescribeServices by 10, DescribeTasks by 100) as rows,
//! each service followed by its tasks.

use async_trait::async_trait;
use aws_sdk_ecs::Client;
use aws_sdk_ecs::types::{DesiredStatus, Service, Task};
use aws_sdk_elasticloadbalancingv2 as elbv2;

use super::executor::EcsExecutor;
use super::paging::all_pages;
use super::rows::{last_segment, push_reason, service_to_workload, task_to_workload};
use super::target_health::{TargetHealth, target_health_of};
use crate::aws::error::map_sdk_error;
use crate::aws::sdk::{AwsOptions, sdk_config};
use crate::domain::{Workload, WorkloadKind};
use crate::source::{SourceError, WorkloadSource};

/// ListServices/ListTasks page size (the API's maximum).
const LIST_PAGE: i32 = 100;
/// DescribeServices takes at most 10 services per call.
const DESCRIBE_SERVICES_BATCH: usize = 10;
/// DescribeTasks takes at most 100 tasks per call.
const DESCRIBE_TASKS_BATCH: usize = 100;

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
        EcsExecutor::new(
            client,
            format!(
                "aws:{}@{region}",
                opts.profile.as_deref().unwrap_or("default")
            ),
        ),
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
        match &self.elb {
            Some(elb) => target_health_of(elb, svc).await,
            None => Ok(None),
        }
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
