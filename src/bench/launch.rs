//! `coursebridge bench launch`: full LTI launches (login initiation → the platform's auth endpoint
//! → id_token form post → redirect → landing page) against a running instance, at a chosen concurrency.
//! Reports launches per second, latency percentiles, and the server process's CPU time per launch,
//! context switches per launch and peak RSS (read from /proc, so the server must run on this
//! machine). On PostgreSQL it also reports the CPU of the database's backends serving the tool.
//! With `--callgrind` the server runs under valgrind's callgrind, counting the user-space
//! instructions of the measured launches alone: a figure that repeats whatever else the machine
//! is doing, so one change is judged without this machine's noise.
//!
//! The development platform runs inside the benchmark process, so its RSA signing is not counted
//! as server CPU; the process's own CPU is reported beside it, since it shares the cores.
use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use clap::Args;
use url::Url;

use crate::{
    config::{Config, redact_url},
    devplatform::{self, DevPlatform, LaunchSpec, ToolUrls},
    startup,
};

/// `bench launch` arguments.
#[derive(Debug, Args)]
pub struct LaunchBenchArgs {
    /// Base URL of a running coursebridge using the same database. Without it the benchmark starts
    /// `coursebridge serve` itself on the configured database (release build recommended).
    #[arg(long)]
    pub target: Option<Url>,
    /// PID of the running server, to read its CPU time and peak RSS (found when the bench starts it).
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Launches in flight at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Measured launches.
    #[arg(long, default_value_t = 2000)]
    pub launches: usize,
    /// Launches before measuring (connection pools, caches, the database's pages); with `--users`,
    /// at least one per person, so that every measured launch is a relaunch. Otherwise the first
    /// launches of the people not yet seen all fall at the start of the measured ones, a burst
    /// of first-time writes that made most of the p99 (docs/DECISIONS.md); `--users 0`
    /// measures first launches alone.
    #[arg(long, default_value_t = 200)]
    pub warmup: usize,
    /// Distinct people launching, in turn. Fewer than launches: people relaunch (module to
    /// module), as in real use; `0`: everyone launches once (the cold path, every row new).
    #[arg(long, default_value_t = 500)]
    pub users: usize,
    /// Stop each launch at the tool's redirect after the id_token post, without fetching the page
    /// it lands on: the protocol's own cost, apart from the course overview's.
    #[arg(long)]
    pub protocol_only: bool,
    /// Land on this module's page, as a link an LMS made for one module does (custom parameter
    /// `module`), instead of the course overview.
    #[arg(long)]
    pub module: Option<String>,
    /// Start the server under valgrind's callgrind with instrumentation off, switch it on for the
    /// measured launches only (`callgrind_control -i on|off`) and report instructions per launch.
    /// Times and CPU are then valgrind's, not the server's. Needs valgrind; not with --target.
    #[arg(long)]
    pub callgrind: bool,
}

impl LaunchBenchArgs {
    /// The warm-up launches: as asked, and at least one for each person who relaunches.
    fn warmup_launches(&self) -> usize {
        match self.users {
            0 => self.warmup,
            users => self.warmup.max(users),
        }
    }
}

pub(super) struct Server {
    pub(super) base: Url,
    pub(super) pid: Option<u32>,
    pub(super) child: Option<tokio::process::Child>,
    /// From the process's start to the first `/readyz` that answers 200.
    pub(super) ready_in: Option<Duration>,
    /// The file callgrind writes its counts to when the server stops.
    callgrind_out: Option<std::path::PathBuf>,
}

/// Runs the benchmark and prints its report.
pub async fn run_launch_bench(config: Config, args: LaunchBenchArgs) -> anyhow::Result<()> {
    if args.concurrency == 0 || args.launches == 0 {
        bail!("--concurrency and --launches must be at least 1");
    }
    if args.callgrind && args.target.is_some() {
        bail!("--callgrind starts the server itself: leave out --target");
    }
    let db = startup::open_database(&config.database_url).await?;
    let mut server = match &args.target {
        Some(base) => Server {
            base: base.clone(),
            pid: args.server_pid,
            child: None,
            ready_in: None,
            callgrind_out: None,
        },
        None => spawn_server_under(&config, args.callgrind).await?,
    };
    let platform = DevPlatform::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        None,
        "coursebridge-bench",
        "bench-deployment",
        ToolUrls::below(&server.base)?,
    )
    .await?;
    super::register(&db, &platform).await?;
    // Its connections would count as the tool's backends.
    db.close().await?;
    let platform = Arc::new(platform);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(args.concurrency * 2)
        .build()?;

    let warmup = args.warmup_launches();
    run_batch(&client, &platform, &server.base, 0, warmup, &args).await?;
    let backends_before = backend_cpu(&config.database_url).await?;
    let cpu_before = server.pid.and_then(cpu_millis);
    let switches_before = server.pid.and_then(context_switches);
    let generator_before = cpu_millis(std::process::id());
    if args.callgrind {
        callgrind_control(&server, "-i", "on").await?;
    }
    let started = Instant::now();
    let mut latencies = run_batch(
        &client,
        &platform,
        &server.base,
        warmup,
        args.launches,
        &args,
    )
    .await?;
    let elapsed = started.elapsed();
    if args.callgrind {
        callgrind_control(&server, "-i", "off").await?;
    }
    let cpu_after = server.pid.and_then(cpu_millis);
    let generator_after = cpu_millis(std::process::id());
    let switches_after = server.pid.and_then(context_switches);
    let backends_after = backend_cpu(&config.database_url).await?;
    let peak_rss = server.pid.and_then(peak_rss_kib);

    latencies.sort();
    let percentile = |p: f64| {
        let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies.get(index).copied().unwrap_or_default()
    };
    println!("coursebridge launch benchmark");
    println!(
        "  database             {}",
        redact_url(&config.database_url)
    );
    println!("  target               {}", server.base);
    println!(
        "  launches             {} (after {} warm-up)",
        args.launches, warmup
    );
    println!("  concurrency          {}", args.concurrency);
    match args.users {
        0 => println!("  people               each launch a new person"),
        users => println!("  people               {users}, launching in turn"),
    }
    match (&args.module, args.protocol_only) {
        (_, true) => println!("  lands on             the tool's redirect (--protocol-only)"),
        (Some(slug), false) => println!("  lands on             module {slug}"),
        (None, false) => println!("  lands on             the course overview"),
    }
    println!(
        "  launches/s           {:.1}",
        args.launches as f64 / elapsed.as_secs_f64()
    );
    println!("  latency p50          {:.2} ms", ms(percentile(0.50)));
    println!("  latency p90          {:.2} ms", ms(percentile(0.90)));
    println!("  latency p99          {:.2} ms", ms(percentile(0.99)));
    println!("  latency max          {:.2} ms", ms(percentile(1.0)));
    match (cpu_before, cpu_after) {
        (Some(before), Some(after)) => println!(
            "  server CPU/launch    {:.3} ms ({} ms total)",
            (after - before) as f64 / args.launches as f64,
            after - before
        ),
        _ => println!("  server CPU/launch    unknown (give --server-pid)"),
    }
    if let (Some(before), Some(after)) = (generator_before, generator_after) {
        println!(
            "  generator CPU/launch {:.3} ms (this process: the client and the platform)",
            (after - before) as f64 / args.launches as f64
        );
    }
    if let (Some(before), Some(after)) = (switches_before, switches_after) {
        println!(
            "  context switches     {:.1} per launch (every thread of the server)",
            after.saturating_sub(before) as f64 / args.launches as f64
        );
    }
    if !backends_after.is_empty() {
        let spent: u64 = backends_after
            .iter()
            .map(|(pid, after)| {
                after.saturating_sub(backends_before.get(pid).copied().unwrap_or(0))
            })
            .sum();
        println!(
            "  database CPU/launch  {:.3} ms ({} backends, {spent} ms total)",
            spent as f64 / args.launches as f64,
            backends_after.len()
        );
    }
    match peak_rss {
        Some(kib) => println!("  server peak RSS      {:.1} MiB", kib as f64 / 1024.0),
        None => println!("  server peak RSS      unknown (give --server-pid)"),
    }
    if let Some(ready_in) = server.ready_in {
        println!("  start to ready       {:.0} ms", ms(ready_in));
    }
    let instructions = stop_server(&mut server).await?;
    if let Some(instructions) = instructions {
        println!(
            "  instructions/launch  {:.3} M (user space, callgrind, {instructions} in all)",
            instructions as f64 / args.launches as f64 / 1e6
        );
    }
    Ok(())
}

/// Stops a server the benchmark started (SIGTERM, so callgrind writes its counts), and reads the
/// instructions callgrind counted while its instrumentation was on.
pub(super) async fn stop_server(server: &mut Server) -> anyhow::Result<Option<u64>> {
    let Some(child) = server.child.as_mut() else {
        return Ok(None);
    };
    if let Some(pid) = child.id() {
        // SIGTERM: a graceful stop, after which callgrind writes its file.
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
    }
    if tokio::time::timeout(Duration::from_secs(120), child.wait())
        .await
        .is_err()
    {
        let _ = child.start_kill();
        let _ = child.wait().await;
    }
    let Some(out) = server.callgrind_out.take() else {
        return Ok(None);
    };
    let counts = std::fs::read_to_string(&out)
        .with_context(|| format!("callgrind wrote no {}", out.display()))?;
    let _ = std::fs::remove_file(&out);
    callgrind_total(&counts)
        .map(Some)
        .context("callgrind's file has no total")
}

/// The total of the first event (instructions) in a callgrind output file.
/// Callgrind writes `totals:` at the end, and may leave a `summary: 0` in the header.
fn callgrind_total(counts: &str) -> Option<u64> {
    let first_count = |prefix: &str| {
        counts
            .lines()
            .rev()
            .find_map(|line| line.strip_prefix(prefix))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    first_count("totals:").or_else(|| first_count("summary:"))
}

/// `callgrind_control <flag> <value> <pid>` on the server, which runs under callgrind.
async fn callgrind_control(server: &Server, flag: &str, value: &str) -> anyhow::Result<()> {
    let pid = server.pid.context("the server's pid is unknown")?;
    let status = tokio::process::Command::new("callgrind_control")
        .args([flag, value, &pid.to_string()])
        .stdout(std::process::Stdio::null())
        .status()
        .await
        .context("cannot run callgrind_control (is valgrind installed?)")?;
    if !status.success() {
        bail!("callgrind_control {flag} {value} failed: {status}");
    }
    Ok(())
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

pub(super) async fn spawn_server(config: &Config) -> anyhow::Result<Server> {
    spawn_server_under(config, false).await
}

/// Starts `coursebridge serve` on the configured database, under callgrind with its
/// instrumentation off when `callgrind` is set, and waits for `/readyz`.
pub(super) async fn spawn_server_under(config: &Config, callgrind: bool) -> anyhow::Result<Server> {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
        probe.local_addr()?.port()
    };
    let exe = std::env::current_exe()?;
    let callgrind_out = callgrind.then(|| {
        std::env::temp_dir().join(format!("coursebridge-callgrind-{}.out", std::process::id()))
    });
    let mut command = match &callgrind_out {
        Some(out) => {
            let mut command = tokio::process::Command::new("valgrind");
            command
                .arg("--tool=callgrind")
                .arg("--instr-atstart=no")
                .arg(format!("--callgrind-out-file={}", out.display()))
                .arg("--quiet")
                .arg(exe);
            command
        }
        None => tokio::process::Command::new(exe),
    };
    let started = Instant::now();
    let child = command
        .arg("serve")
        .env("COURSEBRIDGE_DATABASE_URL", &config.database_url)
        .env("COURSEBRIDGE_OUTBOUND_ALLOW_LOOPBACK", "true")
        .env("COURSEBRIDGE_BIND", format!("127.0.0.1:{port}"))
        .env_remove("COURSEBRIDGE_PUBLIC_URL")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start coursebridge serve")?;
    let pid = child.id();
    let base = Url::parse(&format!("http://127.0.0.1:{port}/"))?;
    let ready = base.join("readyz")?;
    let client = reqwest::Client::new();
    // Valgrind starts the program some fifty times slower.
    let patience = Duration::from_secs(if callgrind { 300 } else { 30 });
    while started.elapsed() < patience {
        if let Ok(response) = client.get(ready.clone()).send().await
            && response.status().is_success()
        {
            return Ok(Server {
                base,
                pid,
                child: Some(child),
                ready_in: Some(started.elapsed()),
                callgrind_out,
            });
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    bail!("the server did not become ready within {patience:?}")
}

async fn run_batch(
    client: &reqwest::Client,
    platform: &Arc<DevPlatform>,
    base: &Url,
    first: usize,
    launches: usize,
    args: &LaunchBenchArgs,
) -> anyhow::Result<Vec<Duration>> {
    let (concurrency, users, protocol_only) = (args.concurrency, args.users, args.protocol_only);
    let module: Option<Arc<str>> = args.module.as_deref().map(Arc::from);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let client = client.clone();
        let platform = platform.clone();
        let base = base.clone();
        let next = next.clone();
        let module = module.clone();
        workers.push(tokio::spawn(async move {
            let landing = match protocol_only {
                true => Landing::Redirect,
                false => Landing::Page(module.as_deref()),
            };
            let mut latencies = Vec::new();
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= launches {
                    break;
                }
                let person = match users {
                    0 => first + n,
                    users => (first + n) % users,
                };
                let started = Instant::now();
                one_launch(&client, &platform, &base, person, landing).await?;
                latencies.push(started.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut all = Vec::with_capacity(launches);
    for worker in workers {
        all.extend(worker.await??);
    }
    Ok(all)
}

/// Where a launch of the benchmark ends.
#[derive(Clone, Copy)]
pub(super) enum Landing<'a> {
    /// At the tool's redirect after the id_token post.
    Redirect,
    /// On the page the redirect names: the course overview, or the module a link names.
    Page(Option<&'a str>),
}

/// One full launch, as a browser does it; the landing page's HTML (empty for `Landing::Redirect`).
pub(super) async fn one_launch(
    client: &reqwest::Client,
    platform: &DevPlatform,
    base: &Url,
    person: usize,
    landing: Landing<'_>,
) -> anyhow::Result<String> {
    let mut spec = LaunchSpec::learner(&format!("bench-{person}"));
    let module = match landing {
        Landing::Redirect => None,
        Landing::Page(module) => module,
    };
    if let Some(slug) = module {
        spec.custom
            .insert("module".into(), serde_json::Value::from(slug));
    }
    let login = platform.login_url(spec);
    let response = client.get(login).send().await?;
    if response.status() != reqwest::StatusCode::FOUND {
        bail!("login answered {}", response.status());
    }
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .context("login redirect without Location")?
        .to_owned();
    let cookie = response
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .context("login without binding cookie")?
        .to_owned();
    let auth_page = client.get(&location).send().await?.text().await?;
    let fields = devplatform::form_fields(&auth_page);
    let launch = client
        .post(base.join("lti/launch")?)
        .header(reqwest::header::COOKIE, cookie)
        .form(&fields)
        .send()
        .await?;
    if launch.status() != reqwest::StatusCode::SEE_OTHER {
        bail!("launch answered {}", launch.status());
    }
    if matches!(landing, Landing::Redirect) {
        return Ok(String::new());
    }
    // The landing page, as the browser fetches it after the launch's redirect.
    let landing = launch
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .context("launch redirect without Location")?
        .to_owned();
    let landed = client.get(&landing).send().await?;
    if !landed.status().is_success() {
        bail!("landing page answered {}", landed.status());
    }
    let body = landed.text().await?;
    let mark = match module {
        Some(_) => "data-testid=\"module-neighbours\"",
        None => "data-testid=\"role\"",
    };
    if !body.contains(mark) {
        bail!("launch did not reach the landing page");
    }
    Ok(body)
}

/// CPU milliseconds of each PostgreSQL backend serving the database now (none on SQLite), asked
/// over a connection of its own that is closed again.
async fn backend_cpu(database_url: &str) -> anyhow::Result<std::collections::HashMap<u32, u64>> {
    if !database_url.starts_with("postgres") {
        return Ok(std::collections::HashMap::new());
    }
    let db = crate::store::connect(database_url).await?;
    let pids = crate::store::operations::other_backends(&db).await?;
    db.close().await?;
    Ok(pids
        .into_iter()
        .filter_map(|pid| cpu_millis(pid).map(|cpu| (pid, cpu)))
        .collect())
}

/// Voluntary and involuntary context switches of every thread of a process.
fn context_switches(pid: u32) -> Option<u64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    Some(
        tasks
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("status")).ok())
            .map(|status| switches_in(&status))
            .sum(),
    )
}

/// The two context-switch counts of a `/proc/…/status` text, added.
fn switches_in(status: &str) -> u64 {
    status
        .lines()
        .filter(|line| {
            line.starts_with("voluntary_ctxt_switches:")
                || line.starts_with("nonvoluntary_ctxt_switches:")
        })
        .filter_map(|line| line.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum()
}

/// utime + stime of a process in milliseconds.
pub(crate) fn cpu_millis(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    let ticks_per_second = 100; // USER_HZ on Linux
    Some((utime + stime) * 1000 / ticks_per_second)
}

/// Peak resident set size (VmHWM) in KiB.
pub(crate) fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_person_launches_once_before_the_measured_relaunches() {
        use clap::Parser;
        #[derive(Parser)]
        struct Command {
            #[command(flatten)]
            args: LaunchBenchArgs,
        }
        let warmup = |argv: &[&str]| {
            Command::parse_from([&["bench"], argv].concat())
                .args
                .warmup_launches()
        };
        assert_eq!(warmup(&[]), 500);
        assert_eq!(warmup(&["--users", "50"]), 200);
        assert_eq!(warmup(&["--users", "50", "--warmup", "20"]), 50);
        assert_eq!(warmup(&["--users", "0", "--warmup", "20"]), 20);
    }

    #[test]
    fn both_kinds_of_context_switch_are_counted() {
        let status =
            "Name:\tcoursebridge\nvoluntary_ctxt_switches:\t120\nnonvoluntary_ctxt_switches:\t7\n";
        assert_eq!(switches_in(status), 127);
        assert_eq!(switches_in("Name:\tx\n"), 0);
    }

    #[test]
    fn the_instruction_total_is_read_from_either_form_of_callgrind_file() {
        let counts = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nsummary: 0\n\nfn=(1) main\n0 5\n\ntotals: 1234567";
        assert_eq!(callgrind_total(counts), Some(1_234_567));
        assert_eq!(callgrind_total("events: Ir\nsummary: 42\n"), Some(42));
        assert_eq!(callgrind_total("events: Ir\n"), None);
    }

    #[test]
    fn this_process_has_threads_with_context_switches() {
        assert!(context_switches(std::process::id()).is_some());
    }
}
