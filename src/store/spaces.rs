//! Network spaces: the spaces, who is in them, their threads of posts and the posts' attachments,
//! and reports on posts (in `content_report`, kind `post`, scope `space:<id>`).
use std::collections::HashMap;

use entity::{network_space, space_attachment, space_member, space_post};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, sea_query::Expr, sea_query::OnConflict,
};

use super::StoreError;

/// A member's role.
pub mod role {
    pub const MEMBER: &str = "member";
    pub const MODERATOR: &str = "moderator";
}

/// A member's status.
pub mod status {
    /// Invited by an administrator; sees the invitation, not the space.
    pub const INVITED: &str = "invited";
    /// In the space.
    pub const MEMBER: &str = "member";
}

/// The report scope of a space.
pub fn scope(space_id: i64) -> String {
    format!("space:{space_id}")
}

/// Opens a space. A name that is taken is a conflict.
pub async fn create(
    db: &impl ConnectionTrait,
    (name, description): (&str, &str),
    created_by: &str,
    now: i64,
) -> Result<network_space::Model, StoreError> {
    network_space::Entity::insert(network_space::ActiveModel {
        name: Set(name.to_owned()),
        description: Set(description.to_owned()),
        created_by: Set(created_by.to_owned()),
        created_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
    .map_err(|err| StoreError::from_insert(err, "a space with this name"))
}

/// Every space, by name.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<network_space::Model>, DbErr> {
    network_space::Entity::find()
        .order_by_asc(network_space::Column::Name)
        .all(db)
        .await
}

/// One space.
pub async fn find(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<network_space::Model>, DbErr> {
    network_space::Entity::find_by_id(id).one(db).await
}

/// Everyone in a space (invited too), oldest first.
pub async fn members(
    db: &impl ConnectionTrait,
    space_id: i64,
) -> Result<Vec<space_member::Model>, DbErr> {
    space_member::Entity::find()
        .filter(space_member::Column::SpaceId.eq(space_id))
        .order_by_asc(space_member::Column::Id)
        .all(db)
        .await
}

/// Whether and how a person is in a space.
pub async fn member(
    db: &impl ConnectionTrait,
    space_id: i64,
    user_id: i64,
) -> Result<Option<space_member::Model>, DbErr> {
    space_member::Entity::find()
        .filter(space_member::Column::SpaceId.eq(space_id))
        .filter(space_member::Column::UserId.eq(user_id))
        .one(db)
        .await
}

/// The spaces a person is in or invited to, with their place in each.
pub async fn of_person(
    db: &impl ConnectionTrait,
    user_id: i64,
) -> Result<Vec<(space_member::Model, network_space::Model)>, DbErr> {
    static PLACES: super::prepared::KeptSql = super::prepared::KeptSql::new();
    let places: Vec<space_member::Model> = PLACES
        .all(
            db,
            |backend| {
                use sea_orm::QueryTrait;
                space_member::Entity::find()
                    .filter(space_member::Column::UserId.eq(user_id))
                    .order_by_asc(space_member::Column::SpaceId)
                    .build(backend)
            },
            vec![user_id.into()],
        )
        .await?;
    // Most people are in no space: their course overview asks no second question.
    if places.is_empty() {
        return Ok(Vec::new());
    }
    let spaces: HashMap<i64, network_space::Model> = network_space::Entity::find()
        .filter(network_space::Column::Id.is_in(places.iter().map(|p| p.space_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|space| (space.id, space))
        .collect();
    Ok(places
        .into_iter()
        .filter_map(|place| {
            let space = spaces.get(&place.space_id)?.clone();
            Some((place, space))
        })
        .collect())
}

/// A person to add to a space.
pub struct NewMember<'a> {
    pub space_id: i64,
    pub user_id: i64,
    pub organisation: &'a str,
    pub role: &'a str,
    pub status: &'a str,
    pub added_by: &'a str,
    pub now: i64,
}

/// Adds a person to a space. Someone in it already keeps their place, except that a grant makes an
/// invitation a membership and a moderator stays one. `true` when something changed.
pub async fn add(db: &impl ConnectionTrait, new: NewMember<'_>) -> Result<bool, DbErr> {
    if let Some(place) = member(db, new.space_id, new.user_id).await? {
        let status = if new.status == status::MEMBER {
            status::MEMBER
        } else {
            place.status.as_str()
        };
        let role = if new.role == role::MODERATOR {
            role::MODERATOR
        } else {
            place.role.as_str()
        };
        if status == place.status && role == place.role {
            return Ok(false);
        }
        space_member::Entity::update_many()
            .col_expr(space_member::Column::Status, Expr::value(status))
            .col_expr(space_member::Column::Role, Expr::value(role))
            .filter(space_member::Column::Id.eq(place.id))
            .exec(db)
            .await?;
        return Ok(true);
    }
    let inserted = space_member::Entity::insert(space_member::ActiveModel {
        space_id: Set(new.space_id),
        user_id: Set(new.user_id),
        organisation: Set(new.organisation.to_owned()),
        role: Set(new.role.to_owned()),
        status: Set(new.status.to_owned()),
        added_by: Set(new.added_by.to_owned()),
        added_at: Set(new.now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([space_member::Column::SpaceId, space_member::Column::UserId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(inserted == 1)
}

/// An invited person accepts. `false` when there was no invitation.
pub async fn accept(db: &impl ConnectionTrait, space_id: i64, user_id: i64) -> Result<bool, DbErr> {
    let changed = space_member::Entity::update_many()
        .col_expr(space_member::Column::Status, Expr::value(status::MEMBER))
        .filter(space_member::Column::SpaceId.eq(space_id))
        .filter(space_member::Column::UserId.eq(user_id))
        .filter(space_member::Column::Status.eq(status::INVITED))
        .exec(db)
        .await?;
    Ok(changed.rows_affected == 1)
}

/// A person leaves a space (or declines its invitation). `false` when they were not in it.
pub async fn leave(db: &impl ConnectionTrait, space_id: i64, user_id: i64) -> Result<bool, DbErr> {
    let removed = space_member::Entity::delete_many()
        .filter(space_member::Column::SpaceId.eq(space_id))
        .filter(space_member::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(removed.rows_affected == 1)
}

/// A post to add: an opening post with a title, or a reply in `thread_id`.
pub struct NewPost<'a> {
    pub space_id: i64,
    pub thread_id: Option<i64>,
    pub title: Option<&'a str>,
    pub user_id: i64,
    pub author_name: Option<&'a str>,
    pub organisation: &'a str,
    pub body: &'a str,
    pub now: i64,
}

/// Adds a post; a reply moves its thread to the top of the space.
pub async fn add_post(
    db: &impl ConnectionTrait,
    post: NewPost<'_>,
) -> Result<space_post::Model, DbErr> {
    let row = space_post::Entity::insert(space_post::ActiveModel {
        space_id: Set(post.space_id),
        thread_id: Set(post.thread_id),
        title: Set(post.title.map(str::to_owned)),
        user_id: Set(post.user_id),
        author_name: Set(post.author_name.map(str::to_owned)),
        organisation: Set(post.organisation.to_owned()),
        body: Set(post.body.to_owned()),
        created_at: Set(post.now),
        last_activity_at: Set(post.now),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await?;
    if let Some(thread) = post.thread_id {
        space_post::Entity::update_many()
            .col_expr(space_post::Column::LastActivityAt, Expr::value(post.now))
            .filter(space_post::Column::Id.eq(thread))
            .exec(db)
            .await?;
    }
    Ok(row)
}

/// One post.
pub async fn post(db: &impl ConnectionTrait, id: i64) -> Result<Option<space_post::Model>, DbErr> {
    space_post::Entity::find_by_id(id).one(db).await
}

/// A space's threads (their opening posts), the most recently active first, each with its number
/// of replies.
pub async fn threads(
    db: &impl ConnectionTrait,
    space_id: i64,
) -> Result<Vec<(space_post::Model, u64)>, DbErr> {
    let openings = space_post::Entity::find()
        .filter(space_post::Column::SpaceId.eq(space_id))
        .filter(space_post::Column::ThreadId.is_null())
        .order_by_desc(space_post::Column::LastActivityAt)
        .order_by_desc(space_post::Column::Id)
        .all(db)
        .await?;
    let replies: HashMap<i64, i64> = space_post::Entity::find()
        .select_only()
        .column(space_post::Column::ThreadId)
        .column_as(space_post::Column::Id.count(), "replies")
        .filter(space_post::Column::SpaceId.eq(space_id))
        .filter(space_post::Column::ThreadId.is_not_null())
        .filter(space_post::Column::HiddenAt.is_null())
        .group_by(space_post::Column::ThreadId)
        .into_tuple::<(Option<i64>, i64)>()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(thread, n)| Some((thread?, n)))
        .collect();
    Ok(openings
        .into_iter()
        .map(|opening| {
            let n = replies.get(&opening.id).copied().unwrap_or(0);
            (opening, u64::try_from(n).unwrap_or(0))
        })
        .collect())
}

/// A thread's replies, oldest first.
pub async fn replies(
    db: &impl ConnectionTrait,
    thread_id: i64,
) -> Result<Vec<space_post::Model>, DbErr> {
    space_post::Entity::find()
        .filter(space_post::Column::ThreadId.eq(thread_id))
        .order_by_asc(space_post::Column::Id)
        .all(db)
        .await
}

/// How many posts a person wrote since `since` (Unix seconds), in every space.
pub async fn posts_since(
    db: &impl ConnectionTrait,
    user_id: i64,
    since: i64,
) -> Result<u64, DbErr> {
    space_post::Entity::find()
        .filter(space_post::Column::UserId.eq(user_id))
        .filter(space_post::Column::CreatedAt.gte(since))
        .count(db)
        .await
}

/// The people who wrote in a thread (its opening post and replies), once each.
pub async fn thread_authors(db: &impl ConnectionTrait, thread_id: i64) -> Result<Vec<i64>, DbErr> {
    let mut authors: Vec<i64> = space_post::Entity::find()
        .select_only()
        .column(space_post::Column::UserId)
        .filter(
            Condition::any()
                .add(space_post::Column::Id.eq(thread_id))
                .add(space_post::Column::ThreadId.eq(thread_id)),
        )
        .into_tuple::<i64>()
        .all(db)
        .await?;
    authors.sort_unstable();
    authors.dedup();
    authors.retain(|id| *id != 0);
    Ok(authors)
}

/// An attachment to store.
pub struct NewAttachment<'a> {
    pub post_id: i64,
    pub space_id: i64,
    pub user_id: i64,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub bytes: Vec<u8>,
    pub now: i64,
}

/// Stores an attachment.
pub async fn add_attachment(
    db: &impl ConnectionTrait,
    file: NewAttachment<'_>,
) -> Result<(), DbErr> {
    let size = i64::try_from(file.bytes.len()).unwrap_or(i64::MAX);
    space_attachment::Entity::insert(space_attachment::ActiveModel {
        post_id: Set(file.post_id),
        space_id: Set(file.space_id),
        user_id: Set(file.user_id),
        file_name: Set(file.file_name.to_owned()),
        content_type: Set(file.content_type.to_owned()),
        size: Set(size),
        bytes: Set(file.bytes),
        created_at: Set(file.now),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// An attachment without its bytes, for a list.
#[derive(Debug, Clone, sea_orm::FromQueryResult)]
pub struct AttachmentInfo {
    pub id: i64,
    pub post_id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
}

/// The attachments of some posts, without their bytes.
pub async fn attachments_of(
    db: &impl ConnectionTrait,
    post_ids: &[i64],
) -> Result<Vec<AttachmentInfo>, DbErr> {
    space_attachment::Entity::find()
        .select_only()
        .columns([
            space_attachment::Column::Id,
            space_attachment::Column::PostId,
            space_attachment::Column::FileName,
            space_attachment::Column::ContentType,
            space_attachment::Column::Size,
        ])
        .filter(space_attachment::Column::PostId.is_in(post_ids.iter().copied()))
        .order_by_asc(space_attachment::Column::Id)
        .into_model::<AttachmentInfo>()
        .all(db)
        .await
}

/// One attachment with its bytes.
pub async fn attachment(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<space_attachment::Model>, DbErr> {
    space_attachment::Entity::find_by_id(id).one(db).await
}

/// How many bytes of attachments a person stored, in every space.
pub async fn attachment_bytes_of(db: &impl ConnectionTrait, user_id: i64) -> Result<i64, DbErr> {
    // Summed here: SUM of a bigint is numeric on PostgreSQL and an integer on SQLite.
    let sizes: Vec<i64> = space_attachment::Entity::find()
        .select_only()
        .column(space_attachment::Column::Size)
        .filter(space_attachment::Column::UserId.eq(user_id))
        .into_tuple::<i64>()
        .all(db)
        .await?;
    Ok(sizes.into_iter().fold(0i64, i64::saturating_add))
}

/// Records a person's report of a post, once per person and post. `true` when it is new.
pub async fn report(
    db: &impl ConnectionTrait,
    post: &space_post::Model,
    reported_by: i64,
    reason: &str,
    now: i64,
) -> Result<bool, DbErr> {
    let at = (("post", post.id), scope(post.space_id));
    super::exchange::report_target(db, (at.0, &at.1), reported_by, reason, now).await
}

/// How many reports each post of a space has.
pub async fn report_counts(
    db: &impl ConnectionTrait,
    space_id: i64,
) -> Result<HashMap<i64, usize>, DbErr> {
    let mut counts = HashMap::new();
    for report in entity::content_report::Entity::find()
        .filter(entity::content_report::Column::Scope.eq(scope(space_id)))
        .filter(entity::content_report::Column::Kind.eq("post"))
        .all(db)
        .await?
    {
        *counts.entry(report.target_id).or_insert(0) += 1;
    }
    Ok(counts)
}

/// Hides a post from the members, with who and why.
pub async fn hide(
    db: &impl ConnectionTrait,
    post_id: i64,
    by: i64,
    reason: &str,
    now: i64,
) -> Result<(), DbErr> {
    space_post::Entity::update_many()
        .col_expr(space_post::Column::HiddenAt, Expr::value(now))
        .col_expr(space_post::Column::HiddenBy, Expr::value(by))
        .col_expr(space_post::Column::HiddenReason, Expr::value(reason))
        .filter(space_post::Column::Id.eq(post_id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Everything a person wrote in spaces, oldest first, for their export.
pub async fn posts_of_person(
    db: &impl ConnectionTrait,
    user_id: i64,
) -> Result<Vec<space_post::Model>, DbErr> {
    space_post::Entity::find()
        .filter(space_post::Column::UserId.eq(user_id))
        .order_by_asc(space_post::Column::Id)
        .all(db)
        .await
}

/// What erasing a person did in spaces.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ErasedPosts {
    /// Posts deleted.
    pub deleted: u64,
    /// Posts kept in place (others replied to them), with no text, name or files left.
    pub emptied: u64,
}

/// Erases a person from every space: their places, their reports, their attachments, and their
/// posts. With `delete`, a post is deleted unless it opens a thread others replied in (their
/// replies would lose what they answer); every post that stays is emptied of its text and name and
/// no longer names its writer.
pub async fn erase_person(
    db: &impl ConnectionTrait,
    user_id: i64,
    delete: bool,
) -> Result<ErasedPosts, DbErr> {
    let mut erased = ErasedPosts::default();
    space_member::Entity::delete_many()
        .filter(space_member::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    space_attachment::Entity::delete_many()
        .filter(space_attachment::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    let posts = posts_of_person(db, user_id).await?;
    let mut keep = Vec::new();
    let mut remove = Vec::new();
    for post in posts {
        let answered = post.thread_id.is_none()
            && space_post::Entity::find()
                .filter(space_post::Column::ThreadId.eq(post.id))
                .filter(space_post::Column::UserId.ne(user_id))
                .count(db)
                .await?
                > 0;
        if delete && !answered {
            remove.push(post.id);
        } else {
            keep.push(post.id);
        }
    }
    if !remove.is_empty() {
        // A deleted opening post takes its replies (the person's own, as none of others' are there).
        erased.deleted = space_post::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(space_post::Column::Id.is_in(remove.clone()))
                    .add(space_post::Column::ThreadId.is_in(remove)),
            )
            .exec(db)
            .await?
            .rows_affected;
    }
    if !keep.is_empty() {
        erased.emptied = space_post::Entity::update_many()
            .col_expr(space_post::Column::Body, Expr::value(""))
            .col_expr(
                space_post::Column::Title,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                space_post::Column::AuthorName,
                Expr::value(Option::<String>::None),
            )
            .col_expr(space_post::Column::UserId, Expr::value(0i64))
            .filter(space_post::Column::Id.is_in(keep))
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(erased)
}

/// The people an administrator may invite: everyone who takes part in an LMS course (or signed
/// in to one), at most `limit`, each with their recorded organisation or else their first LMS
/// course's deployment's.
pub async fn people_to_invite(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<(entity::lti_user::Model, Option<String>)>, DbErr> {
    use entity::{context, deployment, lti_user, membership};
    let memberships = membership::Entity::find()
        .order_by_asc(membership::Column::Id)
        .all(db)
        .await?;
    let mut first_context: HashMap<i64, i64> = HashMap::new();
    for m in &memberships {
        first_context.entry(m.user_id).or_insert(m.context_id);
    }
    let people = lti_user::Entity::find()
        .filter(lti_user::Column::Id.is_in(first_context.keys().copied()))
        .order_by_asc(lti_user::Column::Name)
        .order_by_asc(lti_user::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let contexts: HashMap<i64, i64> = context::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.deployment_id))
        .collect();
    let deployments: HashMap<i64, Option<String>> = deployment::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d.organisation))
        .collect();
    let recorded = super::organisations::of_people(db, people.iter().map(|p| p.id)).await?;
    Ok(people
        .into_iter()
        .map(|person| {
            let organisation = recorded
                .get(&person.id)
                .map(|row| row.organisation.clone())
                .or_else(|| {
                    let context = first_context.get(&person.id)?;
                    deployments.get(contexts.get(context)?)?.clone()
                });
            (person, organisation)
        })
        .collect())
}
