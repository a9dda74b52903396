//! Sign-in without an LMS: OpenID Connect providers an administrator configured, each vouching for
//! its people as a platform row of kind `signin` (so a signed-in person is a person row like a
//! launched one, and grants, contact persons and sessions work the same), and invitations that let
//! a person without an LMS join a cohort for an organisation. Workshop occasions a course leader
//! sets for the whole run.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OidcProvider {
    Table,
    Id,
    Name,
    Issuer,
    ClientId,
    ClientSecret,
    Organisation,
    AllowedTenants,
    AllowedDomains,
    PlatformId,
    DeploymentId,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CohortInvitation {
    Table,
    Id,
    CohortId,
    Organisation,
    Role,
    TokenHash,
    MaxUses,
    Uses,
    ExpiresAt,
    CreatedBy,
    CreatedAt,
}

/// A workshop occasion a course leader set for the whole run: every linked LMS course shows it.
#[derive(DeriveIden)]
enum CohortOccasion {
    Table,
    Id,
    CohortId,
    ModuleSlug,
    StartsAt,
    Place,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Platform {
    Table,
    Kind,
}

/// A signed-in person an administrator linked to their LMS person: they sign in as that person.
#[derive(DeriveIden)]
enum LtiUser {
    Table,
    LinkedTo,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OidcProvider::Table)
                    .col(big_pk_auto(OidcProvider::Id))
                    .col(string_uniq(OidcProvider::Name))
                    .col(string(OidcProvider::Issuer))
                    .col(string(OidcProvider::ClientId))
                    .col(string(OidcProvider::ClientSecret))
                    .col(string_null(OidcProvider::Organisation))
                    .col(string(OidcProvider::AllowedTenants))
                    .col(string(OidcProvider::AllowedDomains))
                    .col(big_integer(OidcProvider::PlatformId))
                    .col(big_integer(OidcProvider::DeploymentId))
                    .col(string(OidcProvider::CreatedBy))
                    .col(big_integer(OidcProvider::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CohortInvitation::Table)
                    .col(big_pk_auto(CohortInvitation::Id))
                    .col(big_integer(CohortInvitation::CohortId))
                    .col(string(CohortInvitation::Organisation))
                    .col(string(CohortInvitation::Role))
                    .col(string_uniq(CohortInvitation::TokenHash))
                    .col(integer(CohortInvitation::MaxUses))
                    .col(integer(CohortInvitation::Uses))
                    .col(big_integer(CohortInvitation::ExpiresAt))
                    .col(string(CohortInvitation::CreatedBy))
                    .col(big_integer(CohortInvitation::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CohortOccasion::Table)
                    .col(big_pk_auto(CohortOccasion::Id))
                    .col(big_integer(CohortOccasion::CohortId))
                    .col(string(CohortOccasion::ModuleSlug))
                    .col(big_integer(CohortOccasion::StartsAt))
                    .col(string(CohortOccasion::Place))
                    .col(big_integer(CohortOccasion::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("cohort_occasion_once")
                    .table(CohortOccasion::Table)
                    .col(CohortOccasion::CohortId)
                    .col(CohortOccasion::ModuleSlug)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(LtiUser::Table)
                    .add_column(big_integer_null(LtiUser::LinkedTo))
                    .to_owned(),
            )
            .await?;
        // Every existing registration is an LMS.
        manager
            .alter_table(
                Table::alter()
                    .table(Platform::Table)
                    .add_column(string(Platform::Kind).default("lti"))
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
