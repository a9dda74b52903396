//! What the admin home shows, as far as the principal may see it: registrations (system
//! administrators only), deployments, organisations with their contact persons, cohorts, and the
//! latest registration invitations with where each stands.
use entity::{deployment, organisation, platform, registration_invitation};
use sea_orm::DatabaseConnection;

use super::{
    access::Principal,
    directory::{self, AdminError, LmsCourseSummary},
    platforms,
    registrations::{self, InvitationState},
};

/// How many invitations the home lists.
const INVITATIONS_SHOWN: usize = 20;

/// An organisation and its contact persons: (subject, name).
pub struct OrganisationEntry {
    /// The organisation.
    pub organisation: organisation::Model,
    /// Its contact persons.
    pub contacts: Vec<(String, Option<String>)>,
}

/// Everything on the admin home.
pub struct AdminOverview {
    /// Whether the principal is a system administrator (who sees and names registrations).
    pub system: bool,
    /// Registrations; empty for an organisation administrator.
    pub registrations: Vec<platform::Model>,
    /// Deployments with their registration.
    pub deployments: Vec<(deployment::Model, Option<platform::Model>)>,
    /// Organisations the principal may see.
    pub organisations: Vec<OrganisationEntry>,
    /// Cohorts the principal may see.
    pub cohorts: Vec<LmsCourseSummary>,
    /// The latest invitations and where each stands now.
    pub invitations: Vec<(registration_invitation::Model, InvitationState)>,
}

/// Reads the admin home for `principal`.
pub async fn admin_overview(
    db: &DatabaseConnection,
    principal: &Principal,
) -> Result<AdminOverview, AdminError> {
    let system = principal.organisation.is_none();
    let registrations = if system {
        platforms::registrations(db, principal).await?
    } else {
        Vec::new()
    };
    let mut organisations = Vec::new();
    for organisation in directory::organisations(db, principal).await? {
        let contacts = directory::contact_persons(db, principal, &organisation.name).await?;
        organisations.push(OrganisationEntry {
            organisation,
            contacts,
        });
    }
    let now = principal.now_unix();
    Ok(AdminOverview {
        system,
        registrations,
        deployments: directory::deployments(db, principal).await?,
        organisations,
        cohorts: directory::cohorts(db, principal).await?,
        invitations: registrations::invitations(db, principal)
            .await?
            .into_iter()
            .take(INVITATIONS_SHOWN)
            .map(|invitation| {
                let state = InvitationState::of(&invitation, now);
                (invitation, state)
            })
            .collect(),
    })
}

/// A score delivery and who and where it is for.
pub struct DeliveryEntry {
    /// The outbox row.
    pub delivery: entity::score_outbox::Model,
    /// The person (absent when erased).
    pub person: Option<entity::lti_user::Model>,
    /// The cohort's title.
    pub cohort: Option<String>,
}

/// Scores the LMS refused for good, and scores still on their way, in the principal's cohorts.
pub struct DeliveriesOverview {
    /// Refused for good (not gradable), newest first.
    pub refused: Vec<DeliveryEntry>,
    /// Waiting to be sent (or sent again), newest first.
    pub pending: Vec<DeliveryEntry>,
}

/// How many deliveries of each kind the page lists.
const DELIVERIES_SHOWN: u64 = 200;

/// Reads the deliveries page for `principal`.
pub async fn deliveries_overview(
    db: &DatabaseConnection,
    principal: &Principal,
) -> Result<DeliveriesOverview, AdminError> {
    let cohorts = directory::cohorts(db, principal).await?;
    let mut lists = Vec::new();
    for state in [
        directory::delivery_state::NOT_GRADABLE,
        directory::delivery_state::PENDING,
    ] {
        let (rows, people) =
            directory::deliveries(db, principal, Some(state), DELIVERIES_SHOWN).await?;
        lists.push(
            rows.into_iter()
                .map(|delivery| DeliveryEntry {
                    person: people.get(&delivery.user_id).cloned(),
                    cohort: cohorts
                        .iter()
                        .find(|c| c.context.id == delivery.context_id)
                        .and_then(|c| c.context.title.clone()),
                    delivery,
                })
                .collect::<Vec<_>>(),
        );
    }
    let pending = lists.pop().unwrap_or_default();
    let refused = lists.pop().unwrap_or_default();
    Ok(DeliveriesOverview { refused, pending })
}
