//! `cohort …`: course runs for a region, the LMS courses linked to them, their course leaders,
//! and where a person belongs.
use clap::Subcommand;

use super::{CliError, non_empty, refused};
use crate::{
    admin::{
        access::Principal,
        cohorts::{self, CohortRequest, LmsCourse},
    },
    config::Config,
    learning::context::CourseCache,
    lti::clock::Clock,
    startup,
};

/// `cohort …`
#[derive(Debug, Subcommand)]
pub enum CohortCommand {
    /// Create a cohort (one course run); prints its id and the code that links LMS courses.
    Create {
        /// Its name, as course leaders and participants see it.
        #[arg(long)]
        name: String,
        /// The course version: `1.2`, `slug@1.2`, or `#7` (row id).
        #[arg(long)]
        course_version: String,
        /// The first day, YYYY-MM-DD.
        #[arg(long)]
        starts: Option<String>,
        /// The last day, YYYY-MM-DD.
        #[arg(long)]
        ends: Option<String>,
        /// An organisation taking part (repeat for each).
        #[arg(long = "organisation")]
        organisations: Vec<String>,
    },
    /// Every cohort with its organisations, LMS courses and participants.
    List,
    /// Link an LMS course to a cohort, before or after its first launch.
    Link {
        /// The cohort's id.
        #[arg(long)]
        cohort: i64,
        /// The platform's issuer.
        #[arg(long)]
        issuer: String,
        /// The tool's client id at the platform.
        #[arg(long)]
        client_id: String,
        /// The LMS course's LTI context id.
        #[arg(long)]
        context_id: String,
    },
    /// Add an organisation to a cohort.
    AddOrganisation {
        /// The cohort's id.
        #[arg(long)]
        cohort: i64,
        /// The organisation's name.
        #[arg(long)]
        organisation: String,
    },
    /// Make a person a course leader of a cohort.
    AddLeader {
        /// The cohort's id.
        #[arg(long)]
        cohort: i64,
        /// The person's id (as `person export` and the admin pages show it).
        #[arg(long)]
        person: i64,
    },
    /// Invite people of an organisation to a cohort without an LMS; prints the invitation URL once.
    Invite {
        /// The cohort's id.
        #[arg(long)]
        cohort: i64,
        /// The organisation they belong to (one taking part in the cohort).
        #[arg(long)]
        organisation: String,
        /// How many people may use it.
        #[arg(long, default_value_t = 1)]
        uses: i32,
        /// When it expires: `14d`, `12h` or a date (`2027-06-30`); at most 90 days.
        #[arg(long, default_value = "14d")]
        expires: String,
        /// It makes its users course leaders of the cohort, not participants.
        #[arg(long)]
        leader: bool,
    },
    /// Place a person in an organisation for good (it wins over what an LMS sends).
    Place {
        /// The person's id.
        #[arg(long)]
        person: i64,
        /// The organisation's name.
        #[arg(long)]
        organisation: String,
    },
}

/// Runs a `cohort` command.
pub async fn cohort(config: Config, command: CohortCommand) -> Result<(), CliError> {
    let db = startup::open_database(&config.database_url).await?;
    let operator = Principal::cli();
    match command {
        CohortCommand::Create {
            name,
            course_version,
            starts,
            ends,
            organisations,
        } => {
            let request = CohortRequest {
                name: non_empty("name", &name)?,
                course_version: non_empty("course-version", &course_version)?,
                starts_on: starts,
                ends_on: ends,
                organisations,
            };
            let cohort = cohorts::create(&db, &operator, request)
                .await
                .map_err(|err| refused(err.into()))?;
            println!("cohort {} created, code {}", cohort.id, cohort.code);
        }
        CohortCommand::List => {
            for overview in cohorts::list(&db, &operator).await.map_err(refused)? {
                let c = &overview.cohort;
                println!(
                    "{}\t{}\t{}\t{} – {}\t{} LMS courses\t{} participants\t{}",
                    c.id,
                    c.code,
                    c.name,
                    c.starts_on.as_deref().unwrap_or("?"),
                    c.ends_on.as_deref().unwrap_or("?"),
                    overview.lms_courses.len(),
                    overview.participants,
                    overview.organisations.join(", ")
                );
            }
        }
        CohortCommand::Link {
            cohort,
            issuer,
            client_id,
            context_id,
        } => {
            let courses = CourseCache::new(Clock::default());
            let course = LmsCourse::Lti {
                issuer: non_empty("issuer", &issuer)?,
                client_id: non_empty("client-id", &client_id)?,
                context_id: non_empty("context-id", &context_id)?,
            };
            cohorts::link(&db, &courses, &operator, cohort, course)
                .await
                .map_err(refused)?;
            println!("LMS course {context_id} of {issuer} is linked to cohort {cohort}");
        }
        CohortCommand::AddOrganisation {
            cohort,
            organisation,
        } => {
            cohorts::add_organisation(&db, &operator, cohort, &organisation)
                .await
                .map_err(refused)?;
            println!("{} takes part in cohort {cohort}", organisation.trim());
        }
        CohortCommand::AddLeader { cohort, person } => {
            cohorts::add_leader(&db, &operator, cohort, person)
                .await
                .map_err(refused)?;
            println!("person {person} is a course leader of cohort {cohort}");
        }
        CohortCommand::Invite {
            cohort,
            organisation,
            uses,
            expires,
            leader,
        } => {
            let now = operator.now_unix();
            let expires_at =
                crate::admin::tokens::parse_expiry(&expires, now).ok_or_else(|| {
                    CliError::Usage(
                        "--expires must be days (14d), hours (12h) or a future date (2027-06-30)"
                            .into(),
                    )
                })?;
            let base = config.public_base(config.bind)?;
            let role = if leader {
                crate::admin::signin::ROLE_LEADER
            } else {
                crate::admin::signin::ROLE_PARTICIPANT
            };
            let request = crate::admin::signin::InvitationRequest {
                cohort_id: cohort,
                organisation: organisation.trim(),
                role,
                uses,
                expires_at,
            };
            let invitation = crate::admin::signin::invite(&db, &operator, &base, request)
                .await
                .map_err(refused)?;
            println!(
                "invitation #{} to cohort {cohort} for {} ({role}, {uses} uses, until {}); shown once:",
                invitation.row.id,
                invitation.row.organisation,
                crate::i18n::time::iso8601_utc_ms(expires_at * 1000)
            );
            println!("{}", invitation.url);
        }
        CohortCommand::Place {
            person,
            organisation,
        } => {
            cohorts::place_person(&db, &operator, person, organisation.trim())
                .await
                .map_err(refused)?;
            println!("person {person} belongs to {}", organisation.trim());
        }
    }
    Ok(())
}
