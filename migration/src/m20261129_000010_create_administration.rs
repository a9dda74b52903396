//! Administration: organisations as data controllers (webhook, retention), roles granted inside the
//! tool, API tokens (hashes only), the audit log, completion records with a commit-ordered change
//! sequence for incremental sync, the webhook outbox, and a cohort's closing date.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Platform {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Deployment {
    Table,
    Organisation,
}

#[derive(DeriveIden)]
enum Context {
    Table,
    Id,
    ClosedAt,
    RetainedAt,
}

#[derive(DeriveIden)]
enum LtiUser {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Organisation {
    Table,
    Id,
    Name,
    WebhookUrl,
    WebhookSecret,
    RetentionMonths,
    RetentionAction,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AdminGrant {
    Table,
    Id,
    PlatformId,
    Sub,
    Role,
    Organisation,
    GrantedAt,
    GrantedBy,
}

#[derive(DeriveIden)]
enum ApiToken {
    Table,
    Id,
    TokenHash,
    Prefix,
    Label,
    Scope,
    Organisation,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    AtMs,
    Actor,
    Action,
    Target,
    Organisation,
    Origin,
    Detail,
}

#[derive(DeriveIden)]
enum CompletionRecord {
    Table,
    Id,
    ContextId,
    UserId,
    Organisation,
    Sequence,
    UpdatedAtMs,
    Record,
}

#[derive(DeriveIden)]
enum ChangeCounter {
    Table,
    Name,
    Value,
}

#[derive(DeriveIden)]
enum WebhookDelivery {
    Table,
    Id,
    Organisation,
    UserId,
    Event,
    State,
    Attempts,
    NextAttemptAtMs,
    ClaimedBy,
    ClaimedUntilMs,
    LastError,
    CreatedAtMs,
    SentAtMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Organisation::Table)
                    .col(big_pk_auto(Organisation::Id))
                    .col(string_uniq(Organisation::Name))
                    .col(text_null(Organisation::WebhookUrl))
                    .col(text_null(Organisation::WebhookSecret))
                    .col(integer_null(Organisation::RetentionMonths))
                    .col(string(Organisation::RetentionAction).default("anonymise"))
                    .col(big_integer(Organisation::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // Organisations named by deployments before this migration become rows.
        let select = Query::select()
            .distinct()
            .column(Deployment::Organisation)
            .expr(Expr::val(0i64))
            .from(Deployment::Table)
            .and_where(Expr::col(Deployment::Organisation).is_not_null())
            .to_owned();
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(Organisation::Table)
                    .columns([Organisation::Name, Organisation::CreatedAt])
                    .select_from(select)
                    .map_err(|err| DbErr::Migration(err.to_string()))?
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AdminGrant::Table)
                    .col(big_pk_auto(AdminGrant::Id))
                    .col(big_integer(AdminGrant::PlatformId))
                    .col(string(AdminGrant::Sub))
                    .col(string(AdminGrant::Role))
                    // `*` for a system administrator, so the unique index also covers them.
                    .col(string(AdminGrant::Organisation))
                    .col(big_integer(AdminGrant::GrantedAt))
                    .col(string(AdminGrant::GrantedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AdminGrant::Table, AdminGrant::PlatformId)
                            .to(Platform::Table, Platform::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("admin_grant_person_role")
                    .table(AdminGrant::Table)
                    .col(AdminGrant::PlatformId)
                    .col(AdminGrant::Sub)
                    .col(AdminGrant::Role)
                    .col(AdminGrant::Organisation)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiToken::Table)
                    .col(big_pk_auto(ApiToken::Id))
                    .col(string_uniq(ApiToken::TokenHash))
                    .col(string(ApiToken::Prefix))
                    .col(string(ApiToken::Label))
                    .col(string(ApiToken::Scope))
                    .col(string_null(ApiToken::Organisation))
                    .col(big_integer(ApiToken::CreatedAt))
                    .col(big_integer(ApiToken::ExpiresAt))
                    .col(big_integer_null(ApiToken::RevokedAt))
                    .col(big_integer_null(ApiToken::LastUsedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_pk_auto(AuditLog::Id))
                    .col(big_integer(AuditLog::AtMs))
                    .col(string(AuditLog::Actor))
                    .col(string(AuditLog::Action))
                    .col(string(AuditLog::Target))
                    .col(string_null(AuditLog::Organisation))
                    .col(string(AuditLog::Origin))
                    .col(text(AuditLog::Detail))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_log_organisation")
                    .table(AuditLog::Table)
                    .col(AuditLog::Organisation)
                    .col(AuditLog::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CompletionRecord::Table)
                    .col(big_pk_auto(CompletionRecord::Id))
                    .col(big_integer(CompletionRecord::ContextId))
                    .col(big_integer(CompletionRecord::UserId))
                    .col(string_null(CompletionRecord::Organisation))
                    .col(big_integer(CompletionRecord::Sequence))
                    .col(big_integer(CompletionRecord::UpdatedAtMs))
                    .col(text(CompletionRecord::Record))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CompletionRecord::Table, CompletionRecord::ContextId)
                            .to(Context::Table, Context::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CompletionRecord::Table, CompletionRecord::UserId)
                            .to(LtiUser::Table, LtiUser::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("completion_record_person")
                    .table(CompletionRecord::Table)
                    .col(CompletionRecord::ContextId)
                    .col(CompletionRecord::UserId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("completion_record_sequence")
                    .table(CompletionRecord::Table)
                    .col(CompletionRecord::Sequence)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("completion_record_organisation_sequence")
                    .table(CompletionRecord::Table)
                    .col(CompletionRecord::Organisation)
                    .col(CompletionRecord::Sequence)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ChangeCounter::Table)
                    .col(string(ChangeCounter::Name).primary_key())
                    .col(big_integer(ChangeCounter::Value))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(ChangeCounter::Table)
                    .columns([ChangeCounter::Name, ChangeCounter::Value])
                    .values(["completion".into(), 0i64.into()])
                    .map_err(|err| DbErr::Migration(err.to_string()))?
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookDelivery::Table)
                    .col(big_pk_auto(WebhookDelivery::Id))
                    .col(string(WebhookDelivery::Organisation))
                    .col(big_integer(WebhookDelivery::UserId))
                    .col(text(WebhookDelivery::Event))
                    .col(string(WebhookDelivery::State))
                    .col(integer(WebhookDelivery::Attempts).default(0))
                    .col(big_integer(WebhookDelivery::NextAttemptAtMs))
                    .col(string_null(WebhookDelivery::ClaimedBy))
                    .col(big_integer_null(WebhookDelivery::ClaimedUntilMs))
                    .col(text_null(WebhookDelivery::LastError))
                    .col(big_integer(WebhookDelivery::CreatedAtMs))
                    .col(big_integer_null(WebhookDelivery::SentAtMs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("webhook_delivery_due")
                    .table(WebhookDelivery::Table)
                    .col(WebhookDelivery::State)
                    .col(WebhookDelivery::NextAttemptAtMs)
                    .col(WebhookDelivery::Id)
                    .to_owned(),
            )
            .await?;

        for column in [Context::ClosedAt, Context::RetainedAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Context::Table)
                        .add_column(big_integer_null(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "coursebridge migrations are forward-only".into(),
        ))
    }
}
