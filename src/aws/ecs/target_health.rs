//! The load balancer target health of a service (ELBv2
//! DescribeTargetHealth over its target groups), folded into its row.

use aws_sdk_ecs::types::Service;
use aws_sdk_elasticloadbalancingv2 as elbv2;
use elbv2::types::TargetHealthStateEnum;

use super::rows::{last_segment, push_reason};
use crate::aws::error::map_sdk_error;
use crate::domain::{Health, Workload};
use crate::source::SourceError;

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

/// The target health of a service's target groups, summed over them;
/// `None` when the service has no target group.
pub(super) async fn target_health_of(
    elb: &elbv2::Client,
    svc: &Service,
) -> Result<Option<TargetHealth>, SourceError> {
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
            .map_err(|e| map_sdk_error(&format!("target health of {}", last_segment(arn)), e))?;
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
