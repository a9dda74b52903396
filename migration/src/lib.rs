//! Forward-only schema migrations, shared by SQLite and PostgreSQL.
pub use sea_orm_migration::prelude::*;

mod m20261129_000001_create_launch_core;
mod m20261129_000002_create_course;
mod m20261129_000003_create_accessibility_feedback;
mod m20261129_000004_create_review;
mod m20261129_000005_add_context_roster;
mod m20261129_000006_create_contact_person;
mod m20261129_000007_create_learner_group;
mod m20261129_000008_create_grades;
mod m20261129_000009_add_platform_storage;
mod m20261129_000010_create_administration;
mod m20261201_000011_create_registration_invitation;
mod m20261201_000012_login_state_in_state_parameter;
mod m20261201_000013_add_session_revocation;
mod m20261201_000014_create_course_file_chunk;
mod m20261201_000015_create_cohort;
mod m20261201_000016_create_signin;
mod m20261201_000017_add_membership_opened_at;
mod m20261202_000018_create_mail;
mod m20261202_000019_create_shared_answer;
mod m20261202_000020_add_moderation;
mod m20261202_000021_create_network_space;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_create_launch_core::Migration),
            Box::new(m20261129_000002_create_course::Migration),
            Box::new(m20261129_000003_create_accessibility_feedback::Migration),
            Box::new(m20261129_000004_create_review::Migration),
            Box::new(m20261129_000005_add_context_roster::Migration),
            Box::new(m20261129_000006_create_contact_person::Migration),
            Box::new(m20261129_000007_create_learner_group::Migration),
            Box::new(m20261129_000008_create_grades::Migration),
            Box::new(m20261129_000009_add_platform_storage::Migration),
            Box::new(m20261129_000010_create_administration::Migration),
            Box::new(m20261201_000011_create_registration_invitation::Migration),
            Box::new(m20261201_000012_login_state_in_state_parameter::Migration),
            Box::new(m20261201_000013_add_session_revocation::Migration),
            Box::new(m20261201_000014_create_course_file_chunk::Migration),
            Box::new(m20261201_000015_create_cohort::Migration),
            Box::new(m20261201_000016_create_signin::Migration),
            Box::new(m20261201_000017_add_membership_opened_at::Migration),
            Box::new(m20261202_000018_create_mail::Migration),
            Box::new(m20261202_000019_create_shared_answer::Migration),
            Box::new(m20261202_000020_add_moderation::Migration),
            Box::new(m20261202_000021_create_network_space::Migration),
        ]
    }
}
