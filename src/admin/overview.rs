//! What the admin home shows, as far as the principal may see it: registrations (system
//! administrators only), deployments, organisations with their contact persons, cohorts, and the
//! latest registration invitations with where each stands.
use entity::{deployment, organisation, platform, registration_invitation};
use sea_orm::DatabaseConnection;

use super::{
    access::Principal,
    directory::{self, AdminError, CohortSummary},
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
    pub cohorts: Vec<CohortSummary>,
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
