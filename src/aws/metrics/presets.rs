//! Ready-made specs for an ECS service, an Application Load Balancer and an
//! RDS instance, with the thresholds an on-call engineer would start from.

use super::spec::{CloudWatchMetricSpec, Stat};

/// Bytes in a MiB (FreeableMemory is shown in MiB).
pub(super) const MIB: f64 = 1024.0 * 1024.0;

/// Default DatabaseConnections thresholds of [`preset_rds`].
pub const RDS_CONNECTIONS_WARNING: f64 = 80.0;
/// Default DatabaseConnections critical threshold of [`preset_rds`].
pub const RDS_CONNECTIONS_CRITICAL: f64 = 95.0;

/// The last `/`-separated segment that is a name: `app/shop/50dc..` -> `shop`,
/// `targetgroup/api/6d0e..` -> `api`, `orders` -> `orders`.
fn short_name(dimension_value: &str) -> &str {
    let parts: Vec<&str> = dimension_value.split('/').collect();
    match parts.as_slice() {
        [_, name, _] if !name.is_empty() => name,
        _ => dimension_value,
    }
}

/// CPU and memory of an ECS service (`AWS/ECS`, Average, warning 70%,
/// critical 90%): keys `<service>.cpu` and `<service>.memory`.
pub fn preset_ecs_service(cluster: &str, service: &str) -> Vec<CloudWatchMetricSpec> {
    [
        ("cpu", "CPU", "CPUUtilization"),
        ("memory", "memory", "MemoryUtilization"),
    ]
    .into_iter()
    .map(|(suffix, label, metric)| {
        CloudWatchMetricSpec::new(
            &format!("{service}.{suffix}"),
            &format!("{service} {label}"),
            "AWS/ECS",
            metric,
        )
        .dimension("ClusterName", cluster)
        .dimension("ServiceName", service)
        .unit("%")
        .thresholds(70.0, 90.0)
    })
    .collect()
}

/// An Application Load Balancer (`AWS/ApplicationELB`), optionally one target
/// group: p95 TargetResponseTime (warning 0.5 s, critical 1 s) and the sum of
/// HTTPCode_Target_5XX_Count per minute (warning 10, critical 50). Keys
/// `<name>.latency_p95` and `<name>.5xx_count`, where `<name>` is the target
/// group's name if given, else the load balancer's (`app/<name>/<id>`).
pub fn preset_alb(load_balancer: &str, target_group: Option<&str>) -> Vec<CloudWatchMetricSpec> {
    let base = short_name(target_group.unwrap_or(load_balancer));
    let with_dims = |spec: CloudWatchMetricSpec| {
        let spec = spec.dimension("LoadBalancer", load_balancer);
        match target_group {
            Some(tg) => spec.dimension("TargetGroup", tg),
            None => spec,
        }
    };
    vec![
        with_dims(
            CloudWatchMetricSpec::new(
                &format!("{base}.latency_p95"),
                &format!("{base} p95 latency"),
                "AWS/ApplicationELB",
                "TargetResponseTime",
            )
            .stat(Stat::Percentile(95.0))
            .unit("s")
            .thresholds(0.5, 1.0),
        ),
        with_dims(
            CloudWatchMetricSpec::new(
                &format!("{base}.5xx_count"),
                &format!("{base} target 5xx"),
                "AWS/ApplicationELB",
                "HTTPCode_Target_5XX_Count",
            )
            .stat(Stat::Sum)
            .unit("req")
            .thresholds(10.0, 50.0),
        ),
    ]
}

/// An RDS instance (`AWS/RDS`) with the default connection thresholds
/// (warning 80, critical 95); see [`preset_rds_with`].
pub fn preset_rds(db_instance_identifier: &str) -> Vec<CloudWatchMetricSpec> {
    preset_rds_with(
        db_instance_identifier,
        RDS_CONNECTIONS_WARNING,
        RDS_CONNECTIONS_CRITICAL,
    )
}

/// An RDS instance (`AWS/RDS`): DatabaseConnections (the given thresholds;
/// size them to the instance's max_connections), CPUUtilization (warning 70%,
/// critical 90%) and FreeableMemory in MiB (low is bad: warning 512 MiB,
/// critical 256 MiB). Keys `<db>.connections`, `<db>.cpu`, `<db>.freeable_memory`.
pub fn preset_rds_with(
    db_instance_identifier: &str,
    connections_warning: f64,
    connections_critical: f64,
) -> Vec<CloudWatchMetricSpec> {
    let db = db_instance_identifier;
    let spec = |suffix: &str, label: &str, metric: &str| {
        CloudWatchMetricSpec::new(
            &format!("{db}.{suffix}"),
            &format!("{db} {label}"),
            "AWS/RDS",
            metric,
        )
        .dimension("DBInstanceIdentifier", db)
    };
    let mut memory = spec("freeable_memory", "freeable memory", "FreeableMemory")
        .stat(Stat::Minimum)
        .unit("MiB")
        .thresholds(512.0, 256.0);
    memory.scale = 1.0 / MIB;
    memory.lower_is_worse = true;
    vec![
        spec("connections", "connections", "DatabaseConnections")
            .stat(Stat::Maximum)
            .unit("conn")
            .thresholds(connections_warning, connections_critical),
        spec("cpu", "CPU", "CPUUtilization")
            .unit("%")
            .thresholds(70.0, 90.0),
        memory,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_have_the_expected_metrics_and_thresholds() {
        let ecs = preset_ecs_service("prod", "checkout");
        assert_eq!(ecs.len(), 2);
        assert_eq!(ecs[0].key, "checkout.cpu");
        assert_eq!(ecs[0].metric, "CPUUtilization");
        assert_eq!(ecs[1].key, "checkout.memory");
        assert_eq!(ecs[1].metric, "MemoryUtilization");
        for s in &ecs {
            assert_eq!(s.namespace, "AWS/ECS");
            assert_eq!(s.stat, Stat::Average);
            assert_eq!((s.warning, s.critical), (Some(70.0), Some(90.0)));
            assert_eq!(s.dimensions["ClusterName"], "prod");
            assert_eq!(s.dimensions["ServiceName"], "checkout");
            assert!(s.validate().is_empty());
        }

        let alb = preset_alb("app/shop/50dc6c495c0c9188", None);
        assert_eq!(alb[0].key, "shop.latency_p95");
        assert_eq!(alb[0].stat, Stat::Percentile(95.0));
        assert_eq!((alb[0].warning, alb[0].critical), (Some(0.5), Some(1.0)));
        assert_eq!(alb[1].key, "shop.5xx_count");
        assert_eq!(alb[1].metric, "HTTPCode_Target_5XX_Count");
        assert_eq!(alb[1].stat, Stat::Sum);
        assert_eq!((alb[1].warning, alb[1].critical), (Some(10.0), Some(50.0)));
        assert!(!alb[0].dimensions.contains_key("TargetGroup"));
        let tg = preset_alb("app/shop/1", Some("targetgroup/api/2"));
        assert_eq!(tg[0].key, "api.latency_p95");
        assert_eq!(tg[1].dimensions["TargetGroup"], "targetgroup/api/2");

        let rds = preset_rds("orders-db");
        let keys: Vec<&str> = rds.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "orders-db.connections",
                "orders-db.cpu",
                "orders-db.freeable_memory"
            ]
        );
        assert_eq!((rds[0].warning, rds[0].critical), (Some(80.0), Some(95.0)));
        assert_eq!((rds[1].warning, rds[1].critical), (Some(70.0), Some(90.0)));
        assert!(
            rds.iter()
                .all(|s| s.dimensions["DBInstanceIdentifier"] == "orders-db")
        );
        assert!(rds.iter().all(|s| s.validate().is_empty()));
        let custom = preset_rds_with("orders-db", 400.0, 450.0);
        assert_eq!(
            (custom[0].warning, custom[0].critical),
            (Some(400.0), Some(450.0))
        );
    }
}
