//! What a successful launch leaves behind: the person, the context, the resource link and the
//! membership, with only the claims the service needs.
use entity::{context, lti_user, membership, resource_link};
use sea_orm::{
    ActiveValue::Set,
    ConnectionTrait, DbErr, EntityTrait,
    sea_query::{Expr, OnConflict},
};

/// The person as the platform sent them.
#[derive(Debug, Clone)]
pub struct Person {
    /// `sub`.
    pub sub: String,
    /// Full name.
    pub name: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Email, only when the operator chose to store it.
    pub email: Option<String>,
}

/// One launch to record.
#[derive(Debug, Clone)]
pub struct LaunchRecord {
    /// Registration row id.
    pub platform_id: i64,
    /// Deployment row id.
    pub deployment_id: i64,
    /// The person.
    pub person: Person,
    /// The context, when the launch has one.
    pub context: Option<ContextRecord>,
    /// The resource link, when the launch has one.
    pub resource_link: Option<ResourceLinkRecord>,
    /// The roles as sent, space separated.
    pub lti_roles: String,
    /// The tool's role.
    pub role: &'static str,
    /// Now.
    pub now: i64,
}

/// The context claim as stored.
#[derive(Debug, Clone)]
pub struct ContextRecord {
    /// `context.id`.
    pub id: String,
    /// `context.label`.
    pub label: Option<String>,
    /// `context.title`.
    pub title: Option<String>,
    /// The NRPS membership URL, when the launch carried one.
    pub memberships_url: Option<String>,
    /// The AGS line item container, when the launch carried one with the score scope.
    pub ags_lineitems_url: Option<String>,
    /// The AGS scopes granted, space separated.
    pub ags_scopes: Option<String>,
}

/// The resource link claim as stored.
#[derive(Debug, Clone)]
pub struct ResourceLinkRecord {
    /// `resource_link.id`.
    pub id: String,
    /// `resource_link.title`.
    pub title: Option<String>,
    /// The AGS `lineitem` the platform made for this link.
    pub ags_lineitem_url: Option<String>,
    /// The module the link opens (custom `module`).
    pub module_slug: Option<String>,
}

/// Row ids of what was recorded.
#[derive(Debug, Clone, Copy)]
pub struct Recorded {
    /// `lti_user.id`.
    pub user_id: i64,
    /// `context.id`.
    pub context_id: Option<i64>,
    /// `resource_link.id`.
    pub resource_link_id: Option<i64>,
    /// The cohort the context is linked to.
    pub cohort_id: Option<i64>,
}

/// Upserts the person, context, resource link and membership. Run inside a transaction.
pub async fn record(db: &impl ConnectionTrait, launch: LaunchRecord) -> Result<Recorded, DbErr> {
    let person = launch.person;
    let user = super::people::upsert_person(
        db,
        launch.platform_id,
        super::people::PersonFields {
            sub: &person.sub,
            name: person.name.as_deref(),
            given_name: person.given_name.as_deref(),
            family_name: person.family_name.as_deref(),
            email: person.email.as_deref(),
        },
        launch.now,
    )
    .await?;

    let (context_id, cohort_id) = match launch.context {
        None => (None, None),
        Some(ContextRecord {
            id: lti_context_id,
            label,
            title,
            memberships_url,
            ags_lineitems_url,
            ags_scopes,
        }) => {
            let row = context::Entity::insert(context::ActiveModel {
                deployment_id: Set(launch.deployment_id),
                lti_context_id: Set(lti_context_id),
                label: Set(label),
                title: Set(title),
                created_at: Set(launch.now),
                updated_at: Set(launch.now),
                memberships_url: Set(memberships_url),
                roster_synced_at: Set(None),
                ags_lineitems_url: Set(ags_lineitems_url),
                ags_scopes: Set(ags_scopes),
                ..Default::default()
            })
            .on_conflict(
                OnConflict::columns([context::Column::DeploymentId, context::Column::LtiContextId])
                    .update_columns([
                        context::Column::Label,
                        context::Column::Title,
                        context::Column::UpdatedAt,
                        context::Column::MembershipsUrl,
                    ])
                    // A placement without grading (an ungraded link, a launch that leaves the
                    // claim out) does not switch grading off for the whole LMS course.
                    .value(
                        context::Column::AgsLineitemsUrl,
                        Expr::cust(
                            "COALESCE(excluded.ags_lineitems_url, context.ags_lineitems_url)",
                        ),
                    )
                    .value(
                        context::Column::AgsScopes,
                        Expr::cust("COALESCE(excluded.ags_scopes, context.ags_scopes)"),
                    )
                    .to_owned(),
            )
            .exec_with_returning(db)
            .await?;
            // A course an administrator linked before anyone launched it joins at its first launch.
            let cohort_id = match row.cohort_id {
                Some(cohort) => Some(cohort),
                None if row.created_at == launch.now => {
                    link_if_linked_before_launch(db, launch.platform_id, &row).await?
                }
                None => None,
            };
            (Some(row.id), cohort_id)
        }
    };

    let resource_link_id = match launch.resource_link {
        None => None,
        Some(ResourceLinkRecord {
            id: lti_resource_link_id,
            title,
            ags_lineitem_url,
            module_slug,
        }) => {
            let row = resource_link::Entity::insert(resource_link::ActiveModel {
                deployment_id: Set(launch.deployment_id),
                context_id: Set(context_id),
                lti_resource_link_id: Set(lti_resource_link_id),
                title: Set(title),
                created_at: Set(launch.now),
                updated_at: Set(launch.now),
                ags_lineitem_url: Set(ags_lineitem_url),
                module_slug: Set(module_slug),
                ..Default::default()
            })
            .on_conflict(
                OnConflict::columns([
                    resource_link::Column::DeploymentId,
                    resource_link::Column::LtiResourceLinkId,
                ])
                .update_columns([
                    resource_link::Column::ContextId,
                    resource_link::Column::Title,
                    resource_link::Column::UpdatedAt,
                    resource_link::Column::AgsLineitemUrl,
                    resource_link::Column::ModuleSlug,
                ])
                .to_owned(),
            )
            .exec_with_returning(db)
            .await?;
            Some(row.id)
        }
    };

    if let Some(context_id) = context_id {
        membership::Entity::insert(membership::ActiveModel {
            context_id: Set(context_id),
            user_id: Set(user.id),
            lti_roles: Set(launch.lti_roles),
            role: Set(launch.role.to_owned()),
            updated_at: Set(launch.now),
            opened_at: Set(Some(launch.now)),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([membership::Column::ContextId, membership::Column::UserId])
                .update_columns([
                    membership::Column::LtiRoles,
                    membership::Column::Role,
                    membership::Column::UpdatedAt,
                    membership::Column::OpenedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    }

    Ok(Recorded {
        user_id: user.id,
        context_id,
        resource_link_id,
        cohort_id,
    })
}

async fn link_if_linked_before_launch(
    db: &impl ConnectionTrait,
    platform_id: i64,
    context: &context::Model,
) -> Result<Option<i64>, DbErr> {
    let Some(cohort) =
        super::cohorts::linked_before_launch(db, platform_id, &context.lti_context_id).await?
    else {
        return Ok(None);
    };
    Ok(super::cohorts::link_context(db, context.id, cohort)
        .await?
        .then_some(cohort))
}

/// Inserts people known only by their `sub` (the outbox benchmark's participants), skipping any
/// who exist, and returns (row id, sub) of every one of them.
pub async fn insert_people(
    db: &impl ConnectionTrait,
    platform_id: i64,
    subs: &[String],
    now: i64,
) -> Result<Vec<(i64, String)>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let mut people = Vec::with_capacity(subs.len());
    // Bounded statements: PostgreSQL allows 65,535 bind parameters per statement.
    for chunk in subs.chunks(1000) {
        lti_user::Entity::insert_many(chunk.iter().map(|sub| lti_user::ActiveModel {
            platform_id: Set(platform_id),
            sub: Set(sub.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }))
        .on_conflict(
            OnConflict::columns([lti_user::Column::PlatformId, lti_user::Column::Sub])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
        people.extend(
            lti_user::Entity::find()
                .filter(lti_user::Column::PlatformId.eq(platform_id))
                .filter(lti_user::Column::Sub.is_in(chunk.iter().cloned()))
                .all(db)
                .await?
                .into_iter()
                .map(|user| (user.id, user.sub)),
        );
    }
    Ok(people)
}
