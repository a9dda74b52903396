//! Everything stored about one person, for a subject access export and for erasure. Limited to a
//! set of contexts when an organisation asks (its own cohorts only).
use entity::{
    completion_record, contact_person, context, group_member, lti_user, membership, score_outbox,
    self_assessment, submission, submission_event, submission_revision,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, sea_query::Expr,
};

/// The person's memberships, in the given contexts (all when `None`).
pub async fn memberships(
    db: &impl ConnectionTrait,
    user_id: i64,
    contexts: Option<&[i64]>,
) -> Result<Vec<membership::Model>, DbErr> {
    let mut query = membership::Entity::find().filter(membership::Column::UserId.eq(user_id));
    if let Some(contexts) = contexts {
        query = query.filter(membership::Column::ContextId.is_in(contexts.iter().copied()));
    }
    query.all(db).await
}

/// What is stored about a person.
#[derive(Debug)]
pub struct PersonData {
    /// The person.
    pub user: lti_user::Model,
    /// Their memberships.
    pub memberships: Vec<membership::Model>,
    /// The contexts of those memberships.
    pub contexts: Vec<context::Model>,
    /// Their own answers.
    pub submissions: Vec<submission::Model>,
    /// Earlier versions of those answers.
    pub revisions: Vec<submission_revision::Model>,
    /// Review decisions on those answers.
    pub events: Vec<submission_event::Model>,
    /// Their self-assessments.
    pub assessments: Vec<self_assessment::Model>,
    /// Their completion records.
    pub records: Vec<completion_record::Model>,
    /// Scores sent or waiting for the gradebook.
    pub scores: Vec<score_outbox::Model>,
    /// Group placements.
    pub groups: Vec<group_member::Model>,
    /// Contact-person grants.
    pub contact_grants: Vec<contact_person::Model>,
    /// Comments on other municipalities' shared answers.
    pub comments: Vec<entity::shared_comment::Model>,
    /// Posts in network spaces.
    pub posts: Vec<entity::space_post::Model>,
    /// Files attached to those posts (names and sizes).
    pub attachments: Vec<super::spaces::AttachmentInfo>,
}

/// Loads everything stored about a person in `contexts` (all when `None`).
pub async fn load(
    db: &impl ConnectionTrait,
    user: lti_user::Model,
    contexts: Option<&[i64]>,
) -> Result<PersonData, DbErr> {
    let memberships = memberships(db, user.id, contexts).await?;
    let context_ids: Vec<i64> = memberships.iter().map(|m| m.context_id).collect();
    let contexts_rows = context::Entity::find()
        .filter(context::Column::Id.is_in(context_ids.clone()))
        .all(db)
        .await?;
    let submissions = submission::Entity::find()
        .filter(submission::Column::OwnerKey.eq(format!("u:{}", user.id)))
        .filter(submission::Column::ContextId.is_in(context_ids.clone()))
        .order_by_asc(submission::Column::Id)
        .all(db)
        .await?;
    let submission_ids: Vec<i64> = submissions.iter().map(|s| s.id).collect();
    let revisions = submission_revision::Entity::find()
        .filter(submission_revision::Column::SubmissionId.is_in(submission_ids.clone()))
        .order_by_asc(submission_revision::Column::Id)
        .all(db)
        .await?;
    let events = submission_event::Entity::find()
        .filter(submission_event::Column::SubmissionId.is_in(submission_ids))
        .order_by_asc(submission_event::Column::Id)
        .all(db)
        .await?;
    let assessments = self_assessment::Entity::find()
        .filter(self_assessment::Column::UserId.eq(user.id))
        .filter(self_assessment::Column::ContextId.is_in(context_ids.clone()))
        .all(db)
        .await?;
    let records = completion_record::Entity::find()
        .filter(completion_record::Column::UserId.eq(user.id))
        .filter(completion_record::Column::ContextId.is_in(context_ids.clone()))
        .all(db)
        .await?;
    let scores = score_outbox::Entity::find()
        .filter(score_outbox::Column::UserId.eq(user.id))
        .filter(score_outbox::Column::ContextId.is_in(context_ids.clone()))
        .order_by_asc(score_outbox::Column::Id)
        .all(db)
        .await?;
    let groups = group_member::Entity::find()
        .filter(group_member::Column::UserId.eq(user.id))
        .filter(group_member::Column::ContextId.is_in(context_ids))
        .all(db)
        .await?;
    let contact_grants = contact_person::Entity::find()
        .filter(contact_person::Column::PlatformId.eq(user.platform_id))
        .filter(contact_person::Column::Sub.eq(user.sub.as_str()))
        .all(db)
        .await?;
    let comments = super::exchange::comments_of_person(db, user.id).await?;
    let posts = super::spaces::posts_of_person(db, user.id).await?;
    let post_ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
    let attachments = super::spaces::attachments_of(db, &post_ids).await?;
    Ok(PersonData {
        user,
        memberships,
        contexts: contexts_rows,
        submissions,
        revisions,
        events,
        assessments,
        records,
        scores,
        groups,
        contact_grants,
        comments,
        posts,
        attachments,
    })
}

/// How thoroughly a person is erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Erasure {
    /// Identity and personal content removed; statuses, ratings and completion kept as anonymous
    /// counts.
    Anonymise,
    /// Everything of the person removed.
    Delete,
}

/// What an erasure removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Erased {
    /// Own answers emptied (anonymise) or deleted.
    pub submissions: u64,
    /// Self-assessments deleted (delete only).
    pub assessments: u64,
    /// Gradebook scores and webhook events removed (they carry the person's identifiers).
    pub deliveries: u64,
    /// Comments on other municipalities' shared answers deleted (an answer the person shared
    /// stays shared for their group, with no name).
    pub comments: u64,
    /// Posts in network spaces deleted, or emptied where others replied to them.
    pub posts: u64,
    /// Whether the identity itself was anonymised (not when the person also belongs to contexts
    /// outside the erasure).
    pub identity: bool,
}

/// Erases a person in `contexts` (all when `None`). Call inside a transaction.
pub async fn erase(
    db: &impl ConnectionTrait,
    user: &lti_user::Model,
    contexts: Option<&[i64]>,
    how: Erasure,
    pseudonym: &str,
) -> Result<Erased, DbErr> {
    let mut erased = Erased::default();
    let in_scope: Vec<i64> = memberships(db, user.id, contexts)
        .await?
        .into_iter()
        .map(|m| m.context_id)
        .collect();
    let own = || {
        submission::Entity::find()
            .filter(submission::Column::OwnerKey.eq(format!("u:{}", user.id)))
            .filter(submission::Column::ContextId.is_in(in_scope.clone()))
    };
    let own_ids: Vec<i64> = own().all(db).await?.into_iter().map(|s| s.id).collect();
    match how {
        Erasure::Anonymise => {
            submission_revision::Entity::delete_many()
                .filter(submission_revision::Column::SubmissionId.is_in(own_ids.clone()))
                .exec(db)
                .await?;
            submission_event::Entity::update_many()
                .col_expr(
                    submission_event::Column::Feedback,
                    Expr::value(Option::<String>::None),
                )
                .filter(submission_event::Column::SubmissionId.is_in(own_ids.clone()))
                .exec(db)
                .await?;
            erased.submissions = submission::Entity::update_many()
                .col_expr(submission::Column::Answers, Expr::value("[]"))
                .col_expr(
                    submission::Column::Feedback,
                    Expr::value(Option::<String>::None),
                )
                .filter(submission::Column::Id.is_in(own_ids))
                .exec(db)
                .await?
                .rows_affected;
        }
        Erasure::Delete => {
            erased.submissions = submission::Entity::delete_many()
                .filter(submission::Column::Id.is_in(own_ids))
                .exec(db)
                .await?
                .rows_affected;
            erased.assessments = self_assessment::Entity::delete_many()
                .filter(self_assessment::Column::UserId.eq(user.id))
                .filter(self_assessment::Column::ContextId.is_in(in_scope.clone()))
                .exec(db)
                .await?
                .rows_affected;
            completion_record::Entity::delete_many()
                .filter(completion_record::Column::UserId.eq(user.id))
                .filter(completion_record::Column::ContextId.is_in(in_scope.clone()))
                .exec(db)
                .await?;
            group_member::Entity::delete_many()
                .filter(group_member::Column::UserId.eq(user.id))
                .filter(group_member::Column::ContextId.is_in(in_scope.clone()))
                .exec(db)
                .await?;
            membership::Entity::delete_many()
                .filter(membership::Column::UserId.eq(user.id))
                .filter(membership::Column::ContextId.is_in(in_scope.clone()))
                .exec(db)
                .await?;
        }
    }
    // Scores and events name the person by `sub`; the gradebook has what was sent already.
    erased.deliveries = score_outbox::Entity::delete_many()
        .filter(score_outbox::Column::UserId.eq(user.id))
        .filter(score_outbox::Column::ContextId.is_in(in_scope.clone()))
        .exec(db)
        .await?
        .rows_affected;
    erased.deliveries += super::webhooks::delete_for_user(db, user.id).await?;
    erased.deliveries += super::mail::delete_for_user(db, user.id).await?;
    erased.comments = super::exchange::erase_person(db, user.id).await?;

    let elsewhere = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user.id))
        .filter(membership::Column::ContextId.is_not_in(in_scope))
        .one(db)
        .await?
        .is_some();
    if contexts.is_none() || !elsewhere {
        // Network spaces span course runs: a person's posts go with the person, not with one of
        // their LMS courses.
        let posts = super::spaces::erase_person(db, user.id, how == Erasure::Delete).await?;
        erased.posts = posts.deleted + posts.emptied;
        contact_person::Entity::delete_many()
            .filter(contact_person::Column::PlatformId.eq(user.platform_id))
            .filter(contact_person::Column::Sub.eq(user.sub.as_str()))
            .exec(db)
            .await?;
        super::admin::delete_grants_of(db, user.platform_id, &user.sub).await?;
        lti_user::Entity::update_many()
            .col_expr(lti_user::Column::Sub, Expr::value(pseudonym))
            .col_expr(lti_user::Column::Name, Expr::value(Option::<String>::None))
            .col_expr(
                lti_user::Column::GivenName,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                lti_user::Column::FamilyName,
                Expr::value(Option::<String>::None),
            )
            .col_expr(lti_user::Column::Email, Expr::value(Option::<String>::None))
            .filter(lti_user::Column::Id.eq(user.id))
            .exec(db)
            .await?;
        erased.identity = true;
    }
    Ok(erased)
}

/// The cohorts in `contexts` closed before `closed_before` whose retention is not applied yet,
/// and their people (retention).
pub async fn due_for_retention(
    db: &impl ConnectionTrait,
    contexts: &[i64],
    closed_before: i64,
) -> Result<(Vec<i64>, Vec<i64>), DbErr> {
    let closed: Vec<i64> = context::Entity::find()
        .filter(context::Column::Id.is_in(contexts.iter().copied()))
        .filter(context::Column::ClosedAt.is_not_null())
        .filter(context::Column::ClosedAt.lt(closed_before))
        .filter(context::Column::RetainedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let people: std::collections::BTreeSet<i64> = membership::Entity::find()
        .filter(membership::Column::ContextId.is_in(closed.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    Ok((closed, people.into_iter().collect()))
}

/// Notes that retention was applied to cohorts.
pub async fn mark_retained(
    db: &impl ConnectionTrait,
    contexts: &[i64],
    now: i64,
) -> Result<(), DbErr> {
    context::Entity::update_many()
        .col_expr(context::Column::RetainedAt, Expr::value(now))
        .filter(context::Column::Id.is_in(contexts.iter().copied()))
        .exec(db)
        .await
        .map(|_| ())
}

/// Closes a cohort (retention counts from here); `None` reopens it.
pub async fn close_context(
    db: &impl ConnectionTrait,
    context_id: i64,
    closed_at: Option<i64>,
) -> Result<bool, DbErr> {
    Ok(context::Entity::update_many()
        .col_expr(context::Column::ClosedAt, Expr::value(closed_at))
        .filter(context::Column::Id.eq(context_id))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// A person by id.
pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Option<lti_user::Model>, DbErr> {
    lti_user::Entity::find_by_id(id).one(db).await
}

/// Whether the person was erased already (their `sub` is a pseudonym).
pub fn is_erased(user: &lti_user::Model) -> bool {
    user.sub.starts_with(ERASED_PREFIX)
}

/// The prefix of an erased person's pseudonym.
pub const ERASED_PREFIX: &str = "erased:";

/// What a session needs to go on: the person (unless erased), whether their deployment is approved,
/// and the title of the session's context. Primary-key reads only.
pub async fn session_standing(
    db: &impl ConnectionTrait,
    user_id: i64,
    deployment_id: i64,
    context_id: Option<i64>,
) -> Result<Option<(lti_user::Model, Option<String>)>, DbErr> {
    let Some(person) = get(db, user_id).await? else {
        return Ok(None);
    };
    if person.sub.starts_with(ERASED_PREFIX) {
        return Ok(None);
    }
    let approved = super::deployment::get(db, deployment_id)
        .await?
        .is_some_and(|d| d.status == super::deployment::APPROVED);
    if !approved {
        return Ok(None);
    }
    let title = match context_id {
        Some(id) => super::roster::context(db, id)
            .await?
            .and_then(|c| c.title.or(c.label)),
        None => None,
    };
    Ok(Some((person, title)))
}

/// Ends every session of the person that began before `now`; false when there is no such person.
pub async fn revoke_sessions(
    db: &impl ConnectionTrait,
    user_id: i64,
    now: i64,
) -> Result<bool, DbErr> {
    let result = lti_user::Entity::update_many()
        .col_expr(
            lti_user::Column::SessionsRevokedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(lti_user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// A person by their registration and `sub`.
pub async fn by_sub(
    db: &impl ConnectionTrait,
    platform_id: i64,
    sub: &str,
) -> Result<Option<lti_user::Model>, DbErr> {
    lti_user::Entity::find()
        .filter(lti_user::Column::PlatformId.eq(platform_id))
        .filter(lti_user::Column::Sub.eq(sub))
        .one(db)
        .await
}

/// A person as their LMS or sign-in provider names them.
pub struct PersonFields<'a> {
    pub sub: &'a str,
    pub name: Option<&'a str>,
    pub given_name: Option<&'a str>,
    pub family_name: Option<&'a str>,
    pub email: Option<&'a str>,
}

/// Stores or updates a person, as a launch or a sign-in names them, returning their row.
pub async fn upsert_person(
    db: &impl ConnectionTrait,
    platform_id: i64,
    person: PersonFields<'_>,
    now: i64,
) -> Result<lti_user::Model, DbErr> {
    use sea_orm::{ActiveValue::Set, sea_query::OnConflict};
    lti_user::Entity::insert(lti_user::ActiveModel {
        platform_id: Set(platform_id),
        sub: Set(person.sub.to_owned()),
        name: Set(person.name.map(str::to_owned)),
        given_name: Set(person.given_name.map(str::to_owned)),
        family_name: Set(person.family_name.map(str::to_owned)),
        email: Set(person.email.map(str::to_owned)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([lti_user::Column::PlatformId, lti_user::Column::Sub])
            .update_columns([
                lti_user::Column::Name,
                lti_user::Column::GivenName,
                lti_user::Column::FamilyName,
                lti_user::Column::Email,
                lti_user::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_with_returning(db)
    .await
}

/// Links a signed-in person to an LMS person (`to`), or unlinks them (`None`).
pub async fn set_link(
    db: &impl ConnectionTrait,
    user_id: i64,
    to: Option<i64>,
) -> Result<(), DbErr> {
    use sea_orm::sea_query::Expr;
    lti_user::Entity::update_many()
        .col_expr(lti_user::Column::LinkedTo, Expr::value(to))
        .filter(lti_user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The LMS course a person took part in last, with its deployment: (context, deployment).
pub async fn latest_course(
    db: &impl ConnectionTrait,
    user_id: i64,
) -> Result<Option<(i64, i64)>, DbErr> {
    use sea_orm::QueryOrder;
    let Some(membership) = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .order_by_desc(membership::Column::UpdatedAt)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(context::Entity::find_by_id(membership.context_id)
        .one(db)
        .await?
        .map(|c| (c.id, c.deployment_id)))
}
