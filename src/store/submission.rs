//! Submissions and their revisions. Saving is optimistic: a save names the version it was based on,
//! and a save based on an older version is a conflict whose text is kept as a revision.
use entity::{submission, submission_revision};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    sea_query::Expr,
};

/// Where a submission is.
#[derive(Debug, Clone)]
pub struct Key<'a> {
    /// Context row id.
    pub context_id: i64,
    /// `u:<user id>` or `g:<group key>`.
    pub owner_key: &'a str,
    /// Module slug.
    pub module_slug: &'a str,
    /// Task slug.
    pub task_slug: &'a str,
}

/// One save.
#[derive(Debug, Clone)]
pub struct Save<'a> {
    /// Which submission.
    pub key: Key<'a>,
    /// Answers, JSON.
    pub answers: String,
    /// The new status.
    pub status: &'a str,
    /// The version the text was based on (0: none yet).
    pub base_version: i64,
    /// Who saves.
    pub author_id: i64,
    /// Now.
    pub now: i64,
    /// Set `submitted_at`.
    pub submitting: bool,
}

/// What a save did.
#[derive(Debug)]
pub enum Saved {
    /// Stored as the new current version.
    Stored(submission::Model),
    /// Someone saved first; the incoming text was kept as a conflict revision.
    Conflict {
        /// The submission as it now is.
        current: submission::Model,
    },
}

/// The submission at `key`, if any.
pub async fn find(
    db: &impl ConnectionTrait,
    key: &Key<'_>,
) -> Result<Option<submission::Model>, DbErr> {
    submission::Entity::find()
        .filter(submission::Column::ContextId.eq(key.context_id))
        .filter(submission::Column::OwnerKey.eq(key.owner_key))
        .filter(submission::Column::ModuleSlug.eq(key.module_slug))
        .filter(submission::Column::TaskSlug.eq(key.task_slug))
        .one(db)
        .await
}

/// A person's own submissions and their group's, in one statement: the group they were placed in,
/// else their municipality's group (owner key `municipality`).
pub async fn for_person(
    db: &impl ConnectionTrait,
    context_id: i64,
    user_id: i64,
    municipality: &str,
) -> Result<Vec<submission::Model>, DbErr> {
    use entity::group_member;
    use sea_orm::{
        Condition,
        sea_query::{ExprTrait, Query},
    };
    let placement = || {
        Query::select()
            .from(group_member::Entity)
            .and_where(group_member::Column::ContextId.eq(context_id))
            .and_where(group_member::Column::UserId.eq(user_id))
            .to_owned()
    };
    // `||` and CAST … AS TEXT mean the same on SQLite and PostgreSQL.
    let placed_group = placement()
        .expr(Expr::cust("'g:' || CAST(group_id AS TEXT)"))
        .to_owned();
    let placed_anywhere = placement().expr(Expr::val(1)).to_owned();
    static FOR_PERSON: super::prepared::KeptSql = super::prepared::KeptSql::new();
    let owner = format!("u:{user_id}");
    let values = vec![
        context_id.into(),
        owner.as_str().into(),
        context_id.into(),
        user_id.into(),
        municipality.into(),
        // The `SELECT 1` of the placement's EXISTS.
        1i32.into(),
        context_id.into(),
        user_id.into(),
    ];
    let build = |backend| {
        use sea_orm::QueryTrait;
        submission::Entity::find()
            .filter(submission::Column::ContextId.eq(context_id))
            .filter(
                Condition::any()
                    .add(submission::Column::OwnerKey.eq(owner.as_str()))
                    .add(submission::Column::OwnerKey.in_subquery(placed_group))
                    .add(
                        Condition::all()
                            .add(submission::Column::OwnerKey.eq(municipality))
                            .add(Expr::exists(placed_anywhere).not()),
                    ),
            )
            .build(backend)
    };
    FOR_PERSON.all(db, build, values).await
}

/// Revisions of a submission, newest first.
pub async fn revisions(
    db: &impl ConnectionTrait,
    submission_id: i64,
) -> Result<Vec<submission_revision::Model>, DbErr> {
    submission_revision::Entity::find()
        .filter(submission_revision::Column::SubmissionId.eq(submission_id))
        .order_by_desc(submission_revision::Column::Id)
        .all(db)
        .await
}

async fn keep_revision(
    db: &impl ConnectionTrait,
    submission_id: i64,
    version: i64,
    save: &Save<'_>,
    conflict: bool,
) -> Result<(), DbErr> {
    submission_revision::Entity::insert(submission_revision::ActiveModel {
        submission_id: Set(submission_id),
        version: Set(version),
        answers: Set(save.answers.clone()),
        status: Set(save.status.to_owned()),
        author_id: Set(save.author_id),
        conflict: Set(conflict),
        created_at: Set(save.now),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// Saves when `base_version` is the current version; otherwise keeps the text as a conflict.
pub async fn save(db: &impl ConnectionTrait, save: Save<'_>) -> Result<Saved, DbErr> {
    let existing = find(db, &save.key).await?;
    let Some(current) = existing else {
        let inserted = submission::Entity::insert(submission::ActiveModel {
            context_id: Set(save.key.context_id),
            module_slug: Set(save.key.module_slug.to_owned()),
            task_slug: Set(save.key.task_slug.to_owned()),
            owner_key: Set(save.key.owner_key.to_owned()),
            status: Set(save.status.to_owned()),
            answers: Set(save.answers.clone()),
            version: Set(1),
            updated_by: Set(save.author_id),
            created_at: Set(save.now),
            updated_at: Set(save.now),
            submitted_at: Set(save.submitting.then_some(save.now)),
            feedback: Set(None),
            ..Default::default()
        })
        .exec_with_returning(db)
        .await;
        return match inserted {
            Ok(row) => {
                keep_revision(db, row.id, 1, &save, false).await?;
                if row.status != "draft" {
                    super::review::record_event(
                        db,
                        row.id,
                        save.author_id,
                        "draft",
                        &row.status,
                        None,
                        save.now,
                    )
                    .await?;
                }
                Ok(Saved::Stored(row))
            }
            // Two first saves at once: the other one won.
            Err(err)
                if matches!(
                    err.sql_err(),
                    Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                ) =>
            {
                conflict(db, &save).await
            }
            Err(err) => Err(err),
        };
    };
    if current.version != save.base_version {
        keep_revision(db, current.id, current.version, &save, true).await?;
        return Ok(Saved::Conflict { current });
    }
    let mut update = submission::Entity::update_many()
        .col_expr(
            submission::Column::Answers,
            Expr::value(save.answers.clone()),
        )
        .col_expr(submission::Column::Status, Expr::value(save.status))
        .col_expr(
            submission::Column::Version,
            Expr::value(current.version + 1),
        )
        .col_expr(submission::Column::UpdatedBy, Expr::value(save.author_id))
        .col_expr(submission::Column::UpdatedAt, Expr::value(save.now));
    if save.submitting {
        update = update.col_expr(submission::Column::SubmittedAt, Expr::value(save.now));
    }
    let mut updated = update
        .filter(submission::Column::Id.eq(current.id))
        .filter(submission::Column::Version.eq(current.version))
        .exec_with_returning(db)
        .await?;
    match updated.pop() {
        Some(row) => {
            keep_revision(db, row.id, row.version, &save, false).await?;
            if current.status != row.status {
                super::review::record_event(
                    db,
                    row.id,
                    save.author_id,
                    &current.status,
                    &row.status,
                    None,
                    save.now,
                )
                .await?;
            }
            Ok(Saved::Stored(row))
        }
        None => conflict(db, &save).await,
    }
}

async fn conflict(db: &impl ConnectionTrait, save: &Save<'_>) -> Result<Saved, DbErr> {
    let current = find(db, &save.key)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("submission vanished during save".into()))?;
    keep_revision(db, current.id, current.version, save, true).await?;
    Ok(Saved::Conflict { current })
}
