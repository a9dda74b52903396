//! What the instructor's dashboard of an LMS course shows, filtered as the instructor asked:
//! participants × the modules shown, whether each gradebook has the latest scores, the
//! submissions waiting for review and whose they are, the groups and their members, the workshop
//! occasions, and the versions the course may move to. The page only puts it into words.
use std::collections::HashMap;

use entity::{course_version, learner_group, lti_user, submission, workshop_occasion};
use sea_orm::{DatabaseConnection, DbErr};

use super::{context::ContextCourse, review};
use crate::{course::completion::ModuleStatus, grades::Delivery, store};

/// Which rows and columns the instructor asked for.
#[derive(Debug, Default, Clone)]
pub struct DashboardFilter {
    /// One module's column (its slug); all when empty or unknown.
    pub module: String,
    /// Rows with this status in a shown module (`ModuleStatus::slug`); all when empty.
    pub status: String,
    /// Rows of one group: a group's id, `municipality` for those in no instructor-made group,
    /// `o:<organisation>` for those of them who belong to that organisation; all when empty.
    pub group: String,
}

/// One participant's row.
pub struct DashboardRow {
    /// The person.
    pub person: lti_user::Model,
    /// Their status in each shown module, in course order.
    pub statuses: Vec<ModuleStatus>,
    /// The answer each shown module's cell opens, where they have one.
    pub openable: Vec<Option<i64>>,
    /// Whether their gradebook has the latest scores; `None` when the course sends no scores.
    pub delivery: Option<Delivery>,
}

/// Whose a waiting submission is.
pub enum Owner {
    /// A group's answer.
    Group,
    /// A person's (absent when the person is gone).
    Person(Option<lti_user::Model>),
}

/// A submission waiting for review.
pub struct Waiting {
    /// The submission.
    pub submission: submission::Model,
    /// Whose it is.
    pub owner: Owner,
    /// The task's number in its module (from 1; 0 when the task is gone).
    pub task_number: usize,
}

/// A group and who is in it.
pub struct GroupMembers {
    /// The instructor-made group; `None` for a municipality's (everyone of it not placed).
    pub group: Option<learner_group::Model>,
    /// The municipality of a municipality's group.
    pub organisation: Option<String>,
    /// Its members, in name order.
    pub members: Vec<lti_user::Model>,
}

/// Everything the dashboard shows.
pub struct InstructorDashboard {
    /// Indexes of the modules shown (into the course's modules).
    pub shown_modules: Vec<usize>,
    /// The rows the filter lets through.
    pub rows: Vec<DashboardRow>,
    /// Every participant, for the form that moves one to a group.
    pub participants: Vec<lti_user::Model>,
    /// Submissions waiting for review, oldest first.
    pub waiting: Vec<Waiting>,
    /// The municipalities' groups first (the deployment's own first), then the instructor-made
    /// ones.
    pub groups: Vec<GroupMembers>,
    /// The organisation of the instructor's deployment (the municipality group's name).
    pub organisation: Option<String>,
    /// Workshop occasions in course order: (module index, occasion).
    pub occasions: Vec<(usize, workshop_occasion::Model)>,
    /// The other stored versions of the course.
    pub other_versions: Vec<course_version::Model>,
    /// Whether the LMS course receives scores.
    pub grades_sent: bool,
    /// The cohort (course run) the LMS course is part of.
    pub course_run: Option<entity::cohort::Model>,
}

/// Reads the dashboard of `course`, launched through deployment `deployment_id`, as `filter` asks.
pub async fn instructor_dashboard(
    db: &DatabaseConnection,
    course: &ContextCourse,
    deployment_id: i64,
    filter: &DashboardFilter,
) -> Result<InstructorDashboard, DbErr> {
    let board = review::dashboard(db, course, deployment_id).await?;
    let gradebook = match store::grades::target(db, course.context_id).await? {
        Some(_) => Some(store::grades::latest_in_context(db, course.context_id).await?),
        None => None,
    };
    let placements = store::group::placements(db, course.context_id).await?;
    let modules = &course.package.modules;
    let shown_modules: Vec<usize> = match modules.iter().position(|m| m.slug == filter.module) {
        Some(index) => vec![index],
        None => (0..modules.len()).collect(),
    };
    let rows = board
        .rows
        .iter()
        .filter(|row| {
            in_group(
                &filter.group,
                placements.get(&row.person.id),
                row.organisation.as_deref(),
            )
        })
        .filter(|row| {
            filter.status.is_empty()
                || shown_modules.iter().any(|&i| {
                    row.statuses
                        .get(i)
                        .is_some_and(|s| s.slug() == filter.status)
                })
        })
        .map(|row| DashboardRow {
            person: row.person.clone(),
            statuses: shown_modules
                .iter()
                .filter_map(|&i| row.statuses.get(i).copied())
                .collect(),
            openable: shown_modules
                .iter()
                .map(|&i| row.openable.get(i).copied().flatten())
                .collect(),
            delivery: gradebook.as_ref().map(|latest| {
                Delivery::of(
                    latest
                        .get(&row.person.id)
                        .map(Vec::as_slice)
                        .unwrap_or_default(),
                )
            }),
        })
        .collect();
    let people =
        store::review::people(db, board.waiting.iter().map(|s| s.updated_by).collect()).await?;
    let waiting = board
        .waiting
        .into_iter()
        .map(|submission| {
            let task_number = course
                .module(&submission.module_slug)
                .ok()
                .and_then(|m| m.tasks().position(|t| t.slug == submission.task_slug))
                .map_or(0, |i| i + 1);
            let owner = if submission.owner_key.starts_with("g:") {
                Owner::Group
            } else {
                let id = submission
                    .owner_key
                    .trim_start_matches("u:")
                    .parse::<i64>()
                    .unwrap_or(submission.updated_by);
                Owner::Person(people.get(&id).cloned())
            };
            Waiting {
                submission,
                owner,
                task_number,
            }
        })
        .collect();
    let own_organisation = board.organisation.clone();
    let mut municipalities: Vec<Option<String>> = vec![own_organisation.clone()];
    for row in &board.rows {
        if !placements.contains_key(&row.person.id) && !municipalities.contains(&row.organisation) {
            municipalities.push(row.organisation.clone());
        }
    }
    municipalities[1..].sort();
    let mut groups: Vec<GroupMembers> = municipalities
        .into_iter()
        .map(|organisation| GroupMembers {
            group: None,
            members: board
                .rows
                .iter()
                .filter(|row| {
                    !placements.contains_key(&row.person.id) && row.organisation == organisation
                })
                .map(|row| row.person.clone())
                .collect(),
            organisation,
        })
        .collect();
    for group in store::group::groups(db, course.context_id).await? {
        groups.push(GroupMembers {
            members: board
                .rows
                .iter()
                .filter(|row| placements.get(&row.person.id) == Some(&group.id))
                .map(|row| row.person.clone())
                .collect(),
            organisation: None,
            group: Some(group),
        });
    }
    let participants: Vec<lti_user::Model> = board.rows.into_iter().map(|row| row.person).collect();
    let mut by_module: HashMap<String, workshop_occasion::Model> =
        store::review::occasions(db, course.context_id).await?;
    let occasions = modules
        .iter()
        .enumerate()
        .filter_map(|(index, m)| by_module.remove(&m.slug).map(|o| (index, o)))
        .collect();
    Ok(InstructorDashboard {
        shown_modules,
        rows,
        participants,
        waiting,
        groups,
        organisation: own_organisation,
        occasions,
        other_versions: store::course::versions_of(db, &course.package.slug)
            .await?
            .into_iter()
            .filter(|v| v.id != course.version_id)
            .collect(),
        grades_sent: gradebook.is_some(),
        course_run: match store::cohorts::of_context(db, course.context_id).await? {
            Some(id) => store::cohorts::get(db, id).await?,
            None => None,
        },
    })
}

/// Whether a person of `organisation` placed in `placed` (absent: their municipality's group)
/// passes the group filter.
fn in_group(filter: &str, placed: Option<&i64>, organisation: Option<&str>) -> bool {
    match filter {
        "" => true,
        "municipality" => placed.is_none(),
        named if named.starts_with("o:") => placed.is_none() && organisation == Some(&named[2..]),
        id => id.parse::<i64>().is_ok_and(|id| placed == Some(&id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_group_filter_lets_through_what_it_names() {
        let umea = Some("Umeå kommun");
        assert!(in_group("", Some(&3), umea));
        assert!(in_group("", None, umea));
        assert!(in_group("municipality", None, umea));
        assert!(!in_group("municipality", Some(&3), umea));
        assert!(in_group("o:Umeå kommun", None, umea));
        assert!(!in_group("o:Umeå kommun", None, Some("Skellefteå kommun")));
        assert!(!in_group("o:Umeå kommun", Some(&3), umea));
        assert!(!in_group("o:Umeå kommun", None, None));
        assert!(in_group("3", Some(&3), umea));
        assert!(!in_group("3", Some(&4), umea));
        assert!(!in_group("3", None, umea));
        assert!(!in_group("x", Some(&3), umea));
    }
}
