//! `coursebridge`: parse the command line, start logging, run the command.
use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc's malloc: a launch allocates and frees hundreds of small buffers, and
/// glibc's allocator was a sixth of the server's instructions (docs/DECISIONS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = coursebridge::cli::Cli::parse();
    coursebridge::telemetry::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(coursebridge::cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(err.exit_code())
        }
    }
}
