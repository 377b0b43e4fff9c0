//! A moto_server (from `./scripts/moto-venv`) on a free 127.0.0.1 port,
//! killed when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ecs::config::Credentials;

const START_DEADLINE: Duration = Duration::from_secs(60);

pub struct Moto {
    child: Child,
    pub port: u16,
}

fn moto_server() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server");
    assert!(
        path.is_file(),
        "moto_server not found: run ./scripts/moto-venv (looked for {})",
        path.display()
    );
    path
}

pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}

impl Moto {
    /// Start moto_server and wait until it accepts connections.
    pub fn start() -> Moto {
        Moto::start_with_env(&[])
    }

    /// Start moto_server with extra environment variables (e.g.
    /// `INITIAL_NO_AUTH_ACTION_COUNT=0`, which makes it check credentials).
    pub fn start_with_env(env: &[(&str, &str)]) -> Moto {
        let bin = moto_server();
        let port = free_port();
        let child = Command::new(&bin)
            .args(["-p", &port.to_string(), "-H", "127.0.0.1"])
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
        let mut moto = Moto { child, port };
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return moto;
            }
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto_server exited before answering on port {port}: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer on 127.0.0.1:{port} within {START_DEADLINE:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// An SDK configuration for this server with static test credentials
    /// (the process environment is neither read for credentials nor changed).
    pub async fn sdk_config(&self) -> SdkConfig {
        sdk_config_for(&self.url()).await
    }
}

pub async fn sdk_config_for(url: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .load()
        .await
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The environment for an opsdeck session on moto at `url`: static test
/// credentials, no shared config files, no instance metadata.
#[allow(dead_code)] // not every suite that includes this module starts a session
pub fn session_env(url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", url.to_string()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_CONFIG_FILE", "/nonexistent/aws/config".into()),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws/credentials".into(),
        ),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ]
}
