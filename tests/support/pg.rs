//! A real PostgreSQL server for tests: initdb once into a template cluster
//! (kept under cargo's test tmp dir, with a test CA and a server certificate
//! for `localhost`), then each test copies it and starts its own server on a
//! free port on 127.0.0.1, as the `postgres` OS user; stopped on Drop.
//!
//! Needs the Debian `postgresql` package (binaries in
//! /usr/lib/postgresql/*/bin), `runuser` and `openssl`. Tests run as root.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

pub const SUPERUSER: &str = "postgres";
pub const SUPER_PASSWORD: &str = "Su-Secret-9f3a";
/// An ordinary role that can signal only its own sessions.
pub const APP_USER: &str = "app";
pub const APP_PASSWORD: &str = "App-Secret-41c7";
/// An operator role: member of pg_signal_backend and pg_read_all_stats.
pub const SIGNALLER: &str = "signaller";
pub const SIGNALLER_PASSWORD: &str = "Sig-Secret-2b8e";

const SETUP: &str = "apt-get install -y postgresql openssl";

fn bin_dir() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").exists().then_some((v, bin))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin; \
             these tests need a real server: run `{SETUP}`"
        ),
    }
}

fn run(cmd: &mut Command, what: &str) -> Output {
    let out = match cmd.output() {
        Ok(o) => o,
        Err(e) => panic!("{what}: cannot run {cmd:?}: {e} (set-up: `{SETUP}`)"),
    };
    if !out.status.success() {
        panic!(
            "{what} failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

fn as_postgres(program: &Path) -> Command {
    let mut c = Command::new("runuser");
    c.args(["-u", "postgres", "--"]).arg(program);
    c
}

fn chown_postgres(path: &Path) {
    run(
        Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(path),
        "chown",
    );
}

/// The template cluster (data dir + CA), made once per PostgreSQL version.
fn template() -> &'static PathBuf {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let bin = bin_dir();
        let version = bin
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|s| s.to_str())
            .unwrap_or("x")
            .to_string();
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let done = root.join(format!("opsdeck-pg{version}-template-v1"));
        if done.join("READY").exists() {
            return done;
        }
        std::fs::create_dir_all(&root).unwrap();
        let tmp = tempfile::Builder::new()
            .prefix("opsdeck-pg-template-")
            .tempdir_in(&root)
            .unwrap();
        let dir = tmp.path().to_path_buf();
        std::fs::write(dir.join("pwfile"), format!("{SUPER_PASSWORD}\n")).unwrap();
        chown_postgres(&dir);
        let data = dir.join("data");
        run(
            as_postgres(&bin.join("initdb"))
                .arg("-D")
                .arg(&data)
                .args([
                    "-U",
                    SUPERUSER,
                    "-E",
                    "UTF8",
                    "--no-sync",
                    "--no-instructions",
                ])
                .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
                .arg(format!("--pwfile={}", dir.join("pwfile").display())),
            "initdb",
        );
        make_certs(&dir, &data);
        chown_postgres(&dir);
        std::fs::write(dir.join("READY"), "").unwrap();
        let tmp_path = tmp.keep();
        if std::fs::rename(&tmp_path, &done).is_err() {
            // Another test process made it first.
            let _ = std::fs::remove_dir_all(&tmp_path);
        }
        done
    })
}

/// A test CA (`ca.crt`) and a server certificate for DNS name `localhost` only.
fn make_certs(dir: &Path, data: &Path) {
    let ssl = |args: &[&str], what: &str| {
        run(Command::new("openssl").current_dir(dir).args(args), what);
    };
    ssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "3650",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-subj",
            "/CN=opsdeck test CA",
        ],
        "openssl: test CA",
    );
    ssl(
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
        "openssl: server key",
    );
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    ssl(
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "3650",
            "-out",
            "server.crt",
            "-extfile",
            "server.ext",
        ],
        "openssl: server certificate",
    );
    std::fs::copy(dir.join("server.crt"), data.join("server.crt")).unwrap();
    std::fs::copy(dir.join("server.key"), data.join("server.key")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        data.join("server.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One running server. Stopped (immediate mode) and deleted on Drop.
pub struct PgServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
}

impl PgServer {
    /// A fresh server (copy of the template) with the test roles created.
    pub fn start() -> PgServer {
        let template = template();
        let bin = bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("opsdeck-pg-")
            .tempdir()
            .unwrap();
        run(
            Command::new("cp")
                .arg("-a")
                .arg(template.join("data"))
                .arg(dir.path().join("data")),
            "copy the template cluster",
        );
        std::fs::copy(template.join("ca.crt"), dir.path().join("ca.crt")).unwrap();
        chown_postgres(dir.path());
        let server = PgServer {
            dir,
            bin,
            port: free_port(),
        };
        server.start_again();
        let sql = format!(
            "CREATE ROLE {APP_USER} LOGIN PASSWORD '{APP_PASSWORD}'; \
             CREATE ROLE {SIGNALLER} LOGIN PASSWORD '{SIGNALLER_PASSWORD}' IN ROLE pg_signal_backend, pg_read_all_stats; \
             CREATE TABLE locked (id int); GRANT ALL ON locked TO PUBLIC;"
        );
        run(
            as_postgres(&server.bin.join("psql"))
                .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h"])
                .arg(server.dir.path())
                .args([
                    "-p",
                    &server.port.to_string(),
                    "-U",
                    SUPERUSER,
                    "-d",
                    "postgres",
                    "-c",
                ])
                .arg(sql),
            "create the test roles",
        );
        server
    }

    /// Run `sql` with psql as the superuser on database `db` (over the
    /// server's Unix socket); panics when it fails.
    pub fn psql(&self, db: &str, sql: &str) {
        run(
            as_postgres(&self.bin.join("psql"))
                .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h"])
                .arg(self.dir.path())
                .args([
                    "-p",
                    &self.port.to_string(),
                    "-U",
                    SUPERUSER,
                    "-d",
                    db,
                    "-c",
                ])
                .arg(sql),
            "psql",
        );
    }

    /// psql running the raw bytes of `script` on database `db` as the
    /// superuser, named `app`, with client_encoding SQL_ASCII (bytes pass
    /// unchecked). Kill the child to end it.
    pub fn psql_bytes(&self, db: &str, app: &str, script: &[u8]) -> std::process::Child {
        let file = self.dir.path().join(format!("{app}.sql"));
        std::fs::write(&file, script).unwrap();
        Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", SUPERUSER, "-d", db, "-f"])
            .arg(&file)
            .env("PGPASSWORD", SUPER_PASSWORD)
            .env("PGAPPNAME", app)
            .env("PGCLIENTENCODING", "SQL_ASCII")
            .env("PGSSLMODE", "disable")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("psql: {e}"))
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The test CA that signed the server's certificate (for `sslrootcert`).
    pub fn ca_cert(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// Start (again, on the same port) and wait until it accepts connections.
    pub fn start_again(&self) {
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} \
             -c max_connections=40 -c shared_buffers=16MB -c fsync=off -c ssl=on",
            self.port,
            self.dir.path().display()
        );
        let started = Instant::now();
        let out = as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.path().join("server.log"))
            .args(["-w", "-t", "60", "-o", &opts, "start"])
            .output()
            .unwrap();
        if !out.status.success() {
            let log =
                std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
            panic!(
                "pg_ctl start failed ({}): {}{}\nserver log:\n{log}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // pg_ctl -w waited for the postmaster; also wait until TCP answers.
        let deadline = started + Duration::from_secs(30);
        loop {
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "server on port {} never became ready",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stop at once (backends killed, clients see the connection drop).
    pub fn stop(&self) {
        run(
            as_postgres(&self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(self.data())
                .args(["-w", "-m", "immediate", "stop"]),
            "pg_ctl stop",
        );
    }

    /// A URL for `user` over TCP to 127.0.0.1 (TLS preferred, as libpq's default).
    pub fn url(&self, user: &str, password: &str) -> String {
        format!(
            "postgres://{user}:{password}@127.0.0.1:{}/postgres",
            self.port
        )
    }

    /// Like [`PgServer::url`], to database `db`.
    pub fn url_to(&self, db: &str, user: &str, password: &str) -> String {
        format!("postgres://{user}:{password}@127.0.0.1:{}/{db}", self.port)
    }

    pub fn superuser_url(&self) -> String {
        self.url(SUPERUSER, SUPER_PASSWORD)
    }

    /// A plain tokio-postgres client (no TLS) named `app` in pg_stat_activity.
    pub async fn client(&self, user: &str, password: &str, app: &str) -> TestClient {
        self.client_on("postgres", user, password, app).await
    }

    /// Like [`PgServer::client`], connected to database `db`.
    pub async fn client_on(&self, db: &str, user: &str, password: &str, app: &str) -> TestClient {
        let conninfo = format!(
            "host=127.0.0.1 port={} user={user} password={password} dbname={db} application_name={app}",
            self.port
        );
        let (client, connection) = tokio_postgres::connect(&conninfo, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("test client {app}: {e}"));
        let conn = tokio::spawn(connection);
        let pid: i32 = client
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .unwrap()
            .get(0);
        TestClient {
            client: Arc::new(client),
            pid,
            conn,
        }
    }

    /// A superuser session running `SELECT pg_sleep(600)`.
    pub async fn sleeper(&self, app: &str) -> Sleeper {
        self.sleeper_as(SUPERUSER, SUPER_PASSWORD, app).await
    }

    pub async fn sleeper_as(&self, user: &str, password: &str, app: &str) -> Sleeper {
        self.sleeper_on("postgres", user, password, app).await
    }

    /// A session of `user` on database `db` running `SELECT pg_sleep(600)`.
    pub async fn sleeper_on(&self, db: &str, user: &str, password: &str, app: &str) -> Sleeper {
        let c = self.client_on(db, user, password, app).await;
        let client = c.client.clone();
        let query = tokio::spawn(async move { client.batch_execute("SELECT pg_sleep(600)").await });
        Sleeper {
            app: app.to_string(),
            client: c,
            query,
        }
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let _ = as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.data())
            .args(["-w", "-m", "immediate", "stop"])
            .output();
    }
}

pub struct TestClient {
    pub client: Arc<tokio_postgres::Client>,
    pub pid: i32,
    pub conn: JoinHandle<Result<(), tokio_postgres::Error>>,
}

impl TestClient {
    /// Whether the server ended this connection (within a few seconds).
    pub async fn closed(&self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.client.is_closed() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    /// The connection still answers queries (only for a client that is not
    /// busy: queries queue behind a running one).
    pub async fn alive(&self) -> bool {
        !self.client.is_closed() && self.client.simple_query("SELECT 1").await.is_ok()
    }
}

/// A connection whose query is `SELECT pg_sleep(600)`.
pub struct Sleeper {
    pub app: String,
    pub client: TestClient,
    pub query: JoinHandle<Result<(), tokio_postgres::Error>>,
}

impl Sleeper {
    pub fn pid(&self) -> i32 {
        self.client.pid
    }

    /// The query's result, once it ended (waits up to 10 s).
    pub async fn outcome(self) -> Result<(), tokio_postgres::Error> {
        match tokio::time::timeout(Duration::from_secs(10), self.query).await {
            Ok(joined) => joined.unwrap(),
            Err(_) => panic!("the sleep query of {} is still running", self.app),
        }
    }

    /// Still sleeping: the query has not returned.
    pub fn sleeping(&self) -> bool {
        !self.query.is_finished() && !self.client.client.is_closed()
    }
}

/// Poll `check` until it returns Some, for at most `secs` seconds.
pub async fn wait_for<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
