//! Cohorts (course runs) as administrators make them: one run of a course for a region, the
//! organisations taking part, its course leaders, and the LMS courses of many platforms linked to
//! it. An LMS course linked to none stays a cohort of its own, as before cohorts existed.
use entity::{cohort, context, course_version, lti_user};
use sea_orm::DatabaseConnection;

use super::{
    access::{Principal, Scope},
    directory::AdminError,
};
use crate::{
    learning::{
        cohort::{self as join_rules, JoinError},
        context::CourseCache,
    },
    store::{self, StoreError},
};

/// What an administrator asks for in a new cohort.
#[derive(Debug, Clone, Default)]
pub struct CohortRequest {
    /// Its name, as course leaders and participants see it.
    pub name: String,
    /// The course version: `1.2`, `slug@1.2` when several courses have it, or `#7` (row id).
    pub course_version: String,
    /// First and last day, `YYYY-MM-DD`.
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    /// The organisations taking part (made when new).
    pub organisations: Vec<String>,
}

/// A cohort with what an administrator sees of it.
#[derive(Debug, Clone)]
pub struct CohortOverview {
    pub cohort: cohort::Model,
    /// The course version it runs.
    pub version: Option<course_version::Model>,
    /// The organisations taking part, by name.
    pub organisations: Vec<String>,
    /// The LMS courses linked to it.
    pub lms_courses: Vec<context::Model>,
    /// Participants across them.
    pub participants: i64,
    /// Its course leaders.
    pub leaders: Vec<lti_user::Model>,
}

/// Which LMS course to link.
#[derive(Debug, Clone)]
pub enum LmsCourse {
    /// A launched one, by row id.
    Context(i64),
    /// By its registration and LTI context id, launched or not yet.
    Lti {
        issuer: String,
        client_id: String,
        context_id: String,
    },
}

/// What is wrong with a cohort request, field by field (the page puts each next to its field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CohortProblem {
    /// The name is empty or over 200 characters.
    #[error("a cohort's name is 1 to 200 characters")]
    Name,
    /// No stored course version by that name.
    #[error("no stored course version by that name")]
    UnknownVersion,
    /// Several courses have that version.
    #[error("several courses have that version: name it as slug@version")]
    AmbiguousVersion,
    /// The first day is not a date.
    #[error("the start date must be YYYY-MM-DD")]
    StartDate,
    /// The last day is not a date.
    #[error("the end date must be YYYY-MM-DD")]
    EndDate,
    /// It ends before it starts.
    #[error("a cohort cannot end before it starts")]
    EndsBeforeStart,
    /// An organisation's name is empty or over 200 characters.
    #[error("an organisation's name is 1 to 200 characters")]
    OrganisationName,
}

/// Why a cohort was not created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// The request has these problems.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Problems(Vec<CohortProblem>),
    /// Not allowed, or storage.
    #[error(transparent)]
    Admin(#[from] AdminError),
}

impl From<sea_orm::DbErr> for CreateError {
    fn from(err: sea_orm::DbErr) -> Self {
        CreateError::Admin(AdminError::Db(err))
    }
}

impl From<CreateError> for AdminError {
    fn from(err: CreateError) -> Self {
        match err {
            CreateError::Admin(err) => err,
            problems => AdminError::Invalid(problems.to_string()),
        }
    }
}

/// Creates a cohort (system administrators). The code that links LMS courses is made here.
pub async fn create(
    db: &DatabaseConnection,
    principal: &Principal,
    request: CohortRequest,
) -> Result<cohort::Model, CreateError> {
    principal.require_system().map_err(AdminError::from)?;
    let mut problems = Vec::new();
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        problems.push(CohortProblem::Name);
    }
    let starts_on = date(request.starts_on.as_deref()).unwrap_or_else(|()| {
        problems.push(CohortProblem::StartDate);
        None
    });
    let ends_on = date(request.ends_on.as_deref()).unwrap_or_else(|()| {
        problems.push(CohortProblem::EndDate);
        None
    });
    if let (Some(starts), Some(ends)) = (&starts_on, &ends_on)
        && ends < starts
    {
        problems.push(CohortProblem::EndsBeforeStart);
    }
    let version = match course_version(db, &request.course_version).await {
        Ok(version) => Some(version),
        Err(VersionLookup::Problem(problem)) => {
            problems.push(problem);
            None
        }
        Err(VersionLookup::Db(err)) => return Err(AdminError::Db(err).into()),
    };
    let mut organisations = Vec::new();
    for organisation in &request.organisations {
        let organisation = organisation.trim();
        if organisation.is_empty() || organisation.chars().count() > 200 {
            problems.push(CohortProblem::OrganisationName);
            break;
        }
        if !organisations.iter().any(|o| o == organisation) {
            organisations.push(organisation.to_owned());
        }
    }
    let Some(version) = version.filter(|_| problems.is_empty()) else {
        return Err(CreateError::Problems(problems));
    };
    let now = principal.now_unix();
    let txn = store::begin_write(db).await?;
    // A code that is taken already (one in 10^11) is drawn again.
    let mut made = None;
    for _ in 0..5 {
        let new = store::cohorts::NewCohort {
            name: name.to_owned(),
            code: join_rules::new_code(),
            course_version_id: version.id,
            starts_on: starts_on.clone(),
            ends_on: ends_on.clone(),
            created_by: principal.actor.clone(),
        };
        match store::cohorts::insert(&txn, new, now).await {
            Ok(row) => {
                made = Some(row);
                break;
            }
            Err(StoreError::Conflict(_)) => continue,
            Err(StoreError::Db(err)) => return Err(AdminError::Db(err).into()),
        }
    }
    let cohort = made.ok_or_else(|| AdminError::Conflict("no free cohort code".into()))?;
    for organisation in &organisations {
        store::organisations::ensure(&txn, organisation, now).await?;
        store::cohorts::add_organisation(&txn, cohort.id, organisation).await?;
    }
    principal
        .audit(
            &txn,
            "cohort.create",
            &format!("cohort:{}", cohort.id),
            None,
            serde_json::json!({
                "name": cohort.name,
                "course_version": version.id,
                "organisations": organisations,
            }),
        )
        .await?;
    txn.commit().await?;
    Ok(cohort)
}

/// Every cohort with its organisations, LMS courses, participants and leaders (administrators;
/// one limited to an organisation sees the cohorts it takes part in).
pub async fn list(
    db: &DatabaseConnection,
    principal: &Principal,
) -> Result<Vec<CohortOverview>, AdminError> {
    principal.require(Scope::Admin)?;
    let counts = store::cohorts::participant_counts(db).await?;
    let mut overviews = Vec::new();
    for cohort in store::cohorts::list(db).await? {
        let organisations = store::cohorts::organisations(db, cohort.id).await?;
        if let Some(own) = &principal.organisation
            && !organisations.contains(own)
        {
            continue;
        }
        overviews.push(CohortOverview {
            version: store::course::get(db, cohort.course_version_id).await?,
            lms_courses: store::cohorts::contexts(db, cohort.id).await?,
            participants: counts.get(&cohort.id).copied().unwrap_or(0),
            leaders: store::cohorts::leaders(db, cohort.id).await?,
            organisations,
            cohort,
        });
    }
    Ok(overviews)
}

/// One cohort, as `list` shows it.
pub async fn get(
    db: &DatabaseConnection,
    principal: &Principal,
    cohort_id: i64,
) -> Result<CohortOverview, AdminError> {
    list(db, principal)
        .await?
        .into_iter()
        .find(|overview| overview.cohort.id == cohort_id)
        .ok_or(AdminError::NotFound("cohort"))
}

/// Links an LMS course to a cohort (system administrators). One not launched yet joins at its
/// first launch.
pub async fn link(
    db: &DatabaseConnection,
    courses: &CourseCache,
    principal: &Principal,
    cohort_id: i64,
    course: LmsCourse,
) -> Result<(), AdminError> {
    principal.require_system()?;
    let cohort = store::cohorts::get(db, cohort_id)
        .await?
        .ok_or(AdminError::NotFound("cohort"))?;
    let now = principal.now_unix();
    let target = match course {
        LmsCourse::Context(context_id) => {
            store::cohorts::context(db, context_id)
                .await?
                .ok_or(AdminError::NotFound("LMS course"))?;
            join_rules::join(db, courses, context_id, &cohort, now)
                .await
                .map_err(refused)?;
            format!("context:{context_id}")
        }
        LmsCourse::Lti {
            issuer,
            client_id,
            context_id,
        } => {
            let context_id = context_id.trim();
            if context_id.is_empty() || context_id.len() > 255 {
                return Err(AdminError::Invalid(
                    "the LTI context id must be 1 to 255 characters".into(),
                ));
            }
            let platform = store::platform::find(db, issuer.trim(), client_id.trim())
                .await?
                .ok_or(AdminError::NotFound("registration"))?;
            // Courses launched already join by the one rule (their course version checked)
            // before anything is written; one launched later joins at its first launch.
            let other = store::cohorts::linked_before_launch(db, platform.id, context_id).await?;
            if other.is_some_and(|other| other != cohort.id) {
                return Err(refused(JoinError::OtherCohort));
            }
            for context in store::cohorts::launched_contexts(db, platform.id, context_id).await? {
                join_rules::join(db, courses, context.id, &cohort, now)
                    .await
                    .map_err(refused)?;
            }
            let remembered = store::cohorts::remember_link(
                db,
                cohort.id,
                platform.id,
                context_id,
                &principal.actor,
                now,
            )
            .await?;
            if !remembered {
                return Err(refused(JoinError::OtherCohort));
            }
            format!("platform:{}:context:{context_id}", platform.id)
        }
    };
    principal
        .audit(
            db,
            "cohort.link",
            &format!("cohort:{}", cohort.id),
            None,
            serde_json::json!({ "lms_course": target }),
        )
        .await?;
    Ok(())
}

/// Adds an organisation to a cohort (system administrators).
pub async fn add_organisation(
    db: &DatabaseConnection,
    principal: &Principal,
    cohort_id: i64,
    organisation: &str,
) -> Result<(), AdminError> {
    principal.require_system()?;
    let organisation = organisation.trim();
    if organisation.is_empty() || organisation.chars().count() > 200 {
        return Err(AdminError::Invalid(
            "an organisation's name is 1 to 200 characters".into(),
        ));
    }
    store::cohorts::get(db, cohort_id)
        .await?
        .ok_or(AdminError::NotFound("cohort"))?;
    let txn = store::begin_write(db).await?;
    store::organisations::ensure(&txn, organisation, principal.now_unix()).await?;
    store::cohorts::add_organisation(&txn, cohort_id, organisation).await?;
    principal
        .audit(
            &txn,
            "cohort.organisation.add",
            &format!("cohort:{cohort_id}"),
            Some(organisation),
            serde_json::json!({}),
        )
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Makes a person (by row id) a course leader of a cohort (system administrators).
pub async fn add_leader(
    db: &DatabaseConnection,
    principal: &Principal,
    cohort_id: i64,
    person_id: i64,
) -> Result<(), AdminError> {
    principal.require_system()?;
    store::cohorts::get(db, cohort_id)
        .await?
        .ok_or(AdminError::NotFound("cohort"))?;
    store::people::get(db, person_id)
        .await?
        .ok_or(AdminError::NotFound("person"))?;
    let txn = store::begin_write(db).await?;
    store::cohorts::add_leader(
        &txn,
        cohort_id,
        person_id,
        &principal.actor,
        principal.now_unix(),
    )
    .await?;
    principal
        .audit(
            &txn,
            "cohort.leader.add",
            &format!("cohort:{cohort_id}"),
            None,
            serde_json::json!({ "person": person_id }),
        )
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Places a person in an organisation for good: it wins over what an LMS sends or the person
/// chose. An administrator limited to an organisation places only into their own.
pub async fn place_person(
    db: &DatabaseConnection,
    principal: &Principal,
    person_id: i64,
    organisation: &str,
) -> Result<(), AdminError> {
    principal.require(Scope::Admin)?;
    principal.require_organisation(Some(organisation))?;
    let known = store::organisations::find(db, organisation)
        .await?
        .ok_or(AdminError::NotFound("organisation"))?;
    store::people::get(db, person_id)
        .await?
        .ok_or(AdminError::NotFound("person"))?;
    let txn = store::begin_write(db).await?;
    store::organisations::set_for_person(
        &txn,
        person_id,
        &known.name,
        store::organisations::SOURCE_PLACEMENT,
        Some(&principal.actor),
        principal.now_unix(),
    )
    .await?;
    let moved =
        store::completions::move_person(&txn, person_id, &known.name, principal.now_ms()).await?;
    principal
        .audit(
            &txn,
            "person.place",
            &format!("person:{person_id}"),
            Some(&known.name),
            serde_json::json!({ "records_moved": moved }),
        )
        .await?;
    txn.commit().await?;
    Ok(())
}

fn refused(err: JoinError) -> AdminError {
    match err {
        JoinError::Db(err) => AdminError::Db(err),
        JoinError::UnknownCode => AdminError::NotFound("cohort"),
        other => AdminError::Conflict(other.to_string()),
    }
}

/// A day as `YYYY-MM-DD`, checked to be a real date; `None` when left empty.
fn date(value: Option<&str>) -> Result<Option<String>, ()> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let parts: Vec<&str> = value.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return Err(());
    };
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return Err(());
    }
    let (Ok(year), Ok(month), Ok(day)) = (
        year.parse::<i32>(),
        month.parse::<u32>(),
        day.parse::<u32>(),
    ) else {
        return Err(());
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(()),
    };
    if day == 0 || day > days {
        return Err(());
    }
    Ok(Some(value.to_owned()))
}

enum VersionLookup {
    Problem(CohortProblem),
    Db(sea_orm::DbErr),
}

impl From<sea_orm::DbErr> for VersionLookup {
    fn from(err: sea_orm::DbErr) -> Self {
        VersionLookup::Db(err)
    }
}

/// The course version a request names: `#id`, `slug@version`, or a version only one course has.
async fn course_version(
    db: &DatabaseConnection,
    named: &str,
) -> Result<course_version::Model, VersionLookup> {
    let named = named.trim();
    let unknown = || VersionLookup::Problem(CohortProblem::UnknownVersion);
    if let Some(id) = named.strip_prefix('#') {
        let id = id.parse::<i64>().map_err(|_| unknown())?;
        return store::course::get(db, id).await?.ok_or_else(unknown);
    }
    if let Some((slug, version)) = named.split_once('@') {
        return store::course::find_version(db, slug, version)
            .await?
            .ok_or_else(unknown);
    }
    let matching = store::course::with_version(db, named).await?;
    match matching.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(unknown()),
        _ => Err(VersionLookup::Problem(CohortProblem::AmbiguousVersion)),
    }
}

#[cfg(test)]
mod tests {
    use super::date;

    #[test]
    fn dates_are_real_days_or_refused() {
        assert_eq!(
            date(Some("2027-02-28")).ok().flatten().as_deref(),
            Some("2027-02-28")
        );
        assert!(date(Some("2028-02-29")).is_ok());
        assert!(date(Some("2027-02-29")).is_err());
        assert!(date(Some("2027-13-01")).is_err());
        assert!(date(Some("27-01-01")).is_err());
        assert!(date(Some("1 mars")).is_err());
        assert!(matches!(date(Some(" ")), Ok(None)));
        assert!(matches!(date(None), Ok(None)));
    }
}
