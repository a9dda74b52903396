//! The service as operators run it: `coursebridge serve` processes, one or more on one database,
//! behind a small round-robin proxy when there are several, each with its own `/metrics`.
use std::{
    net::SocketAddr,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use coursebridge::{
    devplatform::{DevPlatform, ToolUrls},
    store,
};
use url::Url;

use crate::helpers::{Backend, TestApp, TestDatabase, register, test_config};

/// A port nothing listens on now, for a server the test starts on it later.
///
/// It is taken below the kernel's ephemeral range: a port the kernel handed out for `:0` and got
/// back could be handed out again to the next listener on `:0` (seen: the mail test's "down" mail
/// server port went to its own app, which took the SMTP connection and never answered).
pub fn free_port() -> u16 {
    let range =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let ephemeral_from: u16 = range
        .split_whitespace()
        .next()
        .and_then(|low| low.parse().ok())
        .unwrap_or(32_768);
    let below = ephemeral_from.saturating_sub(10_000).max(1_024);
    // Each test runs in a process of its own: the pid spreads processes apart, the counter keeps
    // one process's ports apart until they are bound.
    static TAKEN: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let seed = std::process::id().wrapping_mul(7919);
    (0..10_000)
        .map(|_| {
            let step = TAKEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            below + (seed.wrapping_add(step) % 10_000) as u16
        })
        .find(|&port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok())
        .expect("a free port below the ephemeral range")
}

/// One `serve` process, killed when the test ends however it ends.
pub struct Instance {
    pub child: Option<Child>,
    pub base: Url,
    pub metrics: Url,
    /// Its stderr: the log lines.
    pub log: PathBuf,
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

impl Instance {
    /// Sends `signal` (`KILL`, `TERM`) to the process.
    pub fn signal(&mut self, signal: &str) {
        let child = self.child.as_ref().unwrap();
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Waits for the process to end and says how it ended.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        let status = self.child.as_mut().unwrap().wait().unwrap();
        self.child = None;
        status
    }

    /// The log lines written so far.
    pub fn log_lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// `/metrics` now, as text.
    pub async fn scrape(&self) -> String {
        let response = reqwest::get(self.metrics.join("metrics").unwrap())
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        response.text().await.unwrap()
    }
}

/// Served processes with the development platform registered, and the test's own connection.
pub struct Served {
    // First: the processes stop before the database (inside `app`) is dropped.
    pub instances: Vec<Instance>,
    pub app: Arc<TestApp>,
}

/// Starts `count` instances on one new database, behind a round-robin proxy when `count > 1`.
/// Every request of the test's client opens its own connection, so that requests alternate.
pub async fn serve(backend: Backend, count: usize, env: &[(&str, &str)]) -> Served {
    coursebridge::telemetry::init();
    let database = TestDatabase::create(backend).await;
    let ports: Vec<u16> = (0..count).map(|_| free_port()).collect();
    let public = if count == 1 {
        Url::parse(&format!("http://127.0.0.1:{}/", ports[0])).unwrap()
    } else {
        let backends = ports
            .iter()
            .map(|port| SocketAddr::from(([127, 0, 0, 1], *port)))
            .collect();
        round_robin_proxy(backends).await
    };
    let mut instances = Vec::new();
    for port in &ports {
        instances.push(start(&database.url, *port, &public, env));
    }
    for instance in &instances {
        ready(&instance.base).await;
    }
    let db = store::connect(&database.url).await.unwrap();
    let platform = DevPlatform::start(
        "127.0.0.1:0".parse().unwrap(),
        None,
        "coursebridge-test-client",
        "deployment-1",
        ToolUrls::below(&public).unwrap(),
    )
    .await
    .unwrap();
    register(&db, &platform, "deployment-1", "Umeå kommun").await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let config = test_config(&database.url);
    Served {
        instances,
        app: Arc::new(TestApp::outside(
            public, db, platform, client, config, database,
        )),
    }
}

/// Starts one more instance on the same database and public URL.
pub fn start(database_url: &str, port: u16, public: &Url, env: &[(&str, &str)]) -> Instance {
    let metrics_port = free_port();
    // A name of its own: an instance restarted on the same port must not share its log with
    // the one it replaces (whose drop removes that one's file).
    let log = std::env::temp_dir().join(format!(
        "coursebridge-served-{port}-{}.log",
        coursebridge::lti::random_token(6)
    ));
    let stderr = std::fs::File::create(&log).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_coursebridge"));
    command
        .arg("serve")
        .env("COURSEBRIDGE_DATABASE_URL", database_url)
        .env("COURSEBRIDGE_BIND", format!("127.0.0.1:{port}"))
        .env("COURSEBRIDGE_PUBLIC_URL", public.as_str())
        .env(
            "COURSEBRIDGE_METRICS_BIND",
            format!("127.0.0.1:{metrics_port}"),
        )
        .env("COURSEBRIDGE_OUTBOUND_ALLOW_LOOPBACK", "true")
        .env("COURSEBRIDGE_GRADE_POLL_MS", "50")
        .env("COURSEBRIDGE_GRADE_RETRY_BASE_MS", "100")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(stderr);
    for (name, value) in env {
        command.env(name, value);
    }
    Instance {
        child: Some(command.spawn().unwrap()),
        base: Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap(),
        metrics: Url::parse(&format!("http://127.0.0.1:{metrics_port}/")).unwrap(),
        log,
    }
}

/// Until the instance answers `/readyz`.
pub async fn ready(base: &Url) {
    let started = Instant::now();
    loop {
        if let Ok(answer) = reqwest::get(base.join("readyz").unwrap()).await
            && answer.status().is_success()
        {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{base} did not get ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A TCP proxy that hands each new connection to the next backend, skipping one that refuses.
async fn round_robin_proxy(backends: Vec<SocketAddr>) -> Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                continue;
            };
            let backends = backends.clone();
            let next = next.clone();
            tokio::spawn(async move {
                for _ in 0..backends.len() {
                    let backend = backends[next.fetch_add(1, Ordering::Relaxed) % backends.len()];
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(backend).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        return;
                    }
                }
            });
        }
    });
    Url::parse(&format!("http://{address}/")).unwrap()
}

/// Samples of a Prometheus text exposition, read by the reference parser (Python's
/// `prometheus_client`, which `scripts/test` installs): `name{label="value",…}` → value, with the
/// labels sorted by name.
pub fn parse_metrics(text: &str) -> std::collections::BTreeMap<String, f64> {
    use std::io::Write;
    let python = std::env::var("PROMETHEUS_PYTHON")
        .expect("PROMETHEUS_PYTHON names a Python with prometheus_client (scripts/test sets it)");
    let script = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for family in text_string_to_metric_families(sys.stdin.read()):
    for sample in family.samples:
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
        out[f"{sample.name}{{{labels}}}"] = sample.value
print(json.dumps(out))
"#;
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the Prometheus parser refused the exposition: {}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// One sample's value, 0 when absent (a counter not moved yet).
pub fn sample(samples: &std::collections::BTreeMap<String, f64>, key: &str) -> f64 {
    samples.get(key).copied().unwrap_or(0.0)
}
