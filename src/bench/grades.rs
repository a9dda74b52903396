//! `coursebridge bench grades`: how fast the score outbox drains into a gradebook. The benchmark
//! queues scores for many participants of one LMS course, starts `coursebridge worker` processes on
//! the same database, and times the scores arriving at the development platform (which runs inside
//! the benchmark process, so the worker's CPU is measured on its own).
use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use clap::Args;
use serde_json::json;

use super::launch::{cpu_millis, peak_rss_kib};
use crate::{
    config::{Config, redact_url},
    devplatform::{DevPlatform, ToolUrls},
    lti, startup,
    store::{self, grades::NewScore, launch_record},
};

/// `bench grades` arguments.
#[derive(Debug, Args)]
pub struct GradesBenchArgs {
    /// Scores to drain (one per participant).
    #[arg(long, default_value_t = 10_000)]
    pub scores: usize,
    /// Worker processes draining the same outbox.
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
}

/// Runs the benchmark and prints its report.
pub async fn run_grades_bench(config: Config, args: GradesBenchArgs) -> anyhow::Result<()> {
    if args.scores < 2 || args.workers == 0 {
        bail!("--scores must be at least 2 and --workers at least 1");
    }
    let db = startup::open_database(&config.database_url).await?;
    startup::ensure_tool_key(&db, &lti::clock::Clock::default()).await?;
    let tool = ToolUrls::below(&url::Url::parse("http://127.0.0.1:9/")?)?;
    let platform = DevPlatform::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        None,
        "coursebridge-bench-grades",
        "bench-grades-deployment",
        tool,
    )
    .await?;
    // The platform checks the tool's client assertion against the tool's published key set; the
    // workers run no HTTP server, so hand it the key set directly.
    platform.trust_tool_keys(
        store::tool_key::published(&db, crate::lti::clock::Clock::default().now_unix()).await?,
    )?;
    let now = crate::lti::clock::Clock::default().now_unix();
    let (registered, deployment) = super::register(&db, &platform).await?;
    let run = lti::random_token(6);
    let recorded = launch_record::record(
        &db,
        launch_record::LaunchRecord {
            platform_id: registered.id,
            deployment_id: deployment.id,
            person: launch_record::Person {
                sub: format!("bench-teacher-{run}"),
                name: None,
                given_name: None,
                family_name: None,
                email: None,
            },
            context: Some(launch_record::ContextRecord {
                id: format!("bench-course-{run}"),
                label: None,
                title: Some("Benchmark".into()),
                memberships_url: None,
                ags_lineitems_url: Some(platform.url("lineitems").to_string()),
                ags_scopes: Some(lti::ags::SCOPES.join(" ")),
            }),
            resource_link: None,
            lti_roles: String::new(),
            role: "instructor",
            now,
        },
    )
    .await?;
    let context_id = recorded
        .context_id
        .context("the benchmark course was not stored")?;
    let subs: Vec<String> = (0..args.scores)
        .map(|i| format!("bench-{run}-{i:06}"))
        .collect();
    let people = launch_record::insert_people(&db, registered.id, &subs, now).await?;
    let scored_at = crate::lti::clock::Clock::default().now_ms();
    for chunk in people.chunks(1000) {
        store::grades::enqueue(
            &db,
            chunk
                .iter()
                .map(|(user_id, sub)| NewScore {
                    context_id,
                    user_id: *user_id,
                    resource_id: "course".into(),
                    label: "Benchmark".into(),
                    score_maximum: 6.0,
                    score: json!({"userId": sub, "scoreGiven": 3.0, "scoreMaximum": 6.0,
                                  "activityProgress": "InProgress", "gradingProgress": "FullyGraded"})
                    .to_string(),
                    scored_at_ms: scored_at,
                })
                .collect(),
        )
        .await?;
    }
    println!(
        "bench grades: {} scores, {} worker(s) (batch {}, {} in flight each), database {}",
        args.scores,
        args.workers,
        config.grade_batch_size,
        config.grade_concurrency,
        redact_url(&config.database_url)
    );

    let exe = std::env::current_exe()?;
    let mut workers = Vec::new();
    for _ in 0..args.workers {
        workers.push(
            tokio::process::Command::new(&exe)
                .arg("worker")
                .env("COURSEBRIDGE_DATABASE_URL", &config.database_url)
                .env("COURSEBRIDGE_OUTBOUND_ALLOW_LOOPBACK", "true")
                .env(
                    "COURSEBRIDGE_GRADE_BATCH_SIZE",
                    config.grade_batch_size.to_string(),
                )
                .env(
                    "COURSEBRIDGE_GRADE_CONCURRENCY",
                    config.grade_concurrency.to_string(),
                )
                .env("COURSEBRIDGE_GRADE_POLL_MS", "20")
                .env("RUST_LOG", "warn")
                .stdout(std::process::Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .context("cannot start coursebridge worker")?,
        );
    }
    let started = Instant::now();
    let mut first: Option<Instant> = None;
    let deadline = started + Duration::from_secs(600);
    loop {
        let arrived = platform.received_scores_count();
        if arrived > 0 && first.is_none() {
            first = Some(Instant::now());
        }
        if arrived >= args.scores {
            break;
        }
        if Instant::now() > deadline {
            bail!(
                "only {arrived} of {} scores arrived within 10 minutes",
                args.scores
            );
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let finished = Instant::now();
    let pids: Vec<u32> = workers
        .iter()
        .filter_map(tokio::process::Child::id)
        .collect();
    let cpu: u64 = pids.iter().filter_map(|pid| cpu_millis(*pid)).sum();
    let rss: Vec<u64> = pids.iter().filter_map(|pid| peak_rss_kib(*pid)).collect();
    for worker in &mut workers {
        let _ = worker.start_kill();
        let _ = worker.wait().await;
    }
    let draining = finished - first.unwrap_or(started);
    let per_second = (args.scores - 1) as f64 / draining.as_secs_f64();
    let counts = store::grades::counts(&db).await?;
    println!(
        "  drained              {:.0} scores/s ({} scores in {:.2} s after the first arrived; {:.2} s from start incl. worker start-up)",
        per_second,
        args.scores,
        draining.as_secs_f64(),
        (finished - started).as_secs_f64()
    );
    println!(
        "  worker CPU           {:.3} ms per score ({} ms in all, start-up included)",
        cpu as f64 / args.scores as f64,
        cpu
    );
    println!(
        "  worker peak RSS      {} MiB",
        rss.iter().max().copied().unwrap_or_default() / 1024
    );
    println!(
        "  outbox               {} sent, {} pending, {} not gradable",
        counts.get("sent").copied().unwrap_or_default(),
        counts.get("pending").copied().unwrap_or_default(),
        counts.get("not_gradable").copied().unwrap_or_default()
    );
    if platform.score_posts() != args.scores {
        println!(
            "  note: the platform answered {} posts for {} scores",
            platform.score_posts(),
            args.scores
        );
    }
    Ok(())
}
