//! The real kubectl against the simulated Kubernetes API: each test starts
//! its own server on a free port, writes a kubeconfig into a temporary HOME
//! and runs kubectl with it. A missing kubectl fails the test (set KUBECTL
//! to use another binary).

#[path = "support/kubectl.rs"]
mod kubectl;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use opsdeck::sim::kube_api::{ApiServer, ServeOptions, normalised_deployment};
use opsdeck::sim::{Scenario, SimEstate, World};
use serde_json::{Value, json};

struct Kube {
    server: ApiServer,
    home: tempfile::TempDir,
    config: PathBuf,
}

impl Kube {
    async fn start(estate: SimEstate) -> Kube {
        let server = ApiServer::start(estate, ServeOptions::default())
            .await
            .expect("server starts");
        let home = tempfile::tempdir().expect("temp HOME");
        let config = home.path().join("kubeconfig");
        server.write_kubeconfig(&config).expect("kubeconfig");
        Kube {
            server,
            home,
            config,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(kubectl::kubectl());
        c.args(args)
            .env("KUBECONFIG", &self.config)
            .env("HOME", self.home.path())
            .env_remove("KUBERNETES_SERVICE_HOST")
            .stdin(Stdio::null());
        c
    }

    /// Run kubectl to completion (on a blocking thread: the server runs on
    /// this runtime).
    async fn run(&self, args: &[&str]) -> Output {
        let mut c = self.command(args);
        tokio::task::spawn_blocking(move || c.output().expect("kubectl runs"))
            .await
            .expect("join")
    }

    /// Run and expect success; stdout.
    async fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "kubectl {args:?} failed ({}):\nstdout: {stdout}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    async fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.extend(["-o", "json"]);
        let text = self.ok(&a).await;
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }
}

fn estate(scenario: Scenario, start: SystemTime, prewarm: u64, speed: f64) -> SimEstate {
    let mut w = World::new(scenario, 1, start);
    w.step(Duration::from_secs(prewarm));
    SimEstate::new(w, speed)
}

fn recent(prewarm: u64) -> SystemTime {
    SystemTime::now() - Duration::from_secs(prewarm)
}

/// Poll until `f` holds (the world moves on its own clock).
async fn eventually<F, Fut>(what: &str, timeout: Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("timed out waiting for {what}");
}

fn live_pods(list: &Value) -> usize {
    list["items"].as_array().map_or(0, |a| {
        a.iter()
            .filter(|p| p["metadata"].get("deletionTimestamp").is_none())
            .count()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_pods_deployments_and_json() {
    let k = Kube::start(estate(Scenario::DbConnections, recent(120), 120, 1.0)).await;
    let pods = k.ok(&["get", "pods", "-A"]).await;
    let header: Vec<&str> = pods
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    );
    assert_eq!(
        pods.lines().filter(|l| l.starts_with("shop ")).count(),
        7,
        "{pods}"
    );
    assert!(pods.contains("Running"));
    let deploys = k.ok(&["get", "deploy"]).await;
    assert!(deploys.starts_with("NAME"), "{deploys}");
    assert!(deploys.contains("UP-TO-DATE"));
    let api_line = deploys
        .lines()
        .find(|l| l.starts_with("api "))
        .expect("api row");
    assert!(api_line.contains("3/3"), "{api_line}");
    let api = k.json(&["get", "deploy", "api"]).await;
    assert_eq!(api["kind"], "Deployment");
    assert_eq!(api["apiVersion"], "apps/v1");
    assert_eq!(api["spec"]["replicas"], 3);
    assert_eq!(api["metadata"]["namespace"], "shop");
    k.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_brings_pods() {
    let k = Kube::start(estate(Scenario::DbConnections, recent(120), 120, 5.0)).await;
    let out = k.ok(&["scale", "deploy/api", "--replicas=5"]).await;
    assert!(out.contains("deployment.apps/api scaled"), "{out}");
    eventually("5 api pods", Duration::from_secs(30), || async {
        live_pods(&k.json(&["get", "pods", "-l", "app=api"]).await) == 5
    })
    .await;
    let d = k.json(&["get", "deploy", "api"]).await;
    assert_eq!(d["spec"]["replicas"], 5);
    k.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_undo_status_and_history() {
    // bad-deploy: api 1.9.0 rolls out at t=120; by t=300 it is revision 3.
    let k = Kube::start(estate(Scenario::BadDeploy, recent(300), 300, 20.0)).await;
    let before = k.json(&["get", "deploy", "api"]).await;
    assert_eq!(
        before["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "3"
    );
    assert!(
        before["spec"]["template"]["spec"]["containers"][0]["image"]
            .as_str()
            .unwrap_or("")
            .ends_with(":1.9.0")
    );
    let out = k.ok(&["rollout", "undo", "deploy/api"]).await;
    assert!(out.contains("deployment.apps/api rolled back"), "{out}");
    let status = k
        .ok(&["rollout", "status", "deploy/api", "--timeout=60s"])
        .await;
    assert!(
        status.contains("deployment \"api\" successfully rolled out"),
        "{status}"
    );
    let after = k.json(&["get", "deploy", "api"]).await;
    assert_eq!(
        after["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "4"
    );
    assert!(
        after["spec"]["template"]["spec"]["containers"][0]["image"]
            .as_str()
            .unwrap_or("")
            .ends_with(":1.8.2")
    );
    // The old ReplicaSet was reused, not a new one made.
    let rs = k.json(&["get", "rs", "-l", "app=api"]).await;
    assert_eq!(rs["items"].as_array().map(Vec::len), Some(3));
    let history = k.ok(&["rollout", "history", "deploy/api"]).await;
    let revisions: Vec<&str> = history
        .lines()
        .skip_while(|l| !l.starts_with("REVISION"))
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(revisions, ["1", "3", "4"], "{history}");
    k.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_follow_streams_lines() {
    let k = Kube::start(estate(Scenario::DbConnections, recent(120), 120, 1.0)).await;
    let pods = k.json(&["get", "pods", "-l", "app=web"]).await;
    let pod = pods["items"][0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let mut child = k
        .command(&["logs", "-f", &pod, "--tail=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl logs -f");
    let stdout = child.stdout.take().expect("stdout");
    let lines = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        std::io::BufReader::new(stdout)
            .lines()
            .take(3)
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });
    let lines = tokio::time::timeout(Duration::from_secs(30), lines)
        .await
        .expect("three lines within 30 s")
        .expect("join");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines.iter().all(|l| !l.is_empty()));
    k.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previous_logs_and_describe_of_a_crash_looping_pod() {
    let k = Kube::start(estate(Scenario::OomCrashloop, recent(720), 720, 1.0)).await;
    let pods = k.json(&["get", "pods", "-l", "app=worker"]).await;
    let pod = pods["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["status"]["containerStatuses"][0]["restartCount"].as_i64() > Some(0))
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .expect("a restarted worker");
    let prev = k.ok(&["logs", &pod, "--previous"]).await;
    assert!(prev.lines().count() > 0, "previous logs are empty");
    let describe = k.ok(&["describe", "pod", &pod]).await;
    // The pod's own description: its Name line, not a mention elsewhere.
    assert!(
        describe
            .lines()
            .any(|l| l.strip_prefix("Name:").map(str::trim) == Some(pod.as_str())),
        "{describe}"
    );
    assert!(describe.contains("Events:"), "{describe}");
    assert!(describe.contains("OOMKilled"), "{describe}");
    assert!(describe.contains("BackOff"), "{describe}");
    assert!(
        describe.contains("Last State:     Terminated"),
        "{describe}"
    );
    let healthy = k.json(&["get", "pods", "-l", "app=web"]).await;
    let web = healthy["items"][0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let out = k.run(&["logs", &web, "--previous"]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("previous terminated container"));
    k.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_viewer_may_look_but_not_scale() {
    let k = Kube::start(estate(Scenario::DbConnections, recent(120), 120, 1.0)).await;
    let out = k
        .run(&[
            "--context",
            "sim-viewer",
            "scale",
            "deploy/api",
            "--replicas=1",
        ])
        .await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Forbidden"), "{err}");
    assert!(
        err.contains("User \"sim-viewer\" cannot patch resource \"deployments/scale\""),
        "{err}"
    );
    let list = k.ok(&["--context", "sim-viewer", "get", "deploy"]).await;
    assert!(list.contains("api"));
    let can = k
        .run(&["--context", "sim-viewer", "auth", "can-i", "delete", "pods"])
        .await;
    assert!(!can.status.success());
    assert!(String::from_utf8_lossy(&can.stdout).starts_with("no"));
    let can = k.ok(&["auth", "can-i", "delete", "pods"]).await;
    assert!(can.starts_with("yes"));
    let d = k.json(&["get", "deploy", "api"]).await;
    assert_eq!(d["spec"]["replicas"], 3);
    k.server.shutdown().await;
}

/// The JSON patch kubectl's rollout undo sends (kubectl
/// pkg/polymorphichelpers/rollback.go): the previous ReplicaSet's template
/// without the pod-template-hash label, and the deployment's annotations
/// with the ReplicaSet's merged in (minus revision bookkeeping).
fn undo_patch(deployment: &Value, replica_sets: &Value) -> Value {
    let uid = &deployment["metadata"]["uid"];
    let mut owned: Vec<&Value> = replica_sets["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|rs| rs["metadata"]["ownerReferences"][0]["uid"] == *uid)
        .collect();
    let rev = |rs: &Value| -> u64 {
        rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
            .as_str()
            .and_then(|r| r.parse().ok())
            .unwrap_or(0)
    };
    owned.sort_by_key(|rs| rev(rs));
    let previous = owned[owned.len() - 2];
    let mut template = previous["spec"]["template"].clone();
    template["metadata"]["labels"]
        .as_object_mut()
        .unwrap()
        .remove("pod-template-hash");
    template["metadata"]["creationTimestamp"] = Value::Null;
    let skip = [
        "kubectl.kubernetes.io/last-applied-configuration",
        "deployment.kubernetes.io/revision",
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    ];
    let mut annotations = serde_json::Map::new();
    for k in skip {
        if let Some(v) = deployment["metadata"]["annotations"].get(k) {
            annotations.insert(k.to_string(), v.clone());
        }
    }
    if let Some(a) = previous["metadata"]["annotations"].as_object() {
        for (k, v) in a {
            if !skip.contains(&k.as_str()) {
                annotations.insert(k.clone(), v.clone());
            }
        }
    }
    json!([
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ])
}

fn http_patch(server: &ApiServer, path: &str, body: &Value) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(server.addr()).expect("connect");
    let body = body.to_string();
    let req = format!(
        "PATCH {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {}\r\nContent-Type: application/json-patch+json\r\nContent-Length: {}\r\n\r\n{body}",
        opsdeck::sim::kube_api::ADMIN_TOKEN,
        body.len()
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    let code = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_undo_matches_the_same_json_patch_over_http() {
    // Two identical frozen worlds after the bad revision rolled out.
    let start = recent(300);
    let a = Kube::start(estate(Scenario::BadDeploy, start, 300, 0.0)).await;
    let b = Kube::start(estate(Scenario::BadDeploy, start, 300, 0.0)).await;
    let ea = a.server.estate().clone();
    let eb = b.server.estate().clone();
    assert_eq!(
        normalised_deployment(&ea, "shop", "api"),
        normalised_deployment(&eb, "shop", "api")
    );
    let out = a.ok(&["rollout", "undo", "deploy/api"]).await;
    assert!(out.contains("rolled back"), "{out}");
    let d = b.json(&["get", "deploy", "api"]).await;
    let rs = b.json(&["get", "rs", "-l", "app=api"]).await;
    let (code, text) = http_patch(
        &b.server,
        "/apis/apps/v1/namespaces/shop/deployments/api",
        &undo_patch(&d, &rs),
    );
    assert_eq!(code, 200, "{text}");
    let na = normalised_deployment(&ea, "shop", "api");
    let nb = normalised_deployment(&eb, "shop", "api");
    assert_ne!(na, Value::Null);
    assert_eq!(na, nb);
    // Then both controllers reuse the old ReplicaSet as revision 4.
    for e in [&ea, &eb] {
        e.with(|w| w.step(Duration::from_secs(2)));
    }
    let na = normalised_deployment(&ea, "shop", "api");
    assert_eq!(na, normalised_deployment(&eb, "shop", "api"));
    assert_eq!(
        na["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "4"
    );
    a.server.shutdown().await;
    b.server.shutdown().await;
}
