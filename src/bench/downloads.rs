//! `bench downloads`: one course file of `--megabytes` fetched by `--parallel` learners at once from
//! a server the benchmark starts, reporting the time and the server's peak memory. Files are
//! served one stored chunk at a time, so the memory should not grow with the file.
use std::{net::SocketAddr, sync::Arc, time::Instant};

use anyhow::{Context, bail};
use clap::Args;

use super::launch::{Server, one_launch, peak_rss_kib, spawn_server};
use crate::{
    config::{Config, redact_url},
    devplatform::{DevPlatform, ToolUrls},
    startup,
};

/// `bench downloads` arguments.
#[derive(Debug, Args)]
pub struct DownloadsBenchArgs {
    /// Size of the course file, in MB (10^6 bytes).
    #[arg(long, default_value_t = 200)]
    pub megabytes: usize,
    /// Downloads at once.
    #[arg(long, default_value_t = 8)]
    pub parallel: usize,
}

/// Imports the demo course with one large file, launches once, downloads the file in parallel.
pub async fn run_downloads_bench(config: Config, args: DownloadsBenchArgs) -> anyhow::Result<()> {
    if args.parallel == 0 || args.megabytes == 0 {
        bail!("--parallel and --megabytes must be at least 1");
    }
    let db = startup::open_database(&config.database_url).await?;
    // The server first: it imports the demo course on start, and the launch below must pin
    // the version with the large file, the newest.
    let mut server: Server = spawn_server(&config).await?;
    let size = args.megabytes * 1_000_000;
    {
        let mut files = crate::course::demo_files();
        let toml = String::from_utf8(files["course.toml"].clone())?;
        let version = format!("1.0.{}", crate::lti::clock::Clock::default().now_unix());
        files.insert(
            "course.toml".into(),
            toml.replacen(
                "version = \"1.0.0\"",
                &format!("version = \"{version}\""),
                1,
            )
            .into_bytes(),
        );
        let mut big = b"Arbetsblad ".to_vec();
        big.resize(size, b'x');
        files.insert("files/arbetsblad.txt".into(), big);
        crate::admin::courses::import(
            &db,
            &crate::admin::access::Principal::cli(),
            &files.clone().into(),
        )
        .await
        .map_err(|err| anyhow::anyhow!("importing the large file failed: {err}"))?;
    }
    let platform = DevPlatform::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        None,
        "coursebridge-bench",
        "bench-deployment",
        ToolUrls::below(&server.base)?,
    )
    .await?;
    super::register(&db, &platform).await?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let landing = one_launch(
        &client,
        &platform,
        &server.base,
        1,
        super::launch::Landing::Page(None),
    )
    .await?;
    let module = link(&landing, "/course/m/ledarskap?session=")?;
    let page = client
        .get(server.base.join(module.trim_start_matches('/'))?)
        .send()
        .await?
        .text()
        .await?;
    let file = server
        .base
        .join(link(&page, "/course/files/arbetsblad.txt?session=")?.trim_start_matches('/'))?;
    let before = server.pid.and_then(peak_rss_kib);
    // Anonymous memory (heap, buffers) apart from file-backed pages: SQLite maps its database file
    // (mmap_size), and the pages a download touches count in RSS without being the server's own.
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = server.pid.map(|pid| {
        let sampling = sampling.clone();
        tokio::spawn(async move {
            let mut peak = 0u64;
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(anonymous_rss_kib(pid).unwrap_or_default());
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            peak
        })
    });
    let started = Instant::now();
    let file = Arc::new(file);
    let mut downloads = Vec::new();
    for _ in 0..args.parallel {
        let client = client.clone();
        let file = file.clone();
        downloads.push(tokio::spawn(async move {
            let mut response = client.get(file.as_str()).send().await?;
            if !response.status().is_success() {
                bail!("the download answered {}", response.status());
            }
            let mut received = 0usize;
            while let Some(chunk) = response.chunk().await? {
                received += chunk.len();
            }
            anyhow::Ok(received)
        }));
    }
    for download in downloads {
        let received = download.await??;
        if received != size {
            bail!("a download ended after {received} of {size} bytes");
        }
    }
    let elapsed = started.elapsed();
    let after = server.pid.and_then(peak_rss_kib);
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let anonymous = match sampler {
        Some(sampler) => Some(sampler.await?),
        None => None,
    };
    println!("coursebridge downloads benchmark");
    println!(
        "  database             {}",
        redact_url(&config.database_url)
    );
    println!("  file                 {} MB", args.megabytes);
    println!("  downloads at once    {}", args.parallel);
    println!("  time                 {:.2} s", elapsed.as_secs_f64());
    println!(
        "  throughput           {:.0} MB/s",
        (size * args.parallel) as f64 / 1e6 / elapsed.as_secs_f64()
    );
    match (before, after) {
        (Some(before), Some(after)) => println!(
            "  server peak RSS      {:.1} MiB (before the downloads {:.1} MiB)",
            after as f64 / 1024.0,
            before as f64 / 1024.0
        ),
        _ => println!("  server peak RSS      unknown"),
    }
    if let Some(kib) = anonymous {
        println!(
            "  peak anonymous RSS   {:.1} MiB (sampled every 10 ms; without mapped file pages)",
            kib as f64 / 1024.0
        );
    }
    if let Some(child) = server.child.as_mut() {
        let _ = child.start_kill();
        let _ = child.wait().await;
    }
    Ok(())
}

fn link(page: &str, needle: &str) -> anyhow::Result<String> {
    let at = page.find(needle).context("the page has no such link")?;
    let start = page[..at].rfind('"').map_or(0, |quote| quote + 1);
    let end = page[at..].find('"').map_or(page.len(), |quote| at + quote);
    Ok(page[start..end].replace("&amp;", "&"))
}

/// Anonymous resident memory (RssAnon) in KiB.
fn anonymous_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|line| line.starts_with("RssAnon:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
