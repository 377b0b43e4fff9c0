//! The ECS backend against moto_server over a real socket: rows from
//! ListServices/DescribeServices/ListTasks/DescribeTasks, paging, load
//! balancer target health (ELBv2), and the executor's UpdateService and
//! StopTask. Needs `./scripts/moto-venv`.

#[path = "support/aws_proxy.rs"]
mod aws_proxy;
#[path = "support/ec2.rs"]
mod ec2;
#[path = "support/moto.rs"]
mod moto;

use aws_sdk_ecs::Client;
use aws_sdk_ecs::types::{
    AwsVpcConfiguration, Compatibility, ContainerDefinition, LaunchType, LoadBalancer,
    NetworkConfiguration,
};
use aws_sdk_elasticloadbalancingv2 as elbv2;
use opsdeck::aws::{AwsOptions, EcsExecutor, EcsWorkloads, STOP_REASON, sdk_config};
use opsdeck::domain::{Change, Health, Workload, WorkloadKind, WorkloadRef};
use opsdeck::source::{ChangeExecutor, SourceError, WorkloadSource};

use moto::Moto;

async fn client(moto: &Moto) -> Client {
    Client::new(&moto.sdk_config().await)
}

async fn register(client: &Client, family: &str, image: &str) {
    client
        .register_task_definition()
        .family(family)
        .requires_compatibilities(Compatibility::Fargate)
        .cpu("256")
        .memory("512")
        .network_mode(aws_sdk_ecs::types::NetworkMode::Awsvpc)
        .container_definitions(
            ContainerDefinition::builder()
                .name(family)
                .image(image)
                .memory(256)
                .essential(true)
                .build(),
        )
        .send()
        .await
        .expect("register task definition");
}

/// Cluster `prod`: task definition `checkout` (revisions 1 and 2), service
/// `checkout` (desired 2, revision 2) behind an ELBv2 target group with two
/// registered targets, two of its tasks, plus one stand-alone task of
/// revision 1. Returns the service's task ids.
async fn estate(moto: &Moto, client: &Client) -> Vec<String> {
    ec2::freeze_task_lifecycle(moto.port);
    let (vpc, subnet) = ec2::default_subnet(moto.port);
    let elb = elbv2::Client::new(&moto.sdk_config().await);
    let tg = elb
        .create_target_group()
        .name("checkout")
        .protocol(elbv2::types::ProtocolEnum::Http)
        .port(8080)
        .vpc_id(vpc)
        .target_type(elbv2::types::TargetTypeEnum::Ip)
        .send()
        .await
        .expect("create target group");
    let tg_arn = tg.target_groups()[0]
        .target_group_arn()
        .expect("target group arn")
        .to_string();
    elb.register_targets()
        .target_group_arn(&tg_arn)
        .targets(
            elbv2::types::TargetDescription::builder()
                .id("10.0.0.5")
                .build(),
        )
        .targets(
            elbv2::types::TargetDescription::builder()
                .id("10.0.0.6")
                .build(),
        )
        .send()
        .await
        .expect("register targets");
    let network = NetworkConfiguration::builder()
        .awsvpc_configuration(
            AwsVpcConfiguration::builder()
                .subnets(subnet)
                .security_groups("sg-0123")
                .build()
                .expect("awsvpc configuration"),
        )
        .build();
    client
        .create_cluster()
        .cluster_name("prod")
        .send()
        .await
        .expect("create cluster");
    register(client, "checkout", "checkout:1.0").await;
    register(client, "checkout", "checkout:1.1").await;
    client
        .create_service()
        .cluster("prod")
        .service_name("checkout")
        .task_definition("checkout:2")
        .desired_count(2)
        .launch_type(LaunchType::Fargate)
        .load_balancers(
            LoadBalancer::builder()
                .target_group_arn(&tg_arn)
                .container_name("checkout")
                .container_port(8080)
                .build(),
        )
        .send()
        .await
        .expect("create service");
    let run = client
        .run_task()
        .cluster("prod")
        .task_definition("checkout:2")
        .launch_type(LaunchType::Fargate)
        .count(2)
        .group("service:checkout")
        .network_configuration(network.clone())
        .send()
        .await
        .expect("run service tasks");
    client
        .run_task()
        .cluster("prod")
        .task_definition("checkout:1")
        .launch_type(LaunchType::Fargate)
        .group("family:checkout")
        .network_configuration(network)
        .send()
        .await
        .expect("run a stand-alone task");
    run.tasks()
        .iter()
        .filter_map(|t| t.task_arn())
        .map(|a| a.rsplit('/').next().unwrap_or(a).to_string())
        .collect()
}

fn find<'a>(rows: &'a [Workload], kind: WorkloadKind, name: &str) -> &'a Workload {
    rows.iter()
        .find(|w| w.id.kind == kind && w.id.name == name)
        .unwrap_or_else(|| panic!("no {kind:?} row {name} in {rows:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_and_tasks_become_rows_and_actions_change_them() {
    let moto = Moto::start();
    let client = client(&moto).await;
    let task_ids = estate(&moto, &client).await;
    assert_eq!(task_ids.len(), 2);

    // No clusters configured: every cluster from ListClusters.
    let elb = elbv2::Client::new(&moto.sdk_config().await);
    let source =
        EcsWorkloads::new(client.clone(), "us-east-1", Vec::new()).with_target_health(elb.clone());
    assert_eq!(source.label(), "ecs:us-east-1");
    let rows = source.workloads().await.expect("rows");
    assert_eq!(rows.len(), 4, "{rows:#?}");

    // The service row says what DescribeServices says.
    let described = client
        .describe_services()
        .cluster("prod")
        .services("checkout")
        .send()
        .await
        .expect("describe");
    let api = &described.services()[0];
    let svc = find(&rows, WorkloadKind::EcsService, "checkout");
    assert_eq!(svc.id.scope, "prod");
    assert!(svc.status.starts_with("ACTIVE"), "{svc:?}");
    assert_eq!(
        (svc.ready, svc.desired),
        (
            u32::try_from(api.running_count()).expect("count"),
            u32::try_from(api.desired_count()).expect("count")
        )
    );
    assert_eq!(svc.desired, 2);
    assert_eq!(svc.revision, Some(2));
    // Both registered targets are healthy, from DescribeTargetHealth.
    assert!(
        svc.reason
            .as_deref()
            .is_some_and(|r| r.starts_with("targets 2/2 healthy")),
        "{svc:?}"
    );
    // Without an ELBv2 client the row has no target health.
    let plain = EcsWorkloads::new(client.clone(), "us-east-1", vec!["prod".into()]);
    let rows_plain = plain.workloads().await.expect("rows");
    let svc_plain = find(&rows_plain, WorkloadKind::EcsService, "checkout");
    assert!(
        !svc_plain
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("targets"),
        "{svc_plain:?}"
    );
    assert_eq!(
        rows[0].id.kind,
        WorkloadKind::EcsService,
        "service row first"
    );

    for id in &task_ids {
        let t = find(&rows, WorkloadKind::EcsTask, id);
        assert_eq!(t.id.scope, "prod");
        assert!(t.status.starts_with("RUNNING"), "{t:?}");
        assert_eq!(t.owner.as_deref(), Some("checkout"));
        assert_eq!(t.revision, Some(2));
        assert_eq!((t.ready, t.desired), (1, 1));
    }
    let lone = rows
        .iter()
        .find(|w| w.id.kind == WorkloadKind::EcsTask && !task_ids.contains(&w.id.name))
        .expect("the stand-alone task");
    assert_eq!(lone.owner, None);
    assert_eq!(lone.revision, Some(1));
    assert_eq!(rows.last(), Some(lone), "tasks of no service come last");

    let exec = EcsExecutor::new(client.clone(), "aws:test@us-east-1");
    let target = WorkloadRef::new(WorkloadKind::EcsService, "prod", "checkout");

    // A count confirmed against a desired count the service no longer has
    // is refused, and nothing changes.
    let stale = exec
        .execute(&Change::Scale {
            target: target.clone(),
            from: 3,
            to: 4,
        })
        .await;
    assert!(
        matches!(&stale, Err(SourceError::Blocked(m)) if m == "ecs-service prod/checkout now has 2 desired, not 3 as confirmed; nothing was changed"),
        "{stale:?}"
    );

    // Scale 2 -> 4.
    let out = exec
        .execute(&Change::Scale {
            target: target.clone(),
            from: 2,
            to: 4,
        })
        .await
        .expect("scale");
    assert!(out.summary.contains("2 -> 4"), "{}", out.summary);
    let described = client
        .describe_services()
        .cluster("prod")
        .services("checkout")
        .send()
        .await
        .expect("describe");
    assert_eq!(described.services()[0].desired_count(), 4);
    let source = EcsWorkloads::new(client.clone(), "us-east-1", vec!["prod".into()]);
    let rows = source.workloads().await.expect("rows after scale");
    assert_eq!(find(&rows, WorkloadKind::EcsService, "checkout").desired, 4);

    // Force a new deployment.
    exec.execute(&Change::ForceNewDeployment {
        target: target.clone(),
    })
    .await
    .expect("force new deployment");

    // Roll back: the preview names both revisions, the service moves to 1.
    let undo = Change::RolloutUndo {
        target: target.clone(),
        to_revision: None,
        plan: None,
    };
    let preview = exec
        .preview(&undo)
        .await
        .expect("preview")
        .expect("a preview");
    assert_eq!(preview.summary, "task definition checkout:2 -> checkout:1");
    // The preview resolves the revision, and that is what the confirmation runs.
    let Some(resolved) = preview.resolved else {
        panic!("no resolved rollback")
    };
    assert_eq!(
        resolved.describe(),
        format!(
            "rollout undo {}: revision 2 (checkout:2) -> revision 1 (checkout:1)",
            {
                let t = &target;
                format!("{} {}/{}", t.kind.noun(), t.scope, t.name)
            }
        )
    );
    // Once the service has moved on, that plan is refused.
    let Change::RolloutUndo {
        plan: Some(plan), ..
    } = &resolved
    else {
        panic!()
    };
    let mut stale = plan.clone();
    stale.from = "checkout:9".into();
    let refused = exec
        .execute(&Change::RolloutUndo {
            target: target.clone(),
            to_revision: Some(1),
            plan: Some(stale),
        })
        .await;
    assert!(
        matches!(&refused, Err(SourceError::Blocked(m)) if m.contains("now runs checkout:2, not checkout:9")),
        "{refused:?}"
    );
    let out = exec.execute(&undo).await.expect("roll back");
    assert_eq!(out.summary, format!("rolled {target} back to checkout:1"));
    let described = client
        .describe_services()
        .cluster("prod")
        .services("checkout")
        .send()
        .await
        .expect("describe");
    assert!(
        described.services()[0]
            .task_definition()
            // An ARN from AWS; moto keeps the `family:revision` it was given.
            .is_some_and(|td| td == "checkout:1" || td.ends_with("task-definition/checkout:1")),
        "{:?}",
        described.services()[0].task_definition()
    );
    // Nothing older than revision 1: refused, nothing changed.
    let err = exec.execute(&undo).await;
    assert!(
        matches!(&err, Err(SourceError::Blocked(m)) if m.contains("no earlier ACTIVE revision")),
        "{err:?}"
    );
    // An explicit revision goes forward again.
    exec.execute(&Change::RolloutUndo {
        target: target.clone(),
        to_revision: Some(2),
        plan: None,
    })
    .await
    .expect("to revision 2");

    // Stop a task: STOPPED with our reason, in DescribeTasks and in the rows.
    let stop = WorkloadRef::new(WorkloadKind::EcsTask, "prod", &task_ids[0]);
    exec.execute(&Change::StopTask {
        target: stop.clone(),
    })
    .await
    .expect("stop task");
    let tasks = client
        .describe_tasks()
        .cluster("prod")
        .tasks(&task_ids[0])
        .send()
        .await
        .expect("describe tasks");
    let t = &tasks.tasks()[0];
    assert_eq!(t.last_status(), Some("STOPPED"));
    assert_eq!(t.stopped_reason(), Some(STOP_REASON));
    let rows = source.workloads().await.expect("rows after stop");
    let stopped = find(&rows, WorkloadKind::EcsTask, &task_ids[0]);
    assert_eq!(stopped.status, "STOPPED");
    assert_eq!(stopped.reason.as_deref(), Some(STOP_REASON));
    assert_eq!(stopped.health, Health::Unknown);
    assert_eq!(stopped.ready, 0);
    let running = find(&rows, WorkloadKind::EcsTask, &task_ids[1]);
    assert!(running.status.starts_with("RUNNING"));

    // A missing service and a missing cluster are NotFound.
    let missing = WorkloadRef::new(WorkloadKind::EcsService, "prod", "nope");
    let err = exec
        .execute(&Change::Scale {
            target: missing,
            from: 1,
            to: 2,
        })
        .await;
    assert!(
        matches!(&err, Err(SourceError::NotFound(m)) if m.contains("nope")),
        "{err:?}"
    );
    let gone = EcsWorkloads::new(client.clone(), "us-east-1", vec!["staging".into()]);
    let err = gone.workloads().await;
    assert!(
        matches!(&err, Err(SourceError::NotFound(m)) if m.contains("staging")),
        "{err:?}"
    );

    // Actions that are not ECS's are refused without a call.
    let err = exec
        .execute(&Change::RolloutRestart {
            target: WorkloadRef::new(WorkloadKind::Deployment, "shop", "api"),
        })
        .await;
    assert!(matches!(err, Err(SourceError::Blocked(_))), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_a_page_of_services_are_all_listed() {
    let moto = Moto::start();
    let client = client(&moto).await;
    client
        .create_cluster()
        .cluster_name("big")
        .send()
        .await
        .expect("create cluster");
    register(&client, "web", "web:1").await;
    let creates = (0..105).map(|i| {
        let client = client.clone();
        async move {
            client
                .create_service()
                .cluster("big")
                .service_name(format!("web-{i:03}"))
                .task_definition("web")
                .desired_count(1)
                .launch_type(LaunchType::Fargate)
                .send()
                .await
                .map(|_| ())
        }
    });
    for r in futures_util::future::join_all(creates).await {
        r.expect("create service");
    }
    let source = EcsWorkloads::new(client, "us-east-1", vec!["big".into()]);
    let rows = source.workloads().await.expect("rows");
    let services: Vec<&str> = rows
        .iter()
        .filter(|w| w.id.kind == WorkloadKind::EcsService)
        .map(|w| w.id.name.as_str())
        .collect();
    assert_eq!(services.len(), 105);
    assert_eq!(services.first(), Some(&"web-000"));
    assert_eq!(services.last(), Some(&"web-104"));
}

#[tokio::test]
async fn nothing_listening_is_unreachable() {
    let port = moto::free_port();
    let config = moto::sdk_config_for(&format!("http://127.0.0.1:{port}")).await;
    let source = EcsWorkloads::new(Client::new(&config), "us-east-1", vec!["prod".into()]);
    let err = source.workloads().await;
    assert!(matches!(err, Err(SourceError::Unreachable(_))), "{err:?}");
}

#[tokio::test]
async fn options_set_region_and_endpoint() {
    let config = sdk_config(&AwsOptions {
        profile: None,
        region: Some("eu-west-1".into()),
        endpoint_url: Some("http://127.0.0.1:1".into()),
    })
    .await;
    assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-1"));
    assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:1"));
}

/// With moto checking credentials, a key it does not know is refused (403)
/// as an expired or revoked key is by AWS: the source says forbidden, and
/// the driver keeps the rows stale and retries.
#[tokio::test]
async fn unknown_credentials_are_forbidden() {
    let moto = Moto::start_with_env(&[("INITIAL_NO_AUTH_ACTION_COUNT", "0")]);
    let config = moto.sdk_config().await;
    let source = EcsWorkloads::new(Client::new(&config), "us-east-1", vec!["prod".into()]);
    let err = source.workloads().await;
    assert!(
        matches!(&err, Err(SourceError::Forbidden(m)) if m.contains("list services of cluster prod")),
        "{err:?}"
    );
}

/// The service and task detail views over the real protocol: the task
/// definition's image, the deployment with its counts, target health per
/// target, the events; a task's containers and status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_and_task_detail_come_from_describe_calls() {
    use opsdeck::aws::describe::AwsDescriber;
    use opsdeck::domain::DetailTarget;
    use opsdeck::source::Describer;
    let moto = Moto::start();
    let client = client(&moto).await;
    let tasks = estate(&moto, &client).await;
    let cfg = moto.sdk_config().await;
    let scaling = aws_sdk_applicationautoscaling::Client::new(&cfg);
    let d = AwsDescriber {
        ecs: client.clone(),
        autoscaling: scaling.clone(),
        elb: elbv2::Client::new(&cfg),
        cloudwatch: aws_sdk_cloudwatch::Client::new(&cfg),
    };
    let svc = DetailTarget::Workload(WorkloadRef::new(
        WorkloadKind::EcsService,
        "prod",
        "checkout",
    ));
    let detail = d.describe(&svc).await.expect("describe service");
    let text = detail.plain_lines().join("\n");
    for needle in [
        "task definition: checkout:2",
        "checkout: checkout:1.1",
        "Deployments",
        "PRIMARY",
        "Target health (checkout",
        "10.0.0.5",
        "autoscaling: none (no scalable target)",
        "Events (newest first)",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
    // Registered with Application Auto Scaling: the bounds show.
    scaling
        .register_scalable_target()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
        .resource_id("service/prod/checkout")
        .scalable_dimension(
            aws_sdk_applicationautoscaling::types::ScalableDimension::EcsServiceDesiredCount,
        )
        .min_capacity(2)
        .max_capacity(10)
        .send()
        .await
        .expect("register scalable target");
    let text = d
        .describe(&svc)
        .await
        .expect("describe service")
        .plain_lines()
        .join("\n");
    assert!(text.contains("autoscaling: min 2, max 10 tasks"), "{text}");
    let task = DetailTarget::Workload(WorkloadRef::new(WorkloadKind::EcsTask, "prod", &tasks[0]));
    let detail = d.describe(&task).await.expect("describe task");
    let text = detail.plain_lines().join("\n");
    for needle in [
        "task definition: checkout:2",
        "last status:",
        "desired status: RUNNING",
        "Container checkout",
        "image: checkout:1.1",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
    assert_eq!(
        detail.links,
        vec![DetailTarget::Workload(WorkloadRef::new(
            WorkloadKind::EcsService,
            "prod",
            "checkout"
        ))],
        "a service's task links back to its service"
    );
    let missing = DetailTarget::Workload(WorkloadRef::new(WorkloadKind::EcsTask, "prod", "nope"));
    assert!(matches!(
        d.describe(&missing).await,
        Err(SourceError::NotFound(_))
    ));
}

/// The target health section of a service's detail, as `id: text` lines with their tone.
fn target_rows(detail: &opsdeck::domain::Detail) -> Vec<(String, opsdeck::domain::Tone)> {
    detail
        .sections
        .iter()
        .filter(|s| s.heading.starts_with("Target health"))
        .flat_map(|s| &s.rows)
        .map(|r| match r {
            opsdeck::domain::DetailRow::Field { key, value, tone } => {
                (format!("{key}: {value}"), *tone)
            }
            opsdeck::domain::DetailRow::Text { text, tone } => (text.clone(), *tone),
        })
        .collect()
}

fn describer(
    cfg: &aws_config::SdkConfig,
    elb: elbv2::Client,
) -> opsdeck::aws::describe::AwsDescriber {
    opsdeck::aws::describe::AwsDescriber {
        ecs: Client::new(cfg),
        autoscaling: aws_sdk_applicationautoscaling::Client::new(cfg),
        elb,
        cloudwatch: aws_sdk_cloudwatch::Client::new(cfg),
    }
}

/// A service behind an instance target group whose second instance is
/// stopped: moto's ELBv2 reports it `unused` (Target.InvalidState). The
/// service's detail shows that target with its state and reason as a
/// warning; the row counts only the targets that serve.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_instance_target_shows_with_its_reason() {
    use opsdeck::domain::{DetailTarget, Tone};
    use opsdeck::source::Describer;
    let moto = Moto::start();
    let client = client(&moto).await;
    let cfg = moto.sdk_config().await;
    let elb = elbv2::Client::new(&cfg);
    let (vpc, subnet) = ec2::default_subnet(moto.port);
    let instances = ec2::run_instances(moto.port, &subnet, 2);
    let tg = elb
        .create_target_group()
        .name("web")
        .protocol(elbv2::types::ProtocolEnum::Http)
        .port(80)
        .vpc_id(vpc)
        .target_type(elbv2::types::TargetTypeEnum::Instance)
        .send()
        .await
        .expect("create target group");
    let tg_arn = tg.target_groups()[0]
        .target_group_arn()
        .expect("arn")
        .to_string();
    let mut register = elb.register_targets().target_group_arn(&tg_arn);
    for id in &instances {
        register = register.targets(
            elbv2::types::TargetDescription::builder()
                .id(id)
                .port(80)
                .build(),
        );
    }
    register.send().await.expect("register targets");
    client
        .create_cluster()
        .cluster_name("prod")
        .send()
        .await
        .expect("create cluster");
    client
        .register_task_definition()
        .family("web")
        .requires_compatibilities(Compatibility::Ec2)
        .container_definitions(
            ContainerDefinition::builder()
                .name("web")
                .image("web:3.2")
                .memory(256)
                .essential(true)
                .build(),
        )
        .send()
        .await
        .expect("register task definition");
    client
        .create_service()
        .cluster("prod")
        .service_name("web")
        .task_definition("web:1")
        .desired_count(2)
        .launch_type(LaunchType::Ec2)
        .load_balancers(
            LoadBalancer::builder()
                .target_group_arn(&tg_arn)
                .container_name("web")
                .container_port(80)
                .build(),
        )
        .send()
        .await
        .expect("create service");
    ec2::stop_instance(moto.port, &instances[1]);

    let d = describer(&cfg, elb.clone());
    let detail = d
        .describe(&DetailTarget::Workload(WorkloadRef::new(
            WorkloadKind::EcsService,
            "prod",
            "web",
        )))
        .await
        .expect("describe");
    assert_eq!(
        target_rows(&detail),
        vec![
            (format!("{}:80: healthy", instances[0]), Tone::Ok),
            (
                format!(
                    "{}:80: unused · Target.InvalidState: Target is in the stopped state",
                    instances[1]
                ),
                Tone::Warn
            ),
        ]
    );
    let rows = EcsWorkloads::new(client, "us-east-1", vec!["prod".into()])
        .with_target_health(elb)
        .workloads()
        .await
        .expect("rows");
    let web = find(&rows, WorkloadKind::EcsService, "web");
    assert!(
        web.reason
            .as_deref()
            .is_some_and(|r| r.contains("targets 1/1 healthy") && !r.contains("unhealthy")),
        "{web:?}"
    );
}

/// Targets failing their health checks, which moto never reports: a proxy
/// rewrites moto's DescribeTargetHealth answer for the checkout service's
/// targets. One failing of two: the row says so with the reason code and
/// warns; both failing: critical; the detail shows each failing target
/// with the load balancer's reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unhealthy_targets_show_in_the_row_and_the_detail() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use aws_proxy::Proxy;
    use opsdeck::domain::{DetailTarget, Tone};
    use opsdeck::source::Describer;

    let moto = Moto::start();
    let client = client(&moto).await;
    estate(&moto, &client).await;
    // How many of the targets (10.0.0.6 first, then 10.0.0.5) fail.
    let failing = Arc::new(AtomicUsize::new(1));
    let n = failing.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let proxy = Proxy::start_rewriting(
        listener,
        format!("127.0.0.1:{}", moto.port),
        |_| None,
        move |r, body| {
            if r.operation != "DescribeTargetHealth" {
                return None;
            }
            let sick = ["10.0.0.6", "10.0.0.5"];
            let members: Vec<String> = body
                .split("<member>")
                .map(|m| {
                    let fails = sick[..n.load(Ordering::SeqCst)]
                        .iter()
                        .any(|ip| m.contains(&format!("<Id>{ip}</Id>")));
                    if fails {
                        m.replace(
                            "<State>healthy</State>",
                            "<State>unhealthy</State><Reason>Target.FailedHealthChecks</Reason>\
                             <Description>Health checks failed</Description>",
                        )
                    } else {
                        m.to_string()
                    }
                })
                .collect();
            Some(members.join("<member>"))
        },
    );
    let elb = elbv2::Client::new(&moto::sdk_config_for(&proxy.url).await);
    let source = EcsWorkloads::new(client.clone(), "us-east-1", vec!["prod".into()])
        .with_target_health(elb.clone());
    let plain = EcsWorkloads::new(client.clone(), "us-east-1", vec!["prod".into()]);
    let base = find(
        &plain.workloads().await.expect("rows"),
        WorkloadKind::EcsService,
        "checkout",
    )
    .health;

    let rows = source.workloads().await.expect("rows");
    let svc = find(&rows, WorkloadKind::EcsService, "checkout");
    assert!(
        svc.reason.as_deref().is_some_and(
            |r| r.contains("targets 1/2 healthy (1 unhealthy: Target.FailedHealthChecks)")
        ),
        "{svc:?}"
    );
    assert_eq!(svc.health, base.max(Health::Warn));

    let d = describer(&moto.sdk_config().await, elb);
    let target = DetailTarget::Workload(WorkloadRef::new(
        WorkloadKind::EcsService,
        "prod",
        "checkout",
    ));
    let detail = d.describe(&target).await.expect("describe");
    assert_eq!(
        target_rows(&detail),
        vec![
            ("10.0.0.5:8080: healthy".to_string(), Tone::Ok),
            (
                "10.0.0.6:8080: unhealthy · Target.FailedHealthChecks: Health checks failed"
                    .to_string(),
                Tone::Bad
            ),
        ]
    );

    failing.store(2, Ordering::SeqCst);
    let rows = source.workloads().await.expect("rows");
    let svc = find(&rows, WorkloadKind::EcsService, "checkout");
    assert!(
        svc.reason.as_deref().is_some_and(
            |r| r.contains("targets 0/2 healthy (2 unhealthy: Target.FailedHealthChecks)")
        ),
        "{svc:?}"
    );
    assert_eq!(svc.health, Health::Critical);
    assert!(proxy.requests("DescribeTargetHealth") >= 3);
}
