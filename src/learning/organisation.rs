//! Which organisation (municipality) a person belongs to, and the cohort a launch's LMS course
//! joins. The first of these that applies decides a person's organisation:
//! 1. a placement by an administrator or contact person (it wins, so a wrong value from an LMS is
//!    corrected for good);
//! 2. the LMS's custom parameter `organisation` or `kommun`, mapped to a known organisation;
//! 3. the person's own choice among the cohort's organisations, asked at the first launch when the
//!    LMS course serves several;
//! 4. the deployment's organisation, as before cohorts existed.
use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use super::{cohort, context::CourseCache};
use crate::{lti::claims::ToolRole, session::Session, store};

/// What a launch tells about where its person and LMS course belong.
pub struct LaunchFacts<'a> {
    /// The person (`lti_user` row).
    pub user_id: i64,
    /// The LMS course, when the launch had one.
    pub context_id: Option<i64>,
    /// The cohort it is linked to already.
    pub cohort_id: Option<i64>,
    /// The deployment's organisation.
    pub deployment_organisation: Option<&'a str>,
    /// The person's role in the course.
    pub role: ToolRole,
    /// The custom parameters.
    pub custom: &'a [(String, String)],
    /// Unix seconds.
    pub now: i64,
}

/// What follows from a launch.
#[derive(Debug, Default)]
pub struct AtLaunch {
    /// The cohort the LMS course is part of.
    pub cohort_id: Option<i64>,
    /// The organisations the person is asked to choose from (empty: not asked).
    pub choose_from: Vec<String>,
}

/// Links the LMS course when the link carries `cohort=<code>`, records the organisation the LMS
/// names, and says whether the person must choose theirs.
pub async fn at_launch(
    db: &DatabaseConnection,
    courses: &CourseCache,
    facts: LaunchFacts<'_>,
) -> Result<AtLaunch, DbErr> {
    let custom = |name: &str| {
        facts
            .custom
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.trim())
            .filter(|value| !value.is_empty())
    };
    let mut cohort_id = facts.cohort_id;
    if let (None, Some(context_id), Some(code)) = (cohort_id, facts.context_id, custom("cohort")) {
        // A launch this instance recorded a moment ago may not know yet that the course joined.
        cohort_id = match store::cohorts::of_context(db, context_id).await? {
            Some(linked) => Some(linked),
            None => join_by_code(db, courses, context_id, code, facts.now).await?,
        };
    }
    if let Some(named) = custom("organisation").or_else(|| custom("kommun")) {
        match known_organisation(db, named).await? {
            Some(name) => {
                let recorded = store::organisations::of_person(db, facts.user_id).await?;
                if recorded.is_none_or(|r| r.organisation != name) {
                    store::organisations::set_for_person(
                        db,
                        facts.user_id,
                        &name,
                        store::organisations::SOURCE_LMS,
                        None,
                        facts.now,
                    )
                    .await?;
                }
                return Ok(AtLaunch {
                    cohort_id,
                    choose_from: Vec::new(),
                });
            }
            None => tracing::warn!(
                code = "organisation.unknown",
                named = %named.chars().take(100).collect::<String>(),
                "the LMS named an organisation that is not known; the person's is decided otherwise"
            ),
        }
    }
    let mut choose_from = Vec::new();
    if let Some(cohort) = cohort_id
        && facts.role == ToolRole::Participant
        && store::organisations::of_person(db, facts.user_id)
            .await?
            .is_none()
    {
        let organisations = store::cohorts::organisations(db, cohort).await?;
        if serves_several(&organisations, facts.deployment_organisation) {
            choose_from = organisations;
        }
    }
    Ok(AtLaunch {
        cohort_id,
        choose_from,
    })
}

/// Whether an LMS course in a cohort with `organisations` serves several of them: its deployment
/// belongs to none of them (the region's own LMS, say), and there are several to choose from.
fn serves_several(organisations: &[String], deployment_organisation: Option<&str>) -> bool {
    organisations.len() >= 2
        && deployment_organisation.is_none_or(|own| !organisations.iter().any(|o| o == own))
}

async fn join_by_code(
    db: &DatabaseConnection,
    courses: &CourseCache,
    context_id: i64,
    code: &str,
    now: i64,
) -> Result<Option<i64>, DbErr> {
    let joined = match cohort::by_code(db, code).await {
        Ok(found) => cohort::join(db, courses, context_id, &found, now)
            .await
            .map(|()| found.id),
        Err(err) => Err(err),
    };
    match joined {
        Ok(id) => {
            tracing::info!(
                code = "cohort.linked",
                context = context_id,
                cohort = id,
                "an LMS course joined a cohort by its link's cohort parameter"
            );
            Ok(Some(id))
        }
        Err(cohort::JoinError::Db(err)) => Err(err),
        Err(refused) => {
            tracing::warn!(
                code = "cohort.link_refused",
                context = context_id,
                reason = %refused,
                "the link's cohort parameter did not link the LMS course; it stays a cohort of its own"
            );
            Ok(None)
        }
    }
}

/// The known organisation an LMS's value names: the same name, ignoring case, spacing and a
/// trailing "kommun" ("Umeå" names "Umeå kommun").
async fn known_organisation(
    db: &impl ConnectionTrait,
    named: &str,
) -> Result<Option<String>, DbErr> {
    if let Some(exact) = store::organisations::find(db, named).await? {
        return Ok(Some(exact.name));
    }
    let wanted = comparable(named);
    Ok(store::organisations::list(db)
        .await?
        .into_iter()
        .map(|org| org.name)
        .find(|name| comparable(name) == wanted))
}

fn comparable(name: &str) -> String {
    let lower = name.to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let words = match words.as_slice() {
        [rest @ .., "kommun"] if !rest.is_empty() => rest,
        all => all,
    };
    words.join(" ")
}

/// Why a person's choice of organisation is not taken.
#[derive(Debug, thiserror::Error)]
pub enum ChoiceError {
    /// Not one of the cohort's organisations (or the LMS course is in no cohort).
    #[error("not one of the cohort's organisations")]
    NotOffered,
    /// Storage.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// A participant's own choice of organisation among their cohort's; a placement or an LMS's value
/// stays as it is.
pub async fn choose(
    db: &DatabaseConnection,
    session: &Session,
    organisation: &str,
    now: i64,
) -> Result<(), ChoiceError> {
    let offered = offered_to(db, session).await?;
    let Some(name) = offered.into_iter().find(|o| o == organisation) else {
        return Err(ChoiceError::NotOffered);
    };
    if store::organisations::of_person(db, session.uid)
        .await?
        .is_some()
    {
        return Ok(());
    }
    store::organisations::set_for_person(
        db,
        session.uid,
        &name,
        store::organisations::SOURCE_CHOICE,
        None,
        now,
    )
    .await?;
    Ok(())
}

/// The organisations a participant may choose from: their cohort's, when they have none yet.
pub async fn offered_to(db: &DatabaseConnection, session: &Session) -> Result<Vec<String>, DbErr> {
    let Some(context_id) = session.cid else {
        return Ok(Vec::new());
    };
    let Some(cohort) = store::cohorts::of_context(db, context_id).await? else {
        return Ok(Vec::new());
    };
    store::cohorts::organisations(db, cohort).await
}

/// The organisation of each person: their recorded one, else their deployment's
/// (`deployment_organisation`).
pub async fn of_people(
    db: &impl ConnectionTrait,
    user_ids: impl IntoIterator<Item = i64>,
    deployment_organisation: Option<&str>,
) -> Result<HashMap<i64, Option<String>>, DbErr> {
    let ids: Vec<i64> = user_ids.into_iter().collect();
    let recorded = store::organisations::of_people(db, ids.iter().copied()).await?;
    Ok(ids
        .into_iter()
        .map(|id| {
            let organisation = recorded
                .get(&id)
                .map(|row| row.organisation.clone())
                .or_else(|| deployment_organisation.map(str::to_owned));
            (id, organisation)
        })
        .collect())
}

/// A person's municipality group in an LMS course launched through `deployment_id`, as the owner
/// key of its group answers: `g:d<deployment>` when the person belongs to the deployment's own
/// organisation (every answer from before organisations per person is under it), else
/// `g:o<organisation>`, so that a regional course has one municipality group per municipality.
pub async fn municipality_group(
    db: &impl ConnectionTrait,
    user_id: i64,
    deployment_id: i64,
) -> Result<String, DbErr> {
    let recorded: HashMap<_, _> = store::organisations::of_person(db, user_id)
        .await?
        .map(|row| (user_id, row))
        .into_iter()
        .collect();
    // Most people have no organisation of their own: no need to read the deployment's.
    let own = match recorded.is_empty() {
        true => None,
        false => store::accessibility::organisation(db, deployment_id).await?,
    };
    Ok(
        group_keys(db, [user_id], &recorded, deployment_id, own.as_deref())
            .await?
            .remove(&user_id)
            .map(|(key, _)| key)
            .unwrap_or_else(|| format!("g:d{deployment_id}")),
    )
}

/// The municipality group (owner key, organisation) of each of these people, as above, in an LMS
/// course whose deployment belongs to `own`.
pub async fn municipality_groups(
    db: &impl ConnectionTrait,
    user_ids: impl IntoIterator<Item = i64>,
    deployment_id: i64,
    own: Option<&str>,
) -> Result<HashMap<i64, (String, Option<String>)>, DbErr> {
    let ids: Vec<i64> = user_ids.into_iter().collect();
    let recorded = store::organisations::of_people(db, ids.iter().copied()).await?;
    group_keys(db, ids, &recorded, deployment_id, own).await
}

async fn group_keys(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
    recorded: &HashMap<i64, entity::person_organisation::Model>,
    deployment_id: i64,
    own: Option<&str>,
) -> Result<HashMap<i64, (String, Option<String>)>, DbErr> {
    let mut keys_by_name: HashMap<String, String> = HashMap::new();
    let mut groups = HashMap::new();
    for id in ids {
        let group = match recorded.get(&id) {
            Some(row) if own != Some(row.organisation.as_str()) => {
                let key = match keys_by_name.get(&row.organisation) {
                    Some(key) => key.clone(),
                    None => {
                        let key = match store::organisations::find(db, &row.organisation).await? {
                            Some(org) => format!("g:o{}", org.id),
                            None => format!("g:d{deployment_id}"),
                        };
                        keys_by_name.insert(row.organisation.clone(), key.clone());
                        key
                    }
                };
                (key, Some(row.organisation.clone()))
            }
            _ => (format!("g:d{deployment_id}"), None),
        };
        groups.insert(id, group);
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_lms_value_names_an_organisation_whatever_its_case_and_suffix() {
        assert_eq!(comparable("Umeå kommun"), comparable("umeå"));
        assert_eq!(comparable(" Umeå  Kommun "), comparable("UMEÅ"));
        assert_ne!(comparable("Umeå"), comparable("Skellefteå"));
        assert_eq!(comparable("Kommun"), "kommun", "a name of one word is kept");
    }

    #[test]
    fn a_course_serves_several_organisations_only_when_its_own_is_not_one_of_them() {
        let orgs = ["Skellefteå kommun".to_owned(), "Umeå kommun".to_owned()];
        assert!(serves_several(&orgs, Some("Region Västerbotten")));
        assert!(serves_several(&orgs, None));
        assert!(!serves_several(&orgs, Some("Umeå kommun")));
        assert!(!serves_several(&orgs[..1], None));
    }
}
