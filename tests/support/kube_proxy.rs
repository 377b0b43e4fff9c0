//! A plain-HTTP proxy in front of the simulator's Kubernetes API that hides
//! one API group, as a cluster without metrics-server has no
//! `metrics.k8s.io`: the group is left out of `/apis` discovery and its
//! paths answer 404. Everything else (watches and followed logs included)
//! passes through. One request per connection.
#![allow(dead_code)]

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub struct HidingProxy {
    pub url: String,
    task: JoinHandle<()>,
}

impl Drop for HidingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl HidingProxy {
    /// Serve on a free port, forwarding to `upstream` (`127.0.0.1:port`,
    /// plain HTTP) all but `group`.
    pub async fn start(upstream: String, group: &'static str) -> HidingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let task = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    if let Err(e) = serve(conn, &upstream, group).await {
                        eprintln!("kube proxy: {e}");
                    }
                });
            }
        });
        HidingProxy { url, task }
    }
}

async fn serve(mut conn: TcpStream, upstream: &str, group: &str) -> std::io::Result<()> {
    let Some((head, body)) = read_request(&mut conn).await? else {
        return Ok(());
    };
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let hidden = format!("/apis/{group}");
    if path == hidden
        || path.starts_with(&format!("{hidden}/"))
        || path.starts_with(&format!("{hidden}?"))
    {
        let status = serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "the server could not find the requested resource",
            "reason": "NotFound", "details": {}, "code": 404
        })
        .to_string();
        let response = format!(
            "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{status}",
            status.len()
        );
        conn.write_all(response.as_bytes()).await?;
        return conn.shutdown().await;
    }
    let mut up = TcpStream::connect(upstream).await?;
    let discovery = path == "/apis" || path.starts_with("/apis?");
    if !discovery {
        up.write_all(rewrite(&head, false).as_bytes()).await?;
        up.write_all(&body).await?;
        tokio::io::copy_bidirectional(&mut conn, &mut up).await?;
        return Ok(());
    }
    // Discovery: read the whole answer (HTTP/1.0, so neither chunked nor
    // kept alive) and drop the group from it.
    up.write_all(rewrite(&head, true).as_bytes()).await?;
    let mut response = Vec::new();
    up.read_to_end(&mut response).await?;
    let split = find(&response, b"\r\n\r\n").map_or(response.len(), |i| i + 4);
    let mut doc: serde_json::Value =
        serde_json::from_slice(&response[split..]).expect("discovery is JSON");
    for (list, name) in [("groups", "/name"), ("items", "/metadata/name")] {
        if let Some(entries) = doc.get_mut(list).and_then(|v| v.as_array_mut()) {
            entries.retain(|e| e.pointer(name).and_then(|n| n.as_str()) != Some(group));
        }
    }
    let body = doc.to_string();
    let content_type = header(&String::from_utf8_lossy(&response[..split]), "content-type")
        .unwrap_or_else(|| "application/json".into());
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(reply.as_bytes()).await?;
    conn.shutdown().await
}

/// The head with `Connection: close`, no compression, and HTTP/1.0 if asked.
fn rewrite(head: &str, http10: bool) -> String {
    let mut lines = head.split("\r\n").filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or_default();
    let mut out = if http10 {
        first.replace("HTTP/1.1", "HTTP/1.0")
    } else {
        first.to_string()
    };
    out.push_str("\r\n");
    for line in lines {
        let name = line
            .split_once(':')
            .map(|(k, _)| k.trim().to_ascii_lowercase());
        if matches!(name.as_deref(), Some("connection" | "accept-encoding")) {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    out
}

async fn read_request(conn: &mut TcpStream) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length: usize = header(&head, "content-length").map_or(0, |v| v.parse().unwrap_or(0));
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Some((head, body)))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn header(head: &str, name: &str) -> Option<String> {
    head.split("\r\n").skip(1).find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}
