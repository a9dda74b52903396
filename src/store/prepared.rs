//! The SQL text of the statements a relaunch runs, written once per backend. sea-query builds a
//! SELECT's text anew on every run, some 40 K instructions for one of a launch's reads (callgrind:
//! 9 % of a relaunch); these statements keep the text and bind only their values.
use std::sync::OnceLock;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, ExecResult, FromQueryResult, Statement, Value};

/// One statement's SQL text, per backend, built by sea-query the first time it is needed.
pub(crate) struct KeptSql {
    sqlite: OnceLock<String>,
    postgres: OnceLock<String>,
}

impl KeptSql {
    pub(crate) const fn new() -> Self {
        Self {
            sqlite: OnceLock::new(),
            postgres: OnceLock::new(),
        }
    }

    /// The rows of the query `build` makes for the connection's backend, bound to `values`.
    pub(crate) async fn all<M: FromQueryResult>(
        &self,
        db: &impl ConnectionTrait,
        build: impl FnOnce(DbBackend) -> Statement,
        values: Vec<Value>,
    ) -> Result<Vec<M>, DbErr> {
        let statement = self.statement(db.get_database_backend(), build, values);
        M::find_by_statement(statement).all(db).await
    }

    /// Runs the statement `build` makes for the connection's backend, bound to `values`.
    pub(crate) async fn execute(
        &self,
        db: &impl ConnectionTrait,
        build: impl FnOnce(DbBackend) -> Statement,
        values: Vec<Value>,
    ) -> Result<ExecResult, DbErr> {
        let statement = self.statement(db.get_database_backend(), build, values);
        db.execute_raw(statement).await
    }

    /// The statement `build` makes for `backend`, bound to `values`, which must be the values
    /// `build` puts in, in its order. Debug builds (every test) build it each time and check
    /// that text and values agree, so a value out of order fails the tests that run it.
    fn statement(
        &self,
        backend: DbBackend,
        build: impl FnOnce(DbBackend) -> Statement,
        values: Vec<Value>,
    ) -> Statement {
        let kept = match backend {
            DbBackend::Sqlite => &self.sqlite,
            DbBackend::Postgres => &self.postgres,
            // The service runs on these two; anything else is built each time.
            _ => return build(backend),
        };
        if cfg!(debug_assertions) {
            let built = build(backend);
            debug_assert_eq!(kept.get_or_init(|| built.sql.clone()), &built.sql);
            debug_assert_eq!(
                built
                    .values
                    .as_ref()
                    .map(|v| v.0.clone())
                    .unwrap_or_default(),
                values
            );
            return built;
        }
        let sql = kept.get_or_init(|| build(backend).sql);
        Statement::from_sql_and_values(backend, sql.clone(), values)
    }
}
