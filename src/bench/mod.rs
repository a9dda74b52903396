//! The project's own benchmarks: `bench launch` (full LTI launches against a running instance),
//! `bench grades` (how fast the score outbox drains into a gradebook) and `bench downloads` (a
//! large course file fetched by several learners at once: the server's memory) and `bench start`
//! (from a process's start to ready, on an empty database).
mod downloads;
mod grades;
mod launch;
mod start;

pub use downloads::{DownloadsBenchArgs, run_downloads_bench};
pub use grades::{GradesBenchArgs, run_grades_bench};
pub use launch::{LaunchBenchArgs, run_launch_bench};
pub use start::{StartBenchArgs, run_start_bench};

use sea_orm::DatabaseConnection;

use crate::{devplatform::DevPlatform, store};

/// Registers the benchmark's development platform and approves its deployment (both kept from
/// earlier runs on the same database).
async fn register(
    db: &DatabaseConnection,
    platform: &DevPlatform,
) -> anyhow::Result<(entity::platform::Model, entity::deployment::Model)> {
    let now = crate::lti::clock::Clock::default().now_unix();
    let registered = store::platform::upsert(db, platform.registration(), now).await?;
    let deployment =
        match store::deployment::find(db, registered.id, platform.deployment_id()).await? {
            Some(found) => found,
            None => {
                store::deployment::add(db, registered.id, platform.deployment_id(), None, None, now)
                    .await?
            }
        };
    Ok((registered, deployment))
}
