//! The one integration test binary: the real server on a random port, driven over HTTP, with the
//! development platform signing real id_tokens. Every test runs on SQLite and on PostgreSQL.
// Test code: a failed unwrap is a failed test, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// Runs `async fn $name(backend: Backend)` once per storage backend.
macro_rules! on_both_databases {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(crate::helpers::Backend::Postgres).await
            }
        }
    )+};
}

mod helpers;

mod admin;
mod architecture;
mod browser;
mod certification;
mod cli;
mod cohorts;
mod connections;
mod course;
mod database;
mod deep_linking;
mod exchange;
mod grades;
mod hostile;
mod instances;
mod instructor;
mod keys;
mod launch;
mod limits;
mod mail;
mod operations;
mod outbound;
mod registration;
mod schema;
mod served;
mod services;
mod sessions;
mod signin;
mod spaces;
mod storage;
