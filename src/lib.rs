//! coursebridge: a self-hostable LTI 1.3 Advantage tool that runs a fully digital course.
//!
//! Where things live (dependencies point downwards):
//!
//! - `cli`, `startup` — the command line, and building/running the service.
//! - `web` — every HTTP route (`web/mod.rs`), handlers and page templates; no queries.
//! - `admin` — operators' use cases: importing course packages.
//! - `admission` — the launch use case: LTI checks plus the records a launch leaves.
//! - `registry` — registrations and approved deployments, briefly cached per instance.
//! - `lti` — the protocol (1EdTech LTI 1.3 Core, Security Framework): no axum, no sea-orm.
//! - `course` — course packages: loading, validation, modules, tasks, frameworks.
//! - `learning` — submissions, progress and the completion rules.
//! - `grades` — completion into LMS gradebooks: scores per grade mode, the outbox and its worker.
//! - `session` — the signed session token pages carry instead of third-party cookies.
//! - `store` — the only module that builds database queries (`entity`, `migration` crates beside it).
//! - `i18n` — Swedish (default) and English texts.
//! - `devplatform` — a real LTI platform for tests, benchmarks and `demo`; never inside `serve`.
//! - `bench` — the launch and score-outbox benchmarks.

pub mod admin;
pub mod admission;
pub mod bench;
pub mod cli;
pub mod config;
pub mod course;
pub mod devplatform;
pub mod grades;
pub mod i18n;
pub mod learning;
pub mod lti;
pub mod mail;
pub mod measure;
pub mod oidc;
pub mod outbound;
pub mod pdf;
pub mod registry;
pub mod serve;
pub mod session;
pub mod signin;
pub mod startup;
pub mod state;
pub mod store;
pub mod sync;
pub mod telemetry;
pub mod tool_key;
pub mod web;
pub mod worker;
