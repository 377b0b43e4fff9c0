//! A proxy in front of moto_server: it counts the requests of each operation
//! (the last part of `X-Amz-Target` for the JSON protocols, e.g.
//! `FilterLogEvents`; the `Action` of a Query-protocol form, e.g.
//! `DescribeTargetHealth`), keeps their bodies, and answers the ones its
//! `answer` function takes itself (a throttling error, an operation moto
//! lacks); the rest go to moto, whose answer a `rewrite` function may change
//! (a state moto cannot produce). One request per connection:
//! `Connection: close` both ways.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One request as the proxy saw it.
pub struct Request {
    /// `FilterLogEvents`, `StopQuery`, ... (empty when there is no target).
    pub operation: String,
    /// Its number among the requests of this operation, from 1.
    pub n: usize,
    pub body: String,
}

/// An answer the proxy gives itself instead of moto.
pub struct Reply {
    pub status: u16,
    /// The JSON body.
    pub body: String,
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Option<Reply> {
        Some(Reply {
            status,
            body: body.to_string(),
        })
    }
}

type Answer = dyn Fn(&Request) -> Option<Reply> + Send + Sync;
type Rewrite = dyn Fn(&Request, &str) -> Option<String> + Send + Sync;

#[derive(Default)]
struct Seen {
    /// Request bodies by operation, in arrival order.
    bodies: HashMap<String, Vec<String>>,
    /// Requests answered by the proxy, by operation.
    answered: HashMap<String, usize>,
}

pub struct Proxy {
    pub url: String,
    seen: Arc<Mutex<Seen>>,
    task: JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    /// Serve on `listener`, forwarding to `upstream` (`127.0.0.1:port`)
    /// what `answer` leaves (returns `None` for).
    pub fn start(
        listener: TcpListener,
        upstream: String,
        answer: impl Fn(&Request) -> Option<Reply> + Send + Sync + 'static,
    ) -> Proxy {
        Proxy::start_rewriting(listener, upstream, answer, |_, _| None)
    }

    /// [`Proxy::start`], and moto's answers (their bodies) pass through
    /// `rewrite`, which returns a replacement or `None` to leave one as it is.
    pub fn start_rewriting(
        listener: TcpListener,
        upstream: String,
        answer: impl Fn(&Request) -> Option<Reply> + Send + Sync + 'static,
        rewrite: impl Fn(&Request, &str) -> Option<String> + Send + Sync + 'static,
    ) -> Proxy {
        let url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let answer: Arc<Answer> = Arc::new(answer);
        let rewrite: Arc<Rewrite> = Arc::new(rewrite);
        let shared = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((conn, _)) = listener.accept().await else {
                    return;
                };
                let (seen, answer, rewrite, upstream) = (
                    shared.clone(),
                    answer.clone(),
                    rewrite.clone(),
                    upstream.clone(),
                );
                tokio::spawn(async move {
                    if let Err(e) = serve(conn, &upstream, &seen, &*answer, &*rewrite).await {
                        eprintln!("proxy: {e}");
                    }
                });
            }
        });
        Proxy { url, seen, task }
    }

    /// Forward everything (counting it).
    pub fn forward_all(listener: TcpListener, upstream: String) -> Proxy {
        Proxy::start(listener, upstream, |_| None)
    }

    /// Requests of `operation` so far, answered or forwarded.
    pub fn requests(&self, operation: &str) -> usize {
        self.bodies(operation).len()
    }

    /// Requests of `operation` the proxy answered itself.
    pub fn answered(&self, operation: &str) -> usize {
        let seen = self.seen.lock().unwrap();
        seen.answered.get(operation).copied().unwrap_or(0)
    }

    /// Requests of `operation` that went to moto.
    pub fn forwarded(&self, operation: &str) -> usize {
        self.requests(operation) - self.answered(operation)
    }

    /// The bodies of the requests of `operation`, in arrival order.
    pub fn bodies(&self, operation: &str) -> Vec<String> {
        let seen = self.seen.lock().unwrap();
        seen.bodies.get(operation).cloned().unwrap_or_default()
    }
}

async fn serve(
    mut conn: TcpStream,
    upstream: &str,
    seen: &Mutex<Seen>,
    answer: &Answer,
    rewrite: &Rewrite,
) -> std::io::Result<()> {
    let Some((head, body)) = read_request(&mut conn).await? else {
        return Ok(());
    };
    let operation = match header(&head, "x-amz-target") {
        Some(target) => target.rsplit('.').next().unwrap_or("").to_string(),
        None => String::from_utf8_lossy(&body)
            .split('&')
            .find_map(|kv| kv.strip_prefix("Action="))
            .unwrap_or("")
            .to_string(),
    };
    let request = {
        let mut seen = seen.lock().unwrap();
        let bodies = seen.bodies.entry(operation.clone()).or_default();
        bodies.push(String::from_utf8_lossy(&body).into_owned());
        Request {
            operation: operation.clone(),
            n: bodies.len(),
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    };
    if let Some(reply) = answer(&request) {
        *seen.lock().unwrap().answered.entry(operation).or_default() += 1;
        let reason = if reply.status < 300 {
            "OK"
        } else {
            "Bad Request"
        };
        let response = format!(
            "HTTP/1.1 {} {reason}\r\n\
             Content-Type: application/x-amz-json-1.1\r\n\
             Content-Length: {}\r\n\
             x-amzn-RequestId: proxy-{}-{}\r\n\
             Connection: close\r\n\r\n{}",
            reply.status,
            reply.body.len(),
            request.operation,
            request.n,
            reply.body
        );
        conn.write_all(response.as_bytes()).await?;
        return conn.shutdown().await;
    }
    let mut up = TcpStream::connect(upstream).await?;
    up.write_all(connection_close(&head).as_bytes()).await?;
    up.write_all(&body).await?;
    let mut response = Vec::new();
    up.read_to_end(&mut response).await?;
    // Say `Connection: close` to the client too, so that it never reuses a
    // connection this proxy is about to close.
    let split = find(&response, b"\r\n\r\n").map_or(response.len(), |i| i + 4);
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let changed = rewrite(&request, &String::from_utf8_lossy(&response[split..]));
    let (head, body) = match changed {
        Some(body) => {
            assert!(
                header(&head, "transfer-encoding").is_none(),
                "the proxy only rewrites Content-Length bodies: {head}"
            );
            (with_length(&head, body.len()), body.into_bytes())
        }
        None => (head, response[split..].to_vec()),
    };
    conn.write_all(connection_close(&head).as_bytes()).await?;
    conn.write_all(&body).await?;
    conn.shutdown().await
}

/// The head with its Content-Length set to `n`.
fn with_length(head: &str, n: usize) -> String {
    head.split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|line| match line.split_once(':') {
            Some((k, _)) if k.trim().eq_ignore_ascii_case("content-length") => {
                format!("Content-Length: {n}")
            }
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\r\n")
        + "\r\n\r\n"
}

/// Read one HTTP/1.1 request: the head (through the blank line) and a
/// Content-Length body. `None` when the client closed without a request.
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
    assert!(
        header(&head, "transfer-encoding").is_none(),
        "the proxy only handles Content-Length bodies: {head}"
    );
    let length: usize =
        header(&head, "content-length").map_or(0, |v| v.trim().parse().expect("Content-Length"));
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "request body cut short",
            ));
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
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

/// The head with its Connection header replaced by `Connection: close`.
fn connection_close(head: &str) -> String {
    let mut out = String::new();
    for line in head.split("\r\n").filter(|l| !l.is_empty()) {
        let is_connection = line
            .split_once(':')
            .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("connection"));
        if !is_connection {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    out
}
