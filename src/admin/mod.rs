//! What operators and administrators do: importing course packages, registering with platforms,
//! who may act (`access`, `tokens`), completion reports, personal data (`people`, `retention`)
//! and archive packages (`archive`). Every administrative change is written to the audit log.

pub mod access;
pub mod archive;
pub mod cohorts;
pub mod courses;
pub mod directory;
pub mod operations;
pub mod overview;
pub mod people;
pub mod platforms;
pub mod registrations;
pub mod reports;
pub mod retention;
pub mod signin;
pub mod spaces;
pub mod tokens;
