//! `coursebridge bench start`: how long `serve` takes from its start to the first `/readyz` that
//! answers, on a new, empty SQLite database each time: the migrations, the first signing key and
//! the demo course's import are all inside the figure, as on a fresh machine.
use std::time::Duration;

use clap::Args;

use super::launch::{peak_rss_kib, spawn_server, stop_server};
use crate::config::Config;

/// `bench start` arguments.
#[derive(Debug, Args)]
pub struct StartBenchArgs {
    /// Starts measured, each on a database of its own.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
}

/// Starts the server `runs` times and prints the times to ready.
pub async fn run_start_bench(config: Config, args: StartBenchArgs) -> anyhow::Result<()> {
    if args.runs == 0 {
        anyhow::bail!("--runs must be at least 1");
    }
    let mut times = Vec::with_capacity(args.runs);
    let mut peak_kib = 0;
    for run in 0..args.runs {
        let folder =
            std::env::temp_dir().join(format!("coursebridge-start-{}-{run}", std::process::id()));
        std::fs::create_dir_all(&folder)?;
        let database = folder.join("coursebridge.db");
        let config = Config {
            database_url: format!("sqlite://{}?mode=rwc", database.display()),
            ..config.clone()
        };
        let mut server = spawn_server(&config).await;
        if let Ok(server) = server.as_mut() {
            times.extend(server.ready_in);
            peak_kib = peak_kib.max(server.pid.and_then(peak_rss_kib).unwrap_or(0));
            stop_server(server).await?;
        }
        std::fs::remove_dir_all(&folder)?;
        server?;
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("coursebridge start benchmark (a new, empty SQLite database each run)");
    println!("  runs                 {}", times.len());
    println!(
        "  start to ready       {:.0} ms median ({:.0}–{:.0} ms)",
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(times[times.len() - 1])
    );
    println!("  peak RSS when ready  {:.1} MiB", peak_kib as f64 / 1024.0);
    Ok(())
}
