//! The database layer's own promises: statements on a held connection behave as on the pool, and
//! a PostgreSQL on loopback is reached without TLS unless the URL asks for it.
use coursebridge::store::{self, held, used_login};
use sea_orm::{ConnectionTrait, EntityTrait, SqlErr, Statement};

use crate::helpers::{Backend, TestDatabase};

on_both_databases!(a_held_connection_reads_writes_and_fails_as_the_pool_does);

/// The first column of the one row `sql` reads.
async fn first_value<T: sea_orm::TryGetable>(db: &impl ConnectionTrait, sql: &str) -> T {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no row: {sql}"))
        .try_get_by_index(0)
        .unwrap()
}

async fn a_held_connection_reads_writes_and_fails_as_the_pool_does(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let db = store::connect(&database.url).await.unwrap();
    store::migrate(&db).await.unwrap();

    let held = held::hold(&db).await.unwrap();
    // Writes, with their row counts.
    assert!(used_login::consume(&held, "nonce-1", 100).await.unwrap());
    assert!(!used_login::consume(&held, "nonce-1", 100).await.unwrap());
    assert!(used_login::consume(&held, "nonce-2", 300).await.unwrap());
    // One row, all rows, and none.
    assert!(used_login::is_used(&held, "nonce-1").await.unwrap());
    assert!(!used_login::is_used(&held, "nonce-3").await.unwrap());
    let all = entity::used_login::Entity::find().all(&held).await.unwrap();
    assert_eq!(all.len(), 2);
    // An error reads as the pool's does: a second row with the same key is a unique violation.
    let duplicate = entity::used_login::Entity::insert(entity::used_login::ActiveModel {
        nonce: sea_orm::Set("nonce-2".into()),
        expires_at: sea_orm::Set(1),
    })
    .exec_without_returning(&held)
    .await
    .unwrap_err();
    assert!(
        matches!(
            duplicate.sql_err(),
            Some(SqlErr::UniqueConstraintViolation(_))
        ),
        "{duplicate:?}"
    );
    assert_eq!(used_login::purge_expired(&held, 200).await.unwrap(), 1);
    held.execute_unprepared("DELETE FROM used_login")
        .await
        .unwrap();

    // Every statement ran on the one connection.
    if backend == Backend::Postgres {
        let backend_pid = "SELECT pg_backend_pid()";
        assert_eq!(
            first_value::<i32>(&held, backend_pid).await,
            first_value::<i32>(&held, backend_pid).await
        );
    }
    // Given back, the connection serves the pool again (SQLite's pool has only this one).
    drop(held);
    let left = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        entity::used_login::Entity::find().all(&db),
    )
    .await
    .expect("the held connection went back to the pool")
    .unwrap();
    assert!(left.is_empty());
    db.close().await.unwrap();
}

/// The tool reaches a PostgreSQL on loopback without TLS when the URL leaves the choice open, and
/// with TLS when the URL asks for it (this machine's PostgreSQL offers TLS, as Debian's does).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_on_loopback_is_reached_without_tls_unless_the_url_asks() {
    let database = TestDatabase::create(Backend::Postgres).await;
    let uses_tls = |url: String| async move {
        let db = store::connect(&url).await.unwrap();
        let ssl: bool = first_value(
            &db,
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        )
        .await;
        db.close().await.unwrap();
        ssl
    };
    let loopback = url::Url::parse(&database.url).unwrap();
    assert!(
        matches!(
            loopback.host_str(),
            Some("127.0.0.1" | "localhost" | "[::1]")
        ),
        "the test database is not on loopback: {loopback}"
    );
    assert!(!uses_tls(database.url.clone()).await);
    let separator = if database.url.contains('?') { '&' } else { '?' };
    assert!(uses_tls(format!("{}{separator}sslmode=require", database.url)).await);
}
