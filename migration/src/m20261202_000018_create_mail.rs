//! The mail outbox and the opt-outs. A mail is written in the transaction of what it tells (a
//! review decision) or by the reminder schedule, and sent by the worker under a lease like scores
//! and webhook events, so a mail server that is down delays mail and loses none. `dedupe_key` is
//! unique: a reminder queued by two instances at once, or again after a restart, is one mail.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Id,
    DedupeKey,
    UserId,
    Recipient,
    Subject,
    Body,
    State,
    Attempts,
    NextAttemptAtMs,
    ClaimedBy,
    ClaimedUntilMs,
    LastError,
    CreatedAtMs,
    SentAtMs,
}

#[derive(DeriveIden)]
enum MailOptOut {
    Table,
    UserId,
    OptedOutAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MailOutbox::Table)
                    .col(big_pk_auto(MailOutbox::Id))
                    .col(string_uniq(MailOutbox::DedupeKey))
                    .col(big_integer(MailOutbox::UserId))
                    .col(string(MailOutbox::Recipient))
                    .col(string(MailOutbox::Subject))
                    .col(text(MailOutbox::Body))
                    .col(string(MailOutbox::State))
                    .col(integer(MailOutbox::Attempts).default(0))
                    .col(big_integer(MailOutbox::NextAttemptAtMs))
                    .col(string_null(MailOutbox::ClaimedBy))
                    .col(big_integer_null(MailOutbox::ClaimedUntilMs))
                    .col(text_null(MailOutbox::LastError))
                    .col(big_integer(MailOutbox::CreatedAtMs))
                    .col(big_integer_null(MailOutbox::SentAtMs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("mail_outbox_due")
                    .table(MailOutbox::Table)
                    .col(MailOutbox::State)
                    .col(MailOutbox::NextAttemptAtMs)
                    .col(MailOutbox::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("mail_outbox_user")
                    .table(MailOutbox::Table)
                    .col(MailOutbox::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MailOptOut::Table)
                    .col(big_integer(MailOptOut::UserId).primary_key())
                    .col(big_integer(MailOptOut::OptedOutAt))
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
