//! The simulated Kubernetes API over real sockets, with a minimal blocking
//! HTTP/1.1 client (so every header, status and chunk is what the server
//! sent). The tests run on a multi-threaded runtime: the client blocks its
//! thread, the server runs on the others.

use std::time::{Duration, SystemTime};

use opsdeck::sim::kube_api::{ADMIN_TOKEN, ApiServer, ServeOptions, VIEWER_TOKEN};
use opsdeck::sim::{Scenario, SimEstate, World};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

/// A world `prewarm` into `scenario`, served at `speed`.
fn estate(scenario: Scenario, prewarm: u64, speed: f64) -> SimEstate {
    let start = SystemTime::now() - Duration::from_secs(prewarm);
    let mut w = World::new(scenario, 1, start);
    w.step(Duration::from_secs(prewarm));
    SimEstate::new(w, speed)
}

async fn server(scenario: Scenario, prewarm: u64, speed: f64) -> ApiServer {
    ApiServer::start(estate(scenario, prewarm, speed), ServeOptions::default())
        .await
        .expect("server starts")
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Req<'a> {
    method: &'a str,
    path: &'a str,
    token: Option<&'a str>,
    headers: Vec<(&'a str, &'a str)>,
    body: Option<Vec<u8>>,
}

impl<'a> Req<'a> {
    fn new(method: &'a str, path: &'a str) -> Self {
        Self {
            method,
            path,
            token: Some(ADMIN_TOKEN),
            headers: Vec::new(),
            body: None,
        }
    }
    fn token(mut self, t: Option<&'a str>) -> Self {
        self.token = t;
        self
    }
    fn header(mut self, k: &'a str, v: &'a str) -> Self {
        self.headers.push((k, v));
        self
    }
    fn json(mut self, content_type: &'a str, v: &Value) -> Self {
        self.headers.push(("Content-Type", content_type));
        self.body = Some(v.to_string().into_bytes());
        self
    }
}

async fn send_head(s: &ApiServer, r: &Req<'_>) -> BufReader<TcpStream> {
    let mut stream = TcpStream::connect(s.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        r.method,
        r.path,
        s.addr()
    );
    if let Some(t) = r.token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    for (k, v) in &r.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = r.body.clone().unwrap_or_default();
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).expect("write");
    stream.write_all(&body).expect("write body");
    BufReader::new(stream)
}

async fn read_head(rd: &mut BufReader<TcpStream>) -> (u16, Vec<(String, String)>) {
    let mut line = String::new();
    rd.read_line(&mut line).expect("status line");
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {line:?}"));
    let mut headers = Vec::new();
    loop {
        line.clear();
        rd.read_line(&mut line).expect("header");
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    (status, headers)
}

async fn request(s: &ApiServer, r: Req<'_>) -> Resp {
    let mut rd = send_head(s, &r).await;
    let (status, headers) = read_head(&mut rd).await;
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let mut body = Vec::new();
    if chunked {
        let mut chunks = Chunks::new(rd);
        loop {
            match chunks.bytes(Duration::from_secs(30)) {
                Ok(data) => body.extend(data),
                Err(Next::Ended) => break,
                Err(other) => panic!("the response body did not end properly: {other:?}"),
            }
        }
    } else {
        rd.read_to_end(&mut body).expect("body");
    }
    Resp {
        status,
        headers,
        body,
    }
}

/// What reading a watch or a followed log gave.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    /// One complete line of the body.
    Line(String),
    /// The server ended the body: the terminating zero-length chunk.
    Ended,
    /// The connection closed (EOF or reset) without the body's end.
    Closed,
    /// Nothing arrived in time; the stream is still open.
    Quiet,
}

/// A chunked response read incrementally (watches, followed logs): the
/// chunk framing is decoded here, so a clean end of the body, a closed
/// connection and silence are told apart.
struct Chunks {
    stream: TcpStream,
    /// Bytes read but not yet decoded.
    raw: Vec<u8>,
    /// Decoded body bytes not yet handed out.
    buf: Vec<u8>,
    /// How the body ended, once it has.
    end: Option<Next>,
}

impl Chunks {
    fn new(rd: BufReader<TcpStream>) -> Chunks {
        let raw = rd.buffer().to_vec();
        Chunks {
            stream: rd.into_inner(),
            raw,
            buf: Vec::new(),
            end: None,
        }
    }

    /// Decode every complete chunk in `raw` into `buf`; note the end.
    fn decode(&mut self) {
        while self.end.is_none() {
            let Some(eol) = self.raw.windows(2).position(|w| w == b"\r\n") else {
                return;
            };
            let size_line = String::from_utf8_lossy(&self.raw[..eol]).to_string();
            let hex = size_line.split(';').next().unwrap_or("").trim();
            let n = usize::from_str_radix(hex, 16)
                .unwrap_or_else(|_| panic!("bad chunk size line {size_line:?}"));
            if n == 0 {
                self.end = Some(Next::Ended);
                return;
            }
            let need = eol + 2 + n + 2;
            if self.raw.len() < need {
                return;
            }
            assert_eq!(
                &self.raw[need - 2..need],
                b"\r\n",
                "chunk not ended by CRLF"
            );
            self.buf.extend_from_slice(&self.raw[eol + 2..eol + 2 + n]);
            self.raw.drain(..need);
        }
    }

    /// Read more bytes before `deadline`: `Err` says why none came.
    fn fill(&mut self, deadline: Instant) -> Result<(), Next> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Next::Quiet);
        }
        self.stream
            .set_read_timeout(Some(left))
            .expect("read timeout");
        let mut data = [0u8; 16 * 1024];
        match self.stream.read(&mut data) {
            Ok(0) => Err(Next::Closed),
            Ok(n) => {
                self.raw.extend_from_slice(&data[..n]);
                Ok(())
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                Err(Next::Quiet)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
                ) =>
            {
                Err(Next::Closed)
            }
            Err(e) => panic!("reading the stream: {e}"),
        }
    }

    /// Whatever body bytes arrive next (at least one), or why none did.
    fn bytes(&mut self, wait: Duration) -> Result<Vec<u8>, Next> {
        let deadline = Instant::now() + wait;
        loop {
            self.decode();
            if !self.buf.is_empty() {
                return Ok(std::mem::take(&mut self.buf));
            }
            if let Some(end) = &self.end {
                return Err(match end {
                    Next::Ended => Next::Ended,
                    _ => Next::Closed,
                });
            }
            if let Err(why) = self.fill(deadline) {
                if why == Next::Closed {
                    self.end = Some(Next::Closed);
                    continue;
                }
                return Err(why);
            }
        }
    }

    /// The next complete line; else how the body ended, or `Quiet` after `wait`.
    async fn next(&mut self, wait: Duration) -> Next {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(i) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                return Next::Line(String::from_utf8_lossy(&line).trim_end().to_string());
            }
            self.decode();
            if self.buf.contains(&b'\n') {
                continue;
            }
            if let Some(end) = &self.end {
                return match end {
                    Next::Ended => Next::Ended,
                    _ => Next::Closed,
                };
            }
            match self.fill(deadline) {
                Ok(()) => {}
                Err(Next::Closed) => self.end = Some(Next::Closed),
                Err(why) => return why,
            }
        }
    }

    /// The next complete line; fails with what happened instead.
    async fn line(&mut self, wait: Duration) -> Result<String, Next> {
        match self.next(wait).await {
            Next::Line(l) => Ok(l),
            other => Err(other),
        }
    }

    /// The next watch event whose type is `want`; fails with what happened instead.
    async fn event(&mut self, want: &str, wait: Duration) -> Result<Value, Next> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.line(left).await?;
            let v: Value = serde_json::from_str(&line).expect("watch line is JSON");
            if v["type"] == want {
                return Ok(v);
            }
        }
    }
}

async fn stream(s: &ApiServer, r: Req<'_>) -> (u16, Chunks) {
    let mut rd = send_head(s, &r).await;
    let (status, _) = read_head(&mut rd).await;
    (status, Chunks::new(rd))
}

async fn get(s: &ApiServer, path: &str) -> Resp {
    request(s, Req::new("GET", path)).await
}

const PODS: &str = "/api/v1/namespaces/shop/pods";
const DEPLOYS: &str = "/apis/apps/v1/namespaces/shop/deployments";
const MERGE: &str = "application/merge-patch+json";
const STRATEGIC: &str = "application/strategic-merge-patch+json";
const JSON_PATCH: &str = "application/json-patch+json";
const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| i["metadata"]["name"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_documents_have_the_real_shapes() {
    let s = server(Scenario::DbConnections, 60, 0.0).await;
    let v = get(&s, "/api").await.json();
    assert_eq!(v["kind"], "APIVersions");
    assert_eq!(v["versions"], json!(["v1"]));
    let v = get(&s, "/apis").await;
    assert_eq!(v.header("content-type"), Some("application/json"));
    let v = v.json();
    assert_eq!(v["kind"], "APIGroupList");
    let groups: Vec<&str> = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert!(groups.contains(&"apps") && groups.contains(&"authorization.k8s.io"));
    let core = get(&s, "/api/v1").await.json();
    assert_eq!(core["kind"], "APIResourceList");
    assert_eq!(core["groupVersion"], "v1");
    let pods = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "pods")
        .cloned()
        .unwrap();
    assert_eq!(pods["kind"], "Pod");
    assert_eq!(pods["namespaced"], true);
    assert!(pods["verbs"].as_array().unwrap().contains(&json!("watch")));
    let apps = get(&s, "/apis/apps/v1").await.json();
    let scale = apps["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "deployments/scale")
        .cloned()
        .unwrap();
    assert_eq!(
        (&scale["group"], &scale["version"], &scale["kind"]),
        (&json!("autoscaling"), &json!("v1"), &json!("Scale"))
    );
    assert_eq!(get(&s, "/version").await.json()["major"], "1");
    let missing = get(&s, "/openapi/v2").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["kind"], "Status");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_filter_by_label_and_field_selectors() {
    let s = server(Scenario::DbConnections, 60, 0.0).await;
    let all = get(&s, PODS).await.json();
    assert_eq!(all["kind"], "PodList");
    assert_eq!(all["apiVersion"], "v1");
    let rv: u64 = all["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|r| r.parse().ok())
        .expect("list resourceVersion");
    assert!(rv > 1000);
    assert_eq!(names(&all).len(), 7);
    let api = get(&s, &format!("{PODS}?labelSelector=app%3Dapi"))
        .await
        .json();
    assert_eq!(names(&api).len(), 3);
    assert!(names(&api).iter().all(|n| n.starts_with("api-")));
    let set = get(&s, &format!("{PODS}?labelSelector=app%20in%20(api%2Cweb)"))
        .await
        .json();
    assert_eq!(names(&set).len(), 5);
    let none = get(&s, &format!("{PODS}?labelSelector=!app")).await.json();
    assert!(names(&none).is_empty());
    let first = names(&api)[0].clone();
    let one = get(&s, &format!("{PODS}?fieldSelector=metadata.name%3D{first}"))
        .await
        .json();
    assert_eq!(names(&one), vec![first.clone()]);
    let running = get(&s, &format!("{PODS}?fieldSelector=status.phase%3DRunning"))
        .await
        .json();
    assert_eq!(names(&running).len(), 7);
    let across = get(&s, "/api/v1/pods?fieldSelector=metadata.namespace%3Dshop")
        .await
        .json();
    assert_eq!(names(&across).len(), 7);
    let deploys = get(&s, DEPLOYS).await.json();
    assert_eq!(deploys["kind"], "DeploymentList");
    assert_eq!(names(&deploys), vec!["api", "web", "worker"]);
    let page = get(&s, &format!("{DEPLOYS}?limit=2")).await.json();
    assert_eq!(names(&page).len(), 2);
    let token = page["metadata"]["continue"].as_str().unwrap().to_string();
    let rest = get(&s, &format!("{DEPLOYS}?limit=2&continue={token}"))
        .await
        .json();
    assert_eq!(names(&rest), vec!["worker"]);
    let events = get(
        &s,
        "/api/v1/namespaces/shop/events?fieldSelector=involvedObject.kind%3DDeployment,involvedObject.name%3Dapi",
    )
    .await;
    assert_eq!(events.status, 200);
    assert_eq!(events.json()["kind"], "EventList");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_have_kubectls_columns() {
    let s = server(Scenario::DbConnections, 60, 0.0).await;
    let t = request(&s, Req::new("GET", PODS).header("Accept", TABLE))
        .await
        .json();
    assert_eq!(t["kind"], "Table");
    let cols: Vec<&str> = t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["priority"] == 0)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(cols, vec!["Name", "Ready", "Status", "Restarts", "Age"]);
    let row = &t["rows"][0];
    assert_eq!(row["cells"][1], "1/1");
    assert_eq!(row["cells"][2], "Running");
    assert_eq!(row["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(row["object"]["metadata"]["namespace"], "shop");
    let d = request(&s, Req::new("GET", DEPLOYS).header("Accept", TABLE))
        .await
        .json();
    let cols: Vec<&str> = d["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["priority"] == 0)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        cols,
        vec!["Name", "Ready", "Up-to-date", "Available", "Age"]
    );
    assert_eq!(d["rows"][0]["cells"][0], "api");
    assert_eq!(d["rows"][0]["cells"][1], "3/3");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_from_a_resource_version_sees_a_scale() {
    let s = server(Scenario::DbConnections, 60, 0.0).await;
    let rv = get(&s, DEPLOYS).await.json()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("{DEPLOYS}?watch=1&resourceVersion={rv}&fieldSelector=metadata.name%3Dapi");
    let (status, mut w) = stream(&s, Req::new("GET", &path)).await;
    assert_eq!(status, 200);
    let scaled = request(
        &s,
        Req::new("PATCH", &format!("{DEPLOYS}/api/scale"))
            .json(MERGE, &json!({"spec": {"replicas": 5}})),
    )
    .await;
    assert_eq!(scaled.status, 200, "{}", scaled.text());
    assert_eq!(scaled.json()["spec"]["replicas"], 5);
    let ev = w
        .event("MODIFIED", Duration::from_secs(5))
        .await
        .expect("MODIFIED");
    assert_eq!(ev["object"]["metadata"]["name"], "api");
    assert_eq!(ev["object"]["spec"]["replicas"], 5);
    assert_eq!(ev["object"]["kind"], "Deployment");
    let new_rv: u64 = ev["object"]["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|r| r.parse().ok())
        .unwrap();
    assert!(new_rv > rv.parse::<u64>().unwrap());
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_initial_events_ends_with_the_initial_events_end_bookmark() {
    let s = server(Scenario::DbConnections, 60, 0.0).await;
    let path = format!(
        "{PODS}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&labelSelector=app%3Dweb"
    );
    let (_, mut w) = stream(&s, Req::new("GET", &path)).await;
    let mut added = 0;
    loop {
        let line = w.line(Duration::from_secs(5)).await.expect("an event");
        let v: Value = serde_json::from_str(&line).unwrap();
        match v["type"].as_str() {
            Some("ADDED") => added += 1,
            Some("BOOKMARK") => {
                assert_eq!(
                    v["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
                    "true"
                );
                assert_eq!(v["object"]["kind"], "Pod");
                assert!(v["object"]["metadata"]["resourceVersion"].is_string());
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(added, 2);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_resource_versions_are_gone() {
    let s = server(Scenario::DbConnections, 60, 0.0).await;
    let (status, mut w) = stream(
        &s,
        Req::new("GET", &format!("{PODS}?watch=1&resourceVersion=1")),
    )
    .await;
    assert_eq!(status, 200);
    let ev = w
        .event("ERROR", Duration::from_secs(5))
        .await
        .expect("ERROR event");
    assert_eq!(ev["object"]["kind"], "Status");
    assert_eq!(ev["object"]["code"], 410);
    assert_eq!(ev["object"]["reason"], "Expired");
    // The server ends the watch after the 410 (a frozen world sends nothing
    // else, so silence would not show that).
    assert_eq!(
        w.next(Duration::from_secs(10)).await,
        Next::Ended,
        "the watch ends after the ERROR event"
    );
    let list = get(
        &s,
        &format!("{PODS}?resourceVersion=1&resourceVersionMatch=Exact"),
    )
    .await;
    assert_eq!(list.status, 410);
    assert_eq!(list.json()["reason"], "Expired");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patches_of_every_kind_change_the_deployment() {
    let s = server(Scenario::DbConnections, 60, 0.0).await;
    let api = format!("{DEPLOYS}/api");
    let before = get(&s, &api).await.json();
    let generation = before["metadata"]["generation"].as_i64().unwrap();
    // Merge patch: a label.
    let r = request(
        &s,
        Req::new("PATCH", &api).json(
            MERGE,
            &json!({"metadata": {"labels": {"team": "checkout"}}}),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["metadata"]["labels"]["team"], "checkout");
    assert_eq!(
        r.json()["metadata"]["generation"],
        generation,
        "metadata only"
    );
    // Strategic merge: the container by name, the list is merged.
    let image = "registry.example.com/shop/api:1.8.3";
    let r = request(
        &s,
        Req::new("PATCH", &api).json(
            STRATEGIC,
            &json!({"spec": {"template": {"spec": {"containers": [{"name": "api", "image": image}]}}}}),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    let containers = v["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(containers.len(), 1);
    assert_eq!(containers[0]["image"], image);
    assert_eq!(containers[0]["resources"]["limits"]["memory"], "768Mi");
    assert_eq!(v["metadata"]["generation"], generation + 1);
    // JSON patch: replicas.
    let r = request(
        &s,
        Req::new("PATCH", &api).json(
            JSON_PATCH,
            &json!([{"op": "replace", "path": "/spec/replicas", "value": 4}]),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["spec"]["replicas"], 4);
    // A JSON patch that does not apply, and apply-patch.
    let bad = request(
        &s,
        Req::new("PATCH", &api).json(
            JSON_PATCH,
            &json!([{"op": "test", "path": "/spec/replicas", "value": 99}]),
        ),
    )
    .await;
    assert_eq!(bad.status, 422);
    let apply = request(
        &s,
        Req::new("PATCH", &api).json("application/apply-patch+yaml", &json!({})),
    )
    .await;
    assert_eq!(apply.status, 415);
    // The template change rolls out through a new ReplicaSet.
    s.estate().with(|w| w.step(Duration::from_secs(2)));
    let rs = get(
        &s,
        "/apis/apps/v1/namespaces/shop/replicasets?labelSelector=app%3Dapi",
    )
    .await
    .json();
    let new_rs = rs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["spec"]["template"]["spec"]["containers"][0]["image"] == image)
        .cloned()
        .expect("a ReplicaSet for the new template");
    assert_eq!(
        new_rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "3"
    );
    assert_eq!(
        new_rs["metadata"]["ownerReferences"][0]["kind"],
        "Deployment"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_changes_nothing() {
    let s = server(Scenario::DbConnections, 60, 0.0).await;
    let api = format!("{DEPLOYS}/api");
    let before = get(&s, &api).await.json();
    let r = request(
        &s,
        Req::new("PATCH", &format!("{api}?dryRun=All"))
            .json(MERGE, &json!({"spec": {"replicas": 9}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["spec"]["replicas"], 9);
    let pod = names(&get(&s, PODS).await.json())[0].clone();
    let del = request(&s, Req::new("DELETE", &format!("{PODS}/{pod}?dryRun=All"))).await;
    assert_eq!(del.status, 200);
    let after = get(&s, &api).await.json();
    assert_eq!(after, before);
    let p = get(&s, &format!("{PODS}/{pod}")).await.json();
    assert!(p["metadata"].get("deletionTimestamp").is_none());
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_decide_who_may_do_what() {
    let s = server(Scenario::DbConnections, 60, 0.0).await;
    for token in [None, Some("wrong")] {
        let r = request(&s, Req::new("GET", PODS).token(token)).await;
        assert_eq!(r.status, 401);
        assert_eq!(r.json()["reason"], "Unauthorized");
        assert_eq!(r.json()["kind"], "Status");
    }
    let r = request(&s, Req::new("GET", PODS).token(Some(VIEWER_TOKEN))).await;
    assert_eq!(r.status, 200);
    let r = request(
        &s,
        Req::new("PATCH", &format!("{DEPLOYS}/api/scale"))
            .token(Some(VIEWER_TOKEN))
            .json(MERGE, &json!({"spec": {"replicas": 1}})),
    )
    .await;
    assert_eq!(r.status, 403);
    let v = r.json();
    assert_eq!(v["reason"], "Forbidden");
    assert_eq!(
        v["message"],
        "deployments.apps \"api\" is forbidden: User \"sim-viewer\" cannot patch resource \"deployments/scale\" in API group \"apps\" in the namespace \"shop\""
    );
    assert_eq!(
        get(&s, &format!("{DEPLOYS}/api")).await.json()["spec"]["replicas"],
        3
    );
    let ssar = |verb: &str| {
        json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"namespace": "shop", "verb": verb, "group": "apps", "resource": "deployments"}},
        })
    };
    let path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    for (token, verb, allowed) in [
        (ADMIN_TOKEN, "patch", true),
        (VIEWER_TOKEN, "list", true),
        (VIEWER_TOKEN, "patch", false),
    ] {
        let r = request(
            &s,
            Req::new("POST", path)
                .token(Some(token))
                .json("application/json", &ssar(verb)),
        )
        .await;
        assert_eq!(r.status, 201);
        let v = r.json();
        assert_eq!(v["kind"], "SelfSubjectAccessReview");
        assert_eq!(v["status"]["allowed"], allowed, "{token} {verb}");
        assert!(!v["status"]["reason"].as_str().unwrap_or("").is_empty());
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_status_objects() {
    let s = server(Scenario::DbConnections, 60, 0.0).await;
    let r = get(&s, &format!("{PODS}/nope")).await;
    assert_eq!(r.status, 404);
    let v = r.json();
    assert_eq!(v["reason"], "NotFound");
    assert_eq!(v["message"], "pods \"nope\" not found");
    assert_eq!(v["details"], json!({"name": "nope", "kind": "pods"}));
    let d = get(&s, &format!("{DEPLOYS}/nope")).await.json();
    assert_eq!(
        d["details"],
        json!({"name": "nope", "group": "apps", "kind": "deployments"})
    );
    // PUT with a stale resourceVersion.
    let mut api = get(&s, &format!("{DEPLOYS}/api")).await.json();
    api["metadata"]["resourceVersion"] = json!("1");
    api["spec"]["replicas"] = json!(4);
    let r = request(
        &s,
        Req::new("PUT", &format!("{DEPLOYS}/api")).json("application/json", &api),
    )
    .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["reason"], "Conflict");
    // 422 for a negative replica count.
    let r = request(
        &s,
        Req::new("PATCH", &format!("{DEPLOYS}/api"))
            .json(MERGE, &json!({"spec": {"replicas": -1}})),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["reason"], "Invalid");
    assert_eq!(r.json()["details"]["causes"][0]["field"], "spec.replicas");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scale_subresource() {
    let s = server(Scenario::DbConnections, 60, 0.0).await;
    let path = format!("{DEPLOYS}/api/scale");
    let sc = get(&s, &path).await.json();
    assert_eq!(sc["kind"], "Scale");
    assert_eq!(sc["apiVersion"], "autoscaling/v1");
    assert_eq!(sc["spec"]["replicas"], 3);
    assert_eq!(sc["status"]["selector"], "app=api");
    let mut put = sc.clone();
    put["spec"]["replicas"] = json!(6);
    let r = request(&s, Req::new("PUT", &path).json("application/json", &put)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["spec"]["replicas"], 6);
    let stale = request(&s, Req::new("PUT", &path).json("application/json", &put)).await;
    assert_eq!(stale.status, 409, "the resourceVersion moved on");
    let d = get(&s, &format!("{DEPLOYS}/api")).await.json();
    assert_eq!(d["spec"]["replicas"], 6);
    s.estate().with(|w| w.step(Duration::from_secs(10)));
    let pods = get(&s, &format!("{PODS}?labelSelector=app%3Dapi"))
        .await
        .json();
    assert_eq!(names(&pods).len(), 6);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pod_logs_tail_timestamps_previous_and_follow() {
    let s = server(Scenario::OomCrashloop, 720, 1.0).await;
    let pods = get(&s, PODS).await.json();
    let crashed = pods["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["status"]["containerStatuses"][0]["restartCount"].as_i64() > Some(0))
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .expect("a restarted worker pod");
    let healthy = names(
        &get(&s, &format!("{PODS}?labelSelector=app%3Dweb"))
            .await
            .json(),
    )[0]
    .clone();
    let tail = get(&s, &format!("{PODS}/{healthy}/log?tailLines=3")).await;
    assert_eq!(tail.status, 200);
    assert_eq!(tail.text().lines().count(), 3);
    let ts = get(
        &s,
        &format!("{PODS}/{healthy}/log?tailLines=2&timestamps=true"),
    )
    .await
    .text();
    for line in ts.lines() {
        let stamp = line.split(' ').next().unwrap();
        assert!(
            stamp.ends_with('Z') && stamp.contains('T') && stamp.len() == 30,
            "{line}"
        );
    }
    let prev = get(&s, &format!("{PODS}/{crashed}/log?previous=true")).await;
    assert_eq!(prev.status, 200);
    assert!(!prev.text().is_empty());
    let none = get(&s, &format!("{PODS}/{healthy}/log?previous=true")).await;
    assert_eq!(none.status, 400);
    assert!(
        none.json()["message"]
            .as_str()
            .unwrap()
            .contains("previous terminated container")
    );
    let wrong = get(&s, &format!("{PODS}/{healthy}/log?container=nope")).await;
    assert_eq!(wrong.status, 400);
    // PodLogOptions are validated as the API server does.
    let both = get(
        &s,
        &format!("{PODS}/{healthy}/log?sinceSeconds=10&sinceTime=2026-01-01T00:00:00Z"),
    )
    .await;
    assert_eq!(both.status, 422);
    assert_eq!(
        both.json()["message"],
        format!(
            "PodLogOptions \"{healthy}\" is invalid: sinceSeconds: Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified"
        )
    );
    let zero = get(&s, &format!("{PODS}/{healthy}/log?sinceSeconds=0")).await;
    assert_eq!(zero.status, 422);
    let garbage = get(&s, &format!("{PODS}/{healthy}/log?sinceTime=yesterday")).await;
    assert_eq!(garbage.status, 400);
    assert!(
        garbage.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("parsing time \"yesterday\"")
    );
    let (status, mut follow) = stream(
        &s,
        Req::new(
            "GET",
            &format!("{PODS}/{healthy}/log?follow=true&tailLines=1"),
        ),
    )
    .await;
    assert_eq!(status, 200);
    let mut lines = 0;
    while lines < 3 {
        follow
            .line(Duration::from_secs(20))
            .await
            .expect("followed lines keep coming");
        lines += 1;
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_pods_are_replaced_and_restarts_roll_out() {
    let s = server(Scenario::DbConnections, 60, 0.0).await;
    let web = names(
        &get(&s, &format!("{PODS}?labelSelector=app%3Dweb"))
            .await
            .json(),
    );
    let r = request(
        &s,
        Req::new("DELETE", &format!("{PODS}/{}", web[0])).json(
            "application/json",
            &json!({"propagationPolicy": "Background"}),
        ),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.json()["metadata"]["deletionTimestamp"].is_string());
    s.estate().with(|w| w.step(Duration::from_secs(10)));
    let now = names(
        &get(&s, &format!("{PODS}?labelSelector=app%3Dweb"))
            .await
            .json(),
    );
    assert_eq!(now.len(), 2);
    assert!(!now.contains(&web[0]));
    let events = get(
        &s,
        &format!(
            "/api/v1/namespaces/shop/events?fieldSelector=involvedObject.name%3D{}",
            web[0]
        ),
    )
    .await
    .json();
    let reasons: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert!(reasons.contains(&"Killing"), "{reasons:?}");
    let r = request(
        &s,
        Req::new("PATCH", &format!("{DEPLOYS}/web")).json(
            STRATEGIC,
            &json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"}}}}}),
        ),
    )
    .await;
    assert_eq!(r.status, 200);
    s.estate().with(|w| w.step(Duration::from_secs(60)));
    let d = get(&s, &format!("{DEPLOYS}/web")).await.json();
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "3"
    );
    assert_eq!(
        d["status"]["observedGeneration"],
        d["metadata"]["generation"]
    );
    assert_eq!(d["status"]["updatedReplicas"], 2);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_continues_the_watch() {
    let estate = estate(Scenario::DbConnections, 60, 0.0);
    let s = ApiServer::start(estate.clone(), ServeOptions::default())
        .await
        .unwrap();
    let port = s.addr().port();
    let list = get(&s, DEPLOYS).await.json();
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, mut w) = stream(
        &s,
        Req::new("GET", &format!("{DEPLOYS}?watch=1&resourceVersion={rv}")),
    )
    .await;
    request(
        &s,
        Req::new("PATCH", &format!("{DEPLOYS}/web/scale"))
            .json(MERGE, &json!({"spec": {"replicas": 3}})),
    )
    .await;
    let ev = w.event("MODIFIED", Duration::from_secs(5)).await.unwrap();
    let seen = ev["object"]["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    // Open and frozen: nothing more comes, and the stream stays open.
    assert_eq!(w.next(Duration::from_millis(300)).await, Next::Quiet);
    s.shutdown().await;
    assert_eq!(
        w.next(Duration::from_secs(10)).await,
        Next::Ended,
        "shutdown ends the watch"
    );
    let s = ApiServer::start(estate, ServeOptions { port })
        .await
        .expect("same port again");
    assert_eq!(s.addr().port(), port);
    let again = get(&s, &format!("{DEPLOYS}/web")).await.json();
    assert_eq!(again["metadata"]["resourceVersion"], seen.as_str());
    let (_, mut w) = stream(
        &s,
        Req::new("GET", &format!("{DEPLOYS}?watch=1&resourceVersion={seen}")),
    )
    .await;
    request(
        &s,
        Req::new("PATCH", &format!("{DEPLOYS}/web/scale"))
            .json(MERGE, &json!({"spec": {"replicas": 4}})),
    )
    .await;
    let ev = w.event("MODIFIED", Duration::from_secs(5)).await.unwrap();
    assert_eq!(ev["object"]["spec"]["replicas"], 4);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_reads_and_watches_through_the_kubeconfig() {
    use futures_util::StreamExt;
    use k8s_openapi::api::core::v1::Pod;
    use kube::runtime::watcher;

    let s = server(Scenario::DbConnections, 60, 0.0).await;
    let kubeconfig: kube::config::Kubeconfig = serde_json::from_str(&s.kubeconfig()).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .expect("kubeconfig loads");
    opsdeck::kube::config::choose_tls_provider();
    let client = kube::Client::try_from(config).expect("client");
    let pods: kube::Api<Pod> = kube::Api::namespaced(client, "shop");
    let list = pods.list(&Default::default()).await.expect("list over TLS");
    assert_eq!(list.items.len(), 7);
    let mut w = watcher(pods, watcher::Config::default().streaming_lists()).boxed();
    let mut init_done = false;
    while let Ok(Some(ev)) = tokio::time::timeout(Duration::from_secs(5), w.next()).await {
        if matches!(ev, Ok(watcher::Event::InitDone)) {
            init_done = true;
            break;
        }
    }
    assert!(
        init_done,
        "a streaming-list watcher completes its initial list"
    );
    s.shutdown().await;
}
