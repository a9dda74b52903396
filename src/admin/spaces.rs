//! Network spaces as system administrators run them: opening a space for a role across course runs
//! ("Kanslichefer i Västerbotten"), inviting people from any municipality and LMS, and naming its
//! moderators. Each change is audited. What members do inside a space is `learning::spaces`.
use entity::network_space;
use sea_orm::DatabaseConnection;

use super::{access::Principal, directory::AdminError};
use crate::store::{
    self, StoreError,
    spaces::{NewMember, role, status},
};

/// The longest space name, in characters.
pub const MAX_NAME_CHARS: usize = 120;
/// The longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
/// The most people listed to invite.
const INVITE_LIST_LIMIT: u64 = 5000;

/// What is wrong with a new space, at its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SpaceProblem {
    #[error("a space needs a name of at most 120 characters")]
    Name,
    #[error("a space with this name exists")]
    NameTaken,
    #[error("the description is at most 2000 characters")]
    Description,
}

/// Why a space was not opened.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error(transparent)]
    Problem(SpaceProblem),
    #[error(transparent)]
    Admin(#[from] AdminError),
}

impl From<sea_orm::DbErr> for CreateError {
    fn from(err: sea_orm::DbErr) -> Self {
        CreateError::Admin(AdminError::Db(err))
    }
}

/// Opens a space.
pub async fn create(
    db: &DatabaseConnection,
    principal: &Principal,
    (name, description): (&str, &str),
) -> Result<network_space::Model, CreateError> {
    principal.require_system().map_err(AdminError::from)?;
    let (name, description) = (name.trim(), description.trim());
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(CreateError::Problem(SpaceProblem::Name));
    }
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(CreateError::Problem(SpaceProblem::Description));
    }
    let txn = store::begin_write(db).await?;
    let now = principal.now_unix();
    let space = match store::spaces::create(&txn, (name, description), &principal.actor, now).await
    {
        Ok(space) => space,
        Err(StoreError::Conflict(_)) => return Err(CreateError::Problem(SpaceProblem::NameTaken)),
        Err(StoreError::Db(err)) => return Err(err.into()),
    };
    principal
        .audit(
            &txn,
            "space.create",
            &format!("space:{}", space.id),
            None,
            serde_json::json!({ "name": space.name }),
        )
        .await?;
    txn.commit().await?;
    Ok(space)
}

/// A person in a space, as the administrator's list shows them.
pub struct MemberRow {
    pub person_id: i64,
    pub name: Option<String>,
    pub organisation: String,
    pub moderator: bool,
    pub invited: bool,
}

/// A space with its people.
pub struct SpaceOverview {
    pub space: network_space::Model,
    pub members: Vec<MemberRow>,
}

/// Every space with its people.
pub async fn list(
    db: &DatabaseConnection,
    principal: &Principal,
) -> Result<Vec<SpaceOverview>, AdminError> {
    principal.require_system()?;
    let mut spaces = Vec::new();
    for space in store::spaces::list(db).await? {
        let members = store::spaces::members(db, space.id).await?;
        let names = store::review::people(db, members.iter().map(|m| m.user_id).collect()).await?;
        spaces.push(SpaceOverview {
            members: members
                .into_iter()
                .map(|m| MemberRow {
                    person_id: m.user_id,
                    name: names.get(&m.user_id).and_then(|p| p.name.clone()),
                    moderator: m.role == role::MODERATOR,
                    invited: m.status == status::INVITED,
                    organisation: m.organisation,
                })
                .collect(),
            space,
        });
    }
    Ok(spaces)
}

/// Someone an administrator may invite: (person id, name, organisation).
pub type Invitee = (i64, Option<String>, Option<String>);

/// The people who take part in an LMS course, with their organisation, to invite from.
pub async fn people_to_invite(
    db: &DatabaseConnection,
    principal: &Principal,
) -> Result<Vec<Invitee>, AdminError> {
    principal.require_system()?;
    Ok(store::spaces::people_to_invite(db, INVITE_LIST_LIMIT)
        .await?
        .into_iter()
        .map(|(person, organisation)| (person.id, person.name, organisation))
        .collect())
}

/// Invites a person to a space, as a member or a moderator. They see the invitation on their
/// course overview and accept it there. Inviting someone who is in the space already changes
/// nothing, except that it can make them a moderator. `false` when nothing changed.
pub async fn invite(
    db: &DatabaseConnection,
    principal: &Principal,
    (space_id, person_id): (i64, i64),
    moderator: bool,
) -> Result<bool, AdminError> {
    principal.require_system()?;
    let space = store::spaces::find(db, space_id)
        .await?
        .ok_or(AdminError::NotFound("space"))?;
    let person = store::review::people(db, vec![person_id])
        .await?
        .remove(&person_id)
        .ok_or(AdminError::NotFound("person"))?;
    if store::people::memberships(db, person.id, None)
        .await?
        .is_empty()
    {
        return Err(AdminError::NotFound("person"));
    }
    let organisation = crate::learning::contact::current_organisation(db, person.id).await?;
    let txn = store::begin_write(db).await?;
    let new = NewMember {
        space_id: space.id,
        user_id: person.id,
        organisation: organisation.as_deref().unwrap_or_default(),
        role: if moderator {
            role::MODERATOR
        } else {
            role::MEMBER
        },
        status: status::INVITED,
        added_by: &principal.actor,
        now: principal.now_unix(),
    };
    let changed = store::spaces::add(&txn, new).await?;
    if changed {
        principal
            .audit(
                &txn,
                "space.invite",
                &format!("person:{}", person.id),
                organisation.as_deref(),
                serde_json::json!({ "space": space.id, "moderator": moderator }),
            )
            .await?;
    }
    txn.commit().await?;
    Ok(changed)
}
