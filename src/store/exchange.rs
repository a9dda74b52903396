//! Shared group answers, their comments and pins: what crosses a municipality inside a course run.
use entity::{shared_answer, shared_comment, submission};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    sea_query::{Expr, OnConflict},
};

/// A share as a group member makes it.
pub struct NewShare<'a> {
    pub submission: &'a submission::Model,
    pub scope: &'a str,
    pub organisation: &'a str,
    pub shared_by: i64,
    pub signed_name: Option<&'a str>,
    pub now: i64,
}

/// Shares a group's answer, or updates who shared it and whether it is signed.
pub async fn share(db: &impl ConnectionTrait, share: NewShare<'_>) -> Result<(), DbErr> {
    shared_answer::Entity::insert(shared_answer::ActiveModel {
        submission_id: Set(share.submission.id),
        scope: Set(share.scope.to_owned()),
        context_id: Set(share.submission.context_id),
        module_slug: Set(share.submission.module_slug.clone()),
        task_slug: Set(share.submission.task_slug.clone()),
        organisation: Set(share.organisation.to_owned()),
        shared_by: Set(share.shared_by),
        signed_name: Set(share.signed_name.map(str::to_owned)),
        shared_at: Set(share.now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(shared_answer::Column::SubmissionId)
            .update_columns([
                shared_answer::Column::Scope,
                shared_answer::Column::Organisation,
                shared_answer::Column::SharedBy,
                shared_answer::Column::SignedName,
                shared_answer::Column::SharedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// Withdraws a shared answer with its comments. `false` when it was not shared.
pub async fn unshare(db: &impl ConnectionTrait, submission_id: i64) -> Result<bool, DbErr> {
    let Some(row) = of_submission(db, submission_id).await? else {
        return Ok(false);
    };
    shared_comment::Entity::delete_many()
        .filter(shared_comment::Column::SharedAnswerId.eq(row.id))
        .exec(db)
        .await?;
    shared_answer::Entity::delete_by_id(row.id).exec(db).await?;
    Ok(true)
}

/// The share of one submission, if it is shared.
pub async fn of_submission(
    db: &impl ConnectionTrait,
    submission_id: i64,
) -> Result<Option<shared_answer::Model>, DbErr> {
    shared_answer::Entity::find()
        .filter(shared_answer::Column::SubmissionId.eq(submission_id))
        .one(db)
        .await
}

/// One shared answer.
pub async fn find(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<shared_answer::Model>, DbErr> {
    shared_answer::Entity::find_by_id(id).one(db).await
}

/// The answers shared for one task in a scope, pinned first, then oldest share first, each with
/// its submission.
pub async fn for_task(
    db: &impl ConnectionTrait,
    scope: &str,
    module: &str,
    task: &str,
) -> Result<Vec<(shared_answer::Model, submission::Model)>, DbErr> {
    let shared = shared_answer::Entity::find()
        .filter(shared_answer::Column::Scope.eq(scope))
        .filter(shared_answer::Column::ModuleSlug.eq(module))
        .filter(shared_answer::Column::TaskSlug.eq(task))
        .order_by_asc(shared_answer::Column::SharedAt)
        .order_by_asc(shared_answer::Column::Id)
        .all(db)
        .await?;
    with_submissions(db, shared).await
}

/// The answers pinned for the workshop of one module in a scope, each with its submission.
pub async fn pinned_for_module(
    db: &impl ConnectionTrait,
    scope: &str,
    module: &str,
) -> Result<Vec<(shared_answer::Model, submission::Model)>, DbErr> {
    let shared = shared_answer::Entity::find()
        .filter(shared_answer::Column::Scope.eq(scope))
        .filter(shared_answer::Column::ModuleSlug.eq(module))
        .filter(shared_answer::Column::PinnedAt.is_not_null())
        .order_by_asc(shared_answer::Column::PinnedAt)
        .order_by_asc(shared_answer::Column::Id)
        .all(db)
        .await?;
    with_submissions(db, shared).await
}

async fn with_submissions(
    db: &impl ConnectionTrait,
    shared: Vec<shared_answer::Model>,
) -> Result<Vec<(shared_answer::Model, submission::Model)>, DbErr> {
    let rows: std::collections::HashMap<i64, submission::Model> = submission::Entity::find()
        .filter(submission::Column::Id.is_in(shared.iter().map(|s| s.submission_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    Ok(shared
        .into_iter()
        .filter_map(|s| {
            let row = rows.get(&s.submission_id)?.clone();
            Some((s, row))
        })
        .collect())
}

/// Pins (with `by`) or unpins (`None`) a shared answer.
pub async fn set_pin(
    db: &impl ConnectionTrait,
    id: i64,
    by: Option<i64>,
    now: i64,
) -> Result<(), DbErr> {
    shared_answer::Entity::update_many()
        .col_expr(shared_answer::Column::PinnedBy, Expr::value(by))
        .col_expr(
            shared_answer::Column::PinnedAt,
            Expr::value(by.map(|_| now)),
        )
        .filter(shared_answer::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// A comment as a participant writes it.
pub struct NewComment<'a> {
    pub shared_answer_id: i64,
    pub user_id: i64,
    pub organisation: &'a str,
    pub signed_name: Option<&'a str>,
    pub body: &'a str,
    pub now: i64,
}

/// Adds a comment.
pub async fn add_comment(db: &impl ConnectionTrait, comment: NewComment<'_>) -> Result<(), DbErr> {
    shared_comment::Entity::insert(shared_comment::ActiveModel {
        shared_answer_id: Set(comment.shared_answer_id),
        user_id: Set(comment.user_id),
        organisation: Set(comment.organisation.to_owned()),
        signed_name: Set(comment.signed_name.map(str::to_owned)),
        body: Set(comment.body.to_owned()),
        created_at: Set(comment.now),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// How many comments a person wrote on one shared answer.
pub async fn comments_by(
    db: &impl ConnectionTrait,
    shared_answer_id: i64,
    user_id: i64,
) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    shared_comment::Entity::find()
        .filter(shared_comment::Column::SharedAnswerId.eq(shared_answer_id))
        .filter(shared_comment::Column::UserId.eq(user_id))
        .count(db)
        .await
}

/// The comments on these shared answers, oldest first.
pub async fn comments_on(
    db: &impl ConnectionTrait,
    shared_answer_ids: &[i64],
) -> Result<Vec<shared_comment::Model>, DbErr> {
    shared_comment::Entity::find()
        .filter(shared_comment::Column::SharedAnswerId.is_in(shared_answer_ids.iter().copied()))
        .order_by_asc(shared_comment::Column::Id)
        .all(db)
        .await
}

/// A person's comments (the personal data export).
pub async fn comments_of_person(
    db: &impl ConnectionTrait,
    user_id: i64,
) -> Result<Vec<shared_comment::Model>, DbErr> {
    shared_comment::Entity::find()
        .filter(shared_comment::Column::UserId.eq(user_id))
        .order_by_asc(shared_comment::Column::Id)
        .all(db)
        .await
}

/// Erasure: a person's comments and reports are deleted; an answer they shared stays shared for their group,
/// with no name and no sharer.
pub async fn erase_person(db: &impl ConnectionTrait, user_id: i64) -> Result<u64, DbErr> {
    let deleted = shared_comment::Entity::delete_many()
        .filter(shared_comment::Column::UserId.eq(user_id))
        .exec(db)
        .await?
        .rows_affected;
    entity::content_report::Entity::delete_many()
        .filter(entity::content_report::Column::ReportedBy.eq(user_id))
        .exec(db)
        .await?;
    shared_answer::Entity::update_many()
        .col_expr(shared_answer::Column::SharedBy, Expr::value(0i64))
        .col_expr(
            shared_answer::Column::SignedName,
            Expr::value(Option::<String>::None),
        )
        .filter(shared_answer::Column::SharedBy.eq(user_id))
        .exec(db)
        .await?;
    Ok(deleted)
}

/// One comment.
pub async fn find_comment(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<shared_comment::Model>, DbErr> {
    shared_comment::Entity::find_by_id(id).one(db).await
}

/// What a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reported {
    Answer(i64),
    Comment(i64),
}

impl Reported {
    fn parts(self) -> (&'static str, i64) {
        match self {
            Reported::Answer(id) => ("answer", id),
            Reported::Comment(id) => ("comment", id),
        }
    }
}

/// Records a person's report of an item, once per person and item. `true` when it is new.
pub async fn report(
    db: &impl ConnectionTrait,
    (item, scope): (Reported, &str),
    reported_by: i64,
    reason: &str,
    now: i64,
) -> Result<bool, DbErr> {
    report_target(db, (item.parts(), scope), reported_by, reason, now).await
}

/// Records a report of the `kind` item `target_id` (an answer, a comment, a space's post) in
/// `scope`, once per person and item. `true` when it is new.
pub(super) async fn report_target(
    db: &impl ConnectionTrait,
    ((kind, target_id), scope): ((&str, i64), &str),
    reported_by: i64,
    reason: &str,
    now: i64,
) -> Result<bool, DbErr> {
    let inserted = entity::content_report::Entity::insert(entity::content_report::ActiveModel {
        kind: Set(kind.to_owned()),
        target_id: Set(target_id),
        scope: Set(scope.to_owned()),
        reported_by: Set(reported_by),
        reason: Set(reason.to_owned()),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            entity::content_report::Column::Kind,
            entity::content_report::Column::TargetId,
            entity::content_report::Column::ReportedBy,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(inserted == 1)
}

/// How many reports each item of a scope has.
pub async fn report_counts(
    db: &impl ConnectionTrait,
    scope: &str,
) -> Result<std::collections::HashMap<Reported, usize>, DbErr> {
    let mut counts = std::collections::HashMap::new();
    for report in entity::content_report::Entity::find()
        .filter(entity::content_report::Column::Scope.eq(scope))
        .all(db)
        .await?
    {
        let item = match report.kind.as_str() {
            "comment" => Reported::Comment(report.target_id),
            _ => Reported::Answer(report.target_id),
        };
        *counts.entry(item).or_insert(0) += 1;
    }
    Ok(counts)
}

/// Hides an item from its readers, with who and why.
pub async fn hide(
    db: &impl ConnectionTrait,
    item: Reported,
    by: i64,
    reason: &str,
    now: i64,
) -> Result<(), DbErr> {
    match item {
        Reported::Answer(id) => shared_answer::Entity::update_many()
            .col_expr(shared_answer::Column::HiddenAt, Expr::value(now))
            .col_expr(shared_answer::Column::HiddenBy, Expr::value(by))
            .col_expr(shared_answer::Column::HiddenReason, Expr::value(reason))
            .filter(shared_answer::Column::Id.eq(id))
            .exec(db)
            .await
            .map(|_| ()),
        Reported::Comment(id) => shared_comment::Entity::update_many()
            .col_expr(shared_comment::Column::HiddenAt, Expr::value(now))
            .col_expr(shared_comment::Column::HiddenBy, Expr::value(by))
            .col_expr(shared_comment::Column::HiddenReason, Expr::value(reason))
            .filter(shared_comment::Column::Id.eq(id))
            .exec(db)
            .await
            .map(|_| ()),
    }
}
