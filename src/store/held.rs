//! One pooled connection kept for a page's reads in a row.
//!
//! sqlx pings a connection every time the pool takes it back, to find one that a cancelled query
//! left half-read: a round trip to PostgreSQL, a hand-off to SQLite's thread. Four statements on
//! the pool are eight round trips; on one held connection they are four, and one ping when it goes
//! back. The course overview reads this way (docs/DECISIONS.md has the figures).
//!
//! While a `Held` lives, its task must run every statement on it: on SQLite the pool has one
//! connection, so a statement on the pool would wait for the held one until the acquire timeout.
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult, RuntimeErr,
    Statement,
    sqlx::{self, Executor, pool::PoolConnection},
};
use sea_query_sqlx::SqlxValues;

/// A connection taken from the pool until this is dropped.
pub struct Held {
    connection: tokio::sync::Mutex<Connection>,
    backend: DbBackend,
}

enum Connection {
    Sqlite(PoolConnection<sqlx::Sqlite>),
    Postgres(PoolConnection<sqlx::Postgres>),
}

/// Takes a connection from the pool for the statements that follow.
pub async fn hold(db: &DatabaseConnection) -> Result<Held, DbErr> {
    let backend = db.get_database_backend();
    let connection = match backend {
        DbBackend::Sqlite => Connection::Sqlite(
            db.get_sqlite_connection_pool()
                .acquire()
                .await
                .map_err(acquire_err)?,
        ),
        DbBackend::Postgres => Connection::Postgres(
            db.get_postgres_connection_pool()
                .acquire()
                .await
                .map_err(acquire_err)?,
        ),
        other => {
            return Err(DbErr::Custom(format!("no held connections on {other:?}")));
        }
    };
    Ok(Held {
        connection: tokio::sync::Mutex::new(connection),
        backend,
    })
}

/// The same errors as sea-orm's own, so that `sql_err()` reads them alike.
fn acquire_err(err: sqlx::Error) -> DbErr {
    match err {
        sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout),
        sqlx::Error::PoolClosed => {
            DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::ConnectionClosed)
        }
        other => DbErr::Conn(RuntimeErr::SqlxError(other.into())),
    }
}

fn query_err(err: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(err.into()))
}

fn exec_err(err: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(err.into()))
}

fn values(stmt: &Statement) -> SqlxValues {
    SqlxValues(
        stmt.values
            .clone()
            .unwrap_or(sea_orm::sea_query::Values(Vec::new())),
    )
}

/// Runs `$body` with `$conn` bound to the held connection, on whichever backend it is: the arms
/// differ only in the connection's type, which sqlx's generic queries need spelled out.
macro_rules! on_connection {
    ($held:expr, $conn:ident => $body:expr) => {
        match &mut *$held.connection.lock().await {
            Connection::Sqlite($conn) => $body,
            Connection::Postgres($conn) => $body,
        }
    };
}

#[sea_orm::prelude::async_trait::async_trait]
impl ConnectionTrait for Held {
    fn get_database_backend(&self) -> DbBackend {
        self.backend
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let sql = sqlx::AssertSqlSafe(stmt.sql.as_str());
        on_connection!(self, conn => sqlx::query_with(sql, values(&stmt))
            .execute(&mut **conn)
            .await
            .map(Into::into))
        .map_err(exec_err)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        on_connection!(self, conn => conn.execute(sql).await.map(Into::into)).map_err(exec_err)
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let sql = sqlx::AssertSqlSafe(stmt.sql.as_str());
        on_connection!(self, conn => sqlx::query_with(sql, values(&stmt))
            .fetch_optional(&mut **conn)
            .await
            .map(|row| row.map(Into::into)))
        .map_err(query_err)
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let sql = sqlx::AssertSqlSafe(stmt.sql.as_str());
        on_connection!(self, conn => sqlx::query_with(sql, values(&stmt))
            .fetch_all(&mut **conn)
            .await
            .map(|rows| rows.into_iter().map(Into::into).collect()))
        .map_err(query_err)
    }
}
