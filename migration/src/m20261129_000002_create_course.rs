//! Course versions and their files, the version each LMS context is pinned to, participants'
//! submissions with their revision history, and self-assessments. A deployment gets a default locale.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Deployment {
    Table,
    DefaultLocale,
}

#[derive(DeriveIden)]
enum Context {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum LtiUser {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CourseVersion {
    Table,
    Id,
    Slug,
    Version,
    TitleSv,
    TitleEn,
    Package,
    ImportedAt,
}

#[derive(DeriveIden)]
enum CourseFile {
    Table,
    Id,
    CourseVersionId,
    Path,
    ContentType,
    Bytes,
}

#[derive(DeriveIden)]
enum ContextCourse {
    Table,
    Id,
    ContextId,
    CourseVersionId,
    PinnedAt,
}

#[derive(DeriveIden)]
enum Submission {
    Table,
    Id,
    ContextId,
    ModuleSlug,
    TaskSlug,
    OwnerKey,
    Status,
    Answers,
    Version,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
    SubmittedAt,
    Feedback,
}

#[derive(DeriveIden)]
enum SubmissionRevision {
    Table,
    Id,
    SubmissionId,
    Version,
    Answers,
    Status,
    AuthorId,
    Conflict,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SelfAssessment {
    Table,
    Id,
    ContextId,
    UserId,
    Round,
    Ratings,
    UpdatedAt,
    SubmittedAt,
}

fn cascade(
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    to_table: impl IntoIden,
    to_col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(to_table, to_col)
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Deployment::Table)
                    .add_column(string_null(Deployment::DefaultLocale))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CourseVersion::Table)
                    .col(big_pk_auto(CourseVersion::Id))
                    .col(string(CourseVersion::Slug))
                    .col(string(CourseVersion::Version))
                    .col(string(CourseVersion::TitleSv))
                    .col(string(CourseVersion::TitleEn))
                    .col(text(CourseVersion::Package))
                    .col(big_integer(CourseVersion::ImportedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("course_version_slug_version")
                    .table(CourseVersion::Table)
                    .col(CourseVersion::Slug)
                    .col(CourseVersion::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CourseFile::Table)
                    .col(big_pk_auto(CourseFile::Id))
                    .col(big_integer(CourseFile::CourseVersionId))
                    .col(string(CourseFile::Path))
                    .col(string(CourseFile::ContentType))
                    .col(blob(CourseFile::Bytes))
                    .foreign_key(&mut cascade(
                        CourseFile::Table,
                        CourseFile::CourseVersionId,
                        CourseVersion::Table,
                        CourseVersion::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("course_file_version_path")
                    .table(CourseFile::Table)
                    .col(CourseFile::CourseVersionId)
                    .col(CourseFile::Path)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ContextCourse::Table)
                    .col(big_pk_auto(ContextCourse::Id))
                    .col(big_integer_uniq(ContextCourse::ContextId))
                    .col(big_integer(ContextCourse::CourseVersionId))
                    .col(big_integer(ContextCourse::PinnedAt))
                    .foreign_key(&mut cascade(
                        ContextCourse::Table,
                        ContextCourse::ContextId,
                        Context::Table,
                        Context::Id,
                    ))
                    .foreign_key(&mut cascade(
                        ContextCourse::Table,
                        ContextCourse::CourseVersionId,
                        CourseVersion::Table,
                        CourseVersion::Id,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Submission::Table)
                    .col(big_pk_auto(Submission::Id))
                    .col(big_integer(Submission::ContextId))
                    .col(string(Submission::ModuleSlug))
                    .col(string(Submission::TaskSlug))
                    .col(string(Submission::OwnerKey))
                    .col(string(Submission::Status))
                    .col(text(Submission::Answers))
                    .col(big_integer(Submission::Version))
                    .col(big_integer(Submission::UpdatedBy))
                    .col(big_integer(Submission::CreatedAt))
                    .col(big_integer(Submission::UpdatedAt))
                    .col(big_integer_null(Submission::SubmittedAt))
                    .col(text_null(Submission::Feedback))
                    .foreign_key(&mut cascade(
                        Submission::Table,
                        Submission::ContextId,
                        Context::Table,
                        Context::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("submission_owner_task")
                    .table(Submission::Table)
                    .col(Submission::ContextId)
                    .col(Submission::OwnerKey)
                    .col(Submission::ModuleSlug)
                    .col(Submission::TaskSlug)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SubmissionRevision::Table)
                    .col(big_pk_auto(SubmissionRevision::Id))
                    .col(big_integer(SubmissionRevision::SubmissionId))
                    .col(big_integer(SubmissionRevision::Version))
                    .col(text(SubmissionRevision::Answers))
                    .col(string(SubmissionRevision::Status))
                    .col(big_integer(SubmissionRevision::AuthorId))
                    .col(boolean(SubmissionRevision::Conflict))
                    .col(big_integer(SubmissionRevision::CreatedAt))
                    .foreign_key(&mut cascade(
                        SubmissionRevision::Table,
                        SubmissionRevision::SubmissionId,
                        Submission::Table,
                        Submission::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("submission_revision_submission")
                    .table(SubmissionRevision::Table)
                    .col(SubmissionRevision::SubmissionId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SelfAssessment::Table)
                    .col(big_pk_auto(SelfAssessment::Id))
                    .col(big_integer(SelfAssessment::ContextId))
                    .col(big_integer(SelfAssessment::UserId))
                    .col(string(SelfAssessment::Round))
                    .col(text(SelfAssessment::Ratings))
                    .col(big_integer(SelfAssessment::UpdatedAt))
                    .col(big_integer_null(SelfAssessment::SubmittedAt))
                    .foreign_key(&mut cascade(
                        SelfAssessment::Table,
                        SelfAssessment::ContextId,
                        Context::Table,
                        Context::Id,
                    ))
                    .foreign_key(&mut cascade(
                        SelfAssessment::Table,
                        SelfAssessment::UserId,
                        LtiUser::Table,
                        LtiUser::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("self_assessment_context_user_round")
                    .table(SelfAssessment::Table)
                    .col(SelfAssessment::ContextId)
                    .col(SelfAssessment::UserId)
                    .col(SelfAssessment::Round)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "coursebridge migrations are forward-only".into(),
        ))
    }
}
