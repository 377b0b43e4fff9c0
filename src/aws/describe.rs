//! Detail views from AWS: an ECS service (deployments with counts and
//! rollout state, events, target health per target, the task definition's
//! images, recently stopped tasks), an ECS task (containers with exit codes,
//! stop code and reason, health) and a CloudWatch alarm (state, reason,
//! threshold, recent history).

use std::time::SystemTime;

use async_trait::async_trait;
use aws_sdk_cloudwatch::types::HistoryItemType;
use aws_sdk_ecs::types::DesiredStatus;

use super::ecs::{active_service, last_segment};
use super::error::map_sdk_error;
use crate::domain::{
    Detail, DetailRow, DetailSection, DetailTarget, Tone, WorkloadKind, WorkloadRef,
};
use crate::source::{Describer, SourceError};

/// Describes ECS services and tasks and CloudWatch alarms of one session.
pub struct AwsDescriber {
    pub ecs: aws_sdk_ecs::Client,
    pub autoscaling: aws_sdk_applicationautoscaling::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
}

fn when(t: Option<&aws_sdk_ecs::primitives::DateTime>) -> String {
    t.and_then(|t| SystemTime::try_from(*t).ok())
        .map(|t| humantime::format_rfc3339_seconds(t).to_string())
        .unwrap_or_else(|| "-".into())
}

#[async_trait]
impl Describer for AwsDescriber {
    async fn describe(&self, target: &DetailTarget) -> Result<Detail, SourceError> {
        match target {
            DetailTarget::Workload(w) if w.kind == WorkloadKind::EcsService => {
                self.service(w).await
            }
            DetailTarget::Workload(w) if w.kind == WorkloadKind::EcsTask => self.task(w).await,
            DetailTarget::Alarm { name } => self.alarm(name).await,
            other => Err(SourceError::Blocked(format!(
                "the AWS backend cannot describe {other}"
            ))),
        }
    }
}

impl AwsDescriber {
    async fn service(&self, w: &WorkloadRef) -> Result<Detail, SourceError> {
        let what = format!("describe {w}");
        let svc = active_service(&self.ecs, w, &what)
            .await?
            .ok_or_else(|| SourceError::NotFound(format!("{w}")))?;
        let mut main = DetailSection::new("Service");
        main.field("status", svc.status().unwrap_or("-"));
        main.field("arn", svc.service_arn().unwrap_or("-"));
        let td = svc.task_definition().unwrap_or("-");
        main.field("task definition", last_segment(td));
        let (running, desired) = (svc.running_count(), svc.desired_count());
        main.push(DetailRow::toned(
            "tasks",
            format!(
                "{running} running, {} pending, {desired} desired",
                svc.pending_count()
            ),
            if running >= desired {
                Tone::Ok
            } else {
                Tone::Bad
            },
        ));
        main.push(self.autoscaling_bounds(w).await);
        let mut sections = vec![main];
        if let Ok(def) = self
            .ecs
            .describe_task_definition()
            .task_definition(td)
            .send()
            .await
        {
            let mut images = DetailSection::new("Task definition");
            if let Some(d) = def.task_definition() {
                for c in d.container_definitions() {
                    images.field(
                        c.name().unwrap_or("-"),
                        c.image().unwrap_or("-").to_string(),
                    );
                }
            }
            sections.push(images);
        }
        let mut deployments = DetailSection::new("Deployments");
        for d in svc.deployments() {
            let state = d
                .rollout_state()
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|| "-".into());
            let tone = match state.as_str() {
                "COMPLETED" => Tone::Ok,
                "FAILED" => Tone::Bad,
                _ => Tone::Warn,
            };
            let mut text = format!(
                "{} · {} running, {} pending, {} desired, {} failed · {state}",
                last_segment(d.task_definition().unwrap_or("-")),
                d.running_count(),
                d.pending_count(),
                d.desired_count(),
                d.failed_tasks()
            );
            if let Some(r) = d.rollout_state_reason() {
                text.push_str(&format!(" ({r})"));
            }
            text.push_str(&format!(" · created {}", when(d.created_at())));
            deployments.push(DetailRow::toned(
                format!("{} {}", d.status().unwrap_or("-"), d.id().unwrap_or("-")),
                text,
                tone,
            ));
        }
        sections.push(deployments);
        for lb in svc.load_balancers() {
            let Some(arn) = lb.target_group_arn() else {
                continue;
            };
            // `…:targetgroup/NAME/ID`: the name is what people know it by.
            let name = arn
                .split("targetgroup/")
                .nth(1)
                .and_then(|s| s.split('/').next())
                .unwrap_or(arn);
            let mut targets = DetailSection::new(format!("Target health ({name})"));
            match self
                .elb
                .describe_target_health()
                .target_group_arn(arn)
                .send()
                .await
            {
                Ok(out) => {
                    for d in out.target_health_descriptions() {
                        let id = d.target().map_or_else(
                            || "-".to_string(),
                            |t| match t.port() {
                                Some(p) => format!("{}:{p}", t.id().unwrap_or("-")),
                                None => t.id().unwrap_or("-").to_string(),
                            },
                        );
                        let h = d.target_health();
                        let state = h
                            .and_then(|h| h.state())
                            .map_or("-", |s| s.as_str())
                            .to_string();
                        let mut text = state.clone();
                        if let Some(r) = h.and_then(|h| h.reason()) {
                            text.push_str(&format!(" · {}", r.as_str()));
                        }
                        if let Some(desc) = h.and_then(|h| h.description()) {
                            text.push_str(&format!(": {desc}"));
                        }
                        let tone = match state.as_str() {
                            "healthy" => Tone::Ok,
                            "initial" | "draining" | "unused" => Tone::Warn,
                            _ => Tone::Bad,
                        };
                        targets.push(DetailRow::toned(id, text, tone));
                    }
                    if targets.rows.is_empty() {
                        targets.push(DetailRow::text_toned("no targets registered", Tone::Warn));
                    }
                }
                Err(e) => targets.push(DetailRow::text_toned(
                    map_sdk_error("target health", e).to_string(),
                    Tone::Bad,
                )),
            }
            sections.push(targets);
        }
        let mut links = Vec::new();
        let stopped = self
            .ecs
            .list_tasks()
            .cluster(&w.scope)
            .service_name(&w.name)
            .desired_status(DesiredStatus::Stopped)
            .max_results(5)
            .send()
            .await
            .map(|o| o.task_arns().to_vec())
            .unwrap_or_default();
        if !stopped.is_empty() {
            let mut stops = DetailSection::new("Recently stopped tasks");
            if let Ok(out) = self
                .ecs
                .describe_tasks()
                .cluster(&w.scope)
                .set_tasks(Some(stopped))
                .send()
                .await
            {
                for t in out.tasks() {
                    let id = last_segment(t.task_arn().unwrap_or("-")).to_string();
                    stops.push(DetailRow::toned(
                        &id,
                        format!(
                            "{} · stopped {}",
                            t.stopped_reason().unwrap_or("no reason recorded"),
                            when(t.stopped_at())
                        ),
                        Tone::Bad,
                    ));
                    links.push(DetailTarget::Workload(WorkloadRef::new(
                        WorkloadKind::EcsTask,
                        &w.scope,
                        id,
                    )));
                }
            }
            sections.push(stops);
        }
        let mut events = DetailSection::new("Events (newest first)");
        for e in svc.events().iter().take(20) {
            events.push(DetailRow::text(format!(
                "{} {}",
                when(e.created_at()),
                e.message().unwrap_or("")
            )));
        }
        if events.rows.is_empty() {
            events.push(DetailRow::text("no events recorded"));
        }
        sections.push(events);
        Ok(Detail {
            sections,
            yaml: None,
            links,
        })
    }

    /// The service's Application Auto Scaling bounds on its desired count.
    async fn autoscaling_bounds(&self, w: &WorkloadRef) -> DetailRow {
        use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
        let answer = self
            .autoscaling
            .describe_scalable_targets()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_ids(format!("service/{}/{}", w.scope, w.name))
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .send()
            .await;
        match answer {
            Ok(out) => match out.scalable_targets().first() {
                Some(t) => DetailRow::field(
                    "autoscaling",
                    format!("min {}, max {} tasks", t.min_capacity(), t.max_capacity()),
                ),
                None => DetailRow::field("autoscaling", "none (no scalable target)"),
            },
            Err(e) => DetailRow::toned(
                "autoscaling",
                format!(
                    "could not be read: {}",
                    map_sdk_error("scalable targets", e)
                ),
                Tone::Warn,
            ),
        }
    }

    async fn task(&self, w: &WorkloadRef) -> Result<Detail, SourceError> {
        let what = format!("describe {w}");
        let out = self
            .ecs
            .describe_tasks()
            .cluster(&w.scope)
            .tasks(&w.name)
            .send()
            .await
            .map_err(|e| map_sdk_error(&what, e))?;
        let t = out
            .tasks()
            .first()
            .ok_or_else(|| SourceError::NotFound(format!("{w}")))?;
        let mut main = DetailSection::new("Task");
        main.field("arn", t.task_arn().unwrap_or("-"));
        main.field(
            "task definition",
            last_segment(t.task_definition_arn().unwrap_or("-")),
        );
        main.field("group", t.group().unwrap_or("-"));
        main.field("last status", t.last_status().unwrap_or("-"));
        main.field("desired status", t.desired_status().unwrap_or("-"));
        let health = t.health_status().map_or("-", |h| h.as_str()).to_string();
        let tone = match health.as_str() {
            "HEALTHY" => Tone::Ok,
            "UNHEALTHY" => Tone::Bad,
            _ => Tone::Warn,
        };
        main.push(DetailRow::toned("health", health, tone));
        main.field("started", when(t.started_at()));
        if t.stopped_at().is_some() {
            main.field("stopped", when(t.stopped_at()));
        }
        if let Some(code) = t.stop_code() {
            main.push(DetailRow::toned("stop code", code.as_str(), Tone::Bad));
        }
        if let Some(r) = t.stopped_reason() {
            main.push(DetailRow::toned("stopped reason", r, Tone::Bad));
        }
        let mut sections = vec![main];
        for c in t.containers() {
            let mut s = DetailSection::new(format!("Container {}", c.name().unwrap_or("-")));
            s.field("image", c.image().unwrap_or("-"));
            s.field("last status", c.last_status().unwrap_or("-"));
            if let Some(h) = c.health_status() {
                s.field("health", h.as_str());
            }
            if let Some(code) = c.exit_code() {
                s.push(DetailRow::toned(
                    "exit code",
                    code.to_string(),
                    if code == 0 { Tone::Ok } else { Tone::Bad },
                ));
            }
            if let Some(r) = c.reason() {
                s.push(DetailRow::toned("reason", r, Tone::Bad));
            }
            sections.push(s);
        }
        let links = t
            .group()
            .and_then(|g| g.strip_prefix("service:"))
            .map(|svc| {
                vec![DetailTarget::Workload(WorkloadRef::new(
                    WorkloadKind::EcsService,
                    &w.scope,
                    svc,
                ))]
            })
            .unwrap_or_default();
        Ok(Detail {
            sections,
            yaml: None,
            links,
        })
    }

    async fn alarm(&self, name: &str) -> Result<Detail, SourceError> {
        let what = format!("describe alarm {name}");
        let out = self
            .cloudwatch
            .describe_alarms()
            .alarm_names(name)
            .send()
            .await
            .map_err(|e| map_sdk_error(&what, e))?;
        let a = out
            .metric_alarms()
            .first()
            .ok_or_else(|| SourceError::NotFound(format!("alarm {name}")))?;
        let history = self
            .cloudwatch
            .describe_alarm_history()
            .alarm_name(name)
            .history_item_type(HistoryItemType::StateUpdate)
            .max_records(10)
            .send()
            .await
            .map(|h| h.alarm_history_items().to_vec())
            .map_err(|e| map_sdk_error("alarm history", e).to_string());
        Ok(alarm_detail(a, history))
    }
}

/// An alarm's detail view from DescribeAlarms and DescribeAlarmHistory.
pub fn alarm_detail(
    a: &aws_sdk_cloudwatch::types::MetricAlarm,
    history: Result<Vec<aws_sdk_cloudwatch::types::AlarmHistoryItem>, String>,
) -> Detail {
    let state = a.state_value().map_or("-", |s| s.as_str()).to_string();
    let tone = match state.as_str() {
        "OK" => Tone::Ok,
        "ALARM" => Tone::Bad,
        _ => Tone::Warn,
    };
    let mut main = DetailSection::new("Alarm");
    main.push(DetailRow::toned("state", state, tone));
    main.field("since", when(a.state_updated_timestamp()));
    main.field("reason", a.state_reason().unwrap_or("-"));
    main.field(
        "metric",
        format!(
            "{} {} ({})",
            a.namespace().unwrap_or("-"),
            a.metric_name().unwrap_or("-"),
            a.statistic().map_or("-", |s| s.as_str())
        ),
    );
    main.field(
        "threshold",
        format!(
            "{} {} for {} period(s) of {}s",
            a.comparison_operator().map_or("-", |c| c.as_str()),
            a.threshold().map_or("-".into(), |t| t.to_string()),
            a.evaluation_periods().unwrap_or(0),
            a.period().unwrap_or(0)
        ),
    );
    let mut section = DetailSection::new("History (newest first)");
    match history {
        Ok(items) => {
            for item in &items {
                section.push(DetailRow::text(format!(
                    "{} {}",
                    when(item.timestamp()),
                    item.history_summary().unwrap_or("")
                )));
            }
            if section.rows.is_empty() {
                section.push(DetailRow::text("no state changes recorded"));
            }
        }
        Err(e) => section.push(DetailRow::text_toned(e, Tone::Warn)),
    }
    Detail {
        sections: vec![main, section],
        yaml: None,
        links: Vec::new(),
    }
}
