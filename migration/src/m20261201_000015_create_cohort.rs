//! Cohorts as course runs: one run of a course for a region, with the organisations taking part and
//! its course leaders, to which LMS courses (contexts) of many platforms are linked. A context
//! linked to none stays a cohort of its own, so nothing existing changes. A person's organisation
//! (municipality) is kept per person, with where it came from, so that one regional LMS course can
//! serve several municipalities.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Cohort {
    Table,
    Id,
    Name,
    Code,
    CourseVersionId,
    StartsOn,
    EndsOn,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CohortOrganisation {
    Table,
    Id,
    CohortId,
    Organisation,
}

#[derive(DeriveIden)]
enum CohortLeader {
    Table,
    Id,
    CohortId,
    UserId,
    AddedBy,
    AddedAt,
}

/// An LMS course an administrator linked before its first launch: (registration, LTI context id).
#[derive(DeriveIden)]
enum CohortLink {
    Table,
    Id,
    CohortId,
    PlatformId,
    LtiContextId,
    LinkedBy,
    LinkedAt,
}

#[derive(DeriveIden)]
enum PersonOrganisation {
    Table,
    Id,
    UserId,
    Organisation,
    Source,
    SetBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Context {
    Table,
    CohortId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Cohort::Table)
                    .col(big_pk_auto(Cohort::Id))
                    .col(string(Cohort::Name))
                    .col(string_uniq(Cohort::Code))
                    .col(big_integer(Cohort::CourseVersionId))
                    .col(string_null(Cohort::StartsOn))
                    .col(string_null(Cohort::EndsOn))
                    .col(string(Cohort::CreatedBy))
                    .col(big_integer(Cohort::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CohortOrganisation::Table)
                    .col(big_pk_auto(CohortOrganisation::Id))
                    .col(big_integer(CohortOrganisation::CohortId))
                    .col(string(CohortOrganisation::Organisation))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("cohort_organisation_once")
                    .table(CohortOrganisation::Table)
                    .col(CohortOrganisation::CohortId)
                    .col(CohortOrganisation::Organisation)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CohortLeader::Table)
                    .col(big_pk_auto(CohortLeader::Id))
                    .col(big_integer(CohortLeader::CohortId))
                    .col(big_integer(CohortLeader::UserId))
                    .col(string(CohortLeader::AddedBy))
                    .col(big_integer(CohortLeader::AddedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("cohort_leader_once")
                    .table(CohortLeader::Table)
                    .col(CohortLeader::CohortId)
                    .col(CohortLeader::UserId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("cohort_leader_by_person")
                    .table(CohortLeader::Table)
                    .col(CohortLeader::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CohortLink::Table)
                    .col(big_pk_auto(CohortLink::Id))
                    .col(big_integer(CohortLink::CohortId))
                    .col(big_integer(CohortLink::PlatformId))
                    .col(string(CohortLink::LtiContextId))
                    .col(string(CohortLink::LinkedBy))
                    .col(big_integer(CohortLink::LinkedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("cohort_link_once")
                    .table(CohortLink::Table)
                    .col(CohortLink::PlatformId)
                    .col(CohortLink::LtiContextId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PersonOrganisation::Table)
                    .col(big_pk_auto(PersonOrganisation::Id))
                    .col(big_integer_uniq(PersonOrganisation::UserId))
                    .col(string(PersonOrganisation::Organisation))
                    .col(string(PersonOrganisation::Source))
                    .col(string_null(PersonOrganisation::SetBy))
                    .col(big_integer(PersonOrganisation::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Context::Table)
                    .add_column(big_integer_null(Context::CohortId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("context_by_cohort")
                    .table(Context::Table)
                    .col(Context::CohortId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "coursebridge migrations are forward-only".into(),
        ))
    }
}
