//! `GET /instructor`: the dashboard of an LMS course: who stands where in every module, filters,
//! submissions waiting, groups, occasions and versions.
use super::*;
use crate::web::page::{PageContext, page_template};

const STATUSES: [ModuleStatus; 6] = [
    ModuleStatus::NotStarted,
    ModuleStatus::InProgress,
    ModuleStatus::Submitted,
    ModuleStatus::Returned,
    ModuleStatus::Approved,
    ModuleStatus::Complete,
];

struct Row {
    name: String,
    cells: Vec<(&'static str, &'static str)>,
    /// Whether the LMS gradebook has the latest score: (text, slug), when the course sends scores.
    gradebook: Option<(String, &'static str)>,
}

struct Link {
    url: String,
    label: String,
}

#[derive(Template)]
#[template(path = "instructor_dashboard.html")]
struct DashboardPage<'a> {
    page: PageContext,
    overview_url: String,
    filter_action: String,
    occasion_action: String,
    session: &'a str,
    course_title: &'a str,
    /// The LMS course receives scores: show whether each gradebook is up to date.
    grades_sent: bool,
    context_title: Option<&'a str>,
    welcome: String,
    notice: Option<(&'static str, String)>,
    roster_action: String,
    aggregates_url: String,
    admin_url: Option<String>,
    group_action: String,
    move_action: String,
    version_action: String,
    current_version: String,
    other_versions: Vec<(i64, String)>,
    groups: Vec<(String, String, Vec<String>)>,
    people: Vec<(i64, String)>,
    waiting_text: String,
    waiting: Vec<Link>,
    modules: Vec<(String, String)>,
    shown_modules: Vec<(String, String)>,
    statuses: Vec<(&'static str, &'static str)>,
    filter_module: String,
    filter_status: String,
    filter_group: String,
    rows: Vec<Row>,
    occasions: Vec<String>,
}

/// Renders the dashboard of the session's context.
pub async fn dashboard(
    app: &App,
    session: &Session,
    token: &str,
    query: &InstructorQuery,
) -> Result<Response, AppError> {
    let lang = session.page_language();
    let course = course_of(app, session).await?;
    let review::InstructorDashboard {
        board,
        gradebook,
        placements,
        groups: group_rows,
        waiting_people: people,
        occasions,
        organisation,
        other_versions,
    } = review::instructor_dashboard(&app.db, &course, session.did)
        .await
        .in_lang(lang)?;
    let modules: Vec<(String, String)> = course
        .package
        .modules
        .iter()
        .map(|m| (m.slug.clone(), m.title.get(lang).to_owned()))
        .collect();
    let grades_sent = gradebook.is_some();
    let deliveries = gradebook.unwrap_or_default();
    let gradebook_of = |person: i64| {
        grades_sent.then(|| {
            let delivery = crate::grades::Delivery::of(
                deliveries
                    .get(&person)
                    .map(Vec::as_slice)
                    .unwrap_or_default(),
            );
            let (key, slug) = delivery.label();
            let text = match &delivery {
                crate::grades::Delivery::NotGradable(why) => {
                    lang.tf(key, &[("reason", why.as_str())])
                }
                _ => lang.t(key).to_owned(),
            };
            (text, slug)
        })
    };
    let filter_module = query.module.clone().unwrap_or_default();
    let filter_status = query.status.clone().unwrap_or_default();
    let module_index = modules.iter().position(|(slug, _)| *slug == filter_module);
    let shown: Vec<usize> = match module_index {
        Some(index) => vec![index],
        None => (0..modules.len()).collect(),
    };
    let filter_group = query.group.clone().unwrap_or_default();
    let in_group = |person: i64| match filter_group.as_str() {
        "" => true,
        "municipality" => !placements.contains_key(&person),
        id => id
            .parse::<i64>()
            .is_ok_and(|id| placements.get(&person) == Some(&id)),
    };
    let rows = board
        .rows
        .iter()
        .filter(|row| in_group(row.person.id))
        .filter(|row| {
            filter_status.is_empty()
                || shown.iter().any(|&i| {
                    row.statuses
                        .get(i)
                        .is_some_and(|s| s.slug() == filter_status)
                })
        })
        .map(|row| Row {
            name: person_name(lang, Some(&row.person)),
            cells: shown
                .iter()
                .filter_map(|&i| row.statuses.get(i))
                .map(|status| (lang.t(status.label_key()), status.slug()))
                .collect(),
            gradebook: gradebook_of(row.person.id),
        })
        .collect();
    let waiting = board
        .waiting
        .iter()
        .map(|row| {
            let module = course.module(&row.module_slug).ok();
            let task_number = module
                .and_then(|m| m.tasks().position(|t| t.slug == row.task_slug))
                .map(|i| i + 1)
                .unwrap_or(0);
            Link {
                url: page_url(app, &format!("instructor/submissions/{}", row.id), token),
                label: format!(
                    "{} – {}, {}",
                    owner_label(lang, row, &people),
                    module.map(|m| m.title.get(lang)).unwrap_or_default(),
                    lang.tf("task-heading", &[("n", &task_number.to_string())])
                ),
            }
        })
        .collect::<Vec<_>>();
    let default_group = organisation.unwrap_or_else(|| lang.t("groups-municipality").to_owned());
    let members_of = |group: Option<i64>| -> Vec<String> {
        board
            .rows
            .iter()
            .filter(|row| placements.get(&row.person.id).copied() == group)
            .map(|row| person_name(lang, Some(&row.person)))
            .collect()
    };
    let mut groups = vec![(String::new(), default_group, members_of(None))];
    groups.extend(
        group_rows
            .iter()
            .map(|g| (g.id.to_string(), g.name.clone(), members_of(Some(g.id)))),
    );
    let occasions = course
        .package
        .modules
        .iter()
        .filter_map(|m| {
            occasions.get(&m.slug).map(|o| {
                format!(
                    "{}: {} {}, {}",
                    m.workshop.get(lang),
                    format_date(o.starts_at),
                    format_time(o.starts_at),
                    o.place
                )
            })
        })
        .collect();
    let page = DashboardPage {
        page: PageContext::launched(app, lang, token),
        overview_url: page_url(app, "course", token),
        filter_action: app.url("instructor").to_string(),
        occasion_action: page_url(app, "instructor/occasions", token),
        session: token,
        course_title: course.package.title.get(lang),
        grades_sent,
        context_title: session.ctx.as_deref(),
        welcome: crate::web::launched::welcome(lang, session.name.as_deref()),
        notice: match query.notice.as_deref() {
            Some("occasion") => Some(("info", lang.t("instructor-occasion-saved").to_owned())),
            Some("decided") => Some(("info", lang.t("instructor-decided").to_owned())),
            Some("synced") => Some((
                "info",
                lang.tf(
                    "instructor-roster-synced",
                    &[("count", &query.count.unwrap_or(0).to_string())],
                ),
            )),
            Some("not-offered") => Some((
                "warning",
                lang.t("instructor-roster-not-offered").to_owned(),
            )),
            Some("sync-failed") => Some(("warning", lang.t("instructor-roster-failed").to_owned())),
            _ => None,
        },
        roster_action: page_url(app, "instructor/roster", token),
        aggregates_url: page_url(app, "instructor/assessments", token),
        admin_url: crate::web::launched::has_admin_role(app, session)
            .await
            .in_lang(lang)?
            .then(|| page_url(app, "admin", token)),
        group_action: page_url(app, "instructor/groups", token),
        version_action: page_url(app, "instructor/version", token),
        current_version: course.package.version.clone(),
        other_versions: other_versions
            .into_iter()
            .map(|v| (v.id, v.version))
            .collect(),
        move_action: page_url(app, "instructor/groups/move", token),
        groups,
        people: board
            .rows
            .iter()
            .map(|row| (row.person.id, person_name(lang, Some(&row.person))))
            .collect(),
        waiting_text: lang.tf(
            "instructor-waiting-count",
            &[("count", &waiting.len().to_string())],
        ),
        waiting,
        shown_modules: shown
            .iter()
            .filter_map(|&i| modules.get(i).cloned())
            .collect(),
        modules,
        statuses: STATUSES
            .iter()
            .map(|s| (s.slug(), lang.t(s.label_key())))
            .collect(),
        filter_module,
        filter_status,
        filter_group,
        rows,
        occasions,
    };
    Ok(render(&page, StatusCode::OK))
}

pub(super) fn owner_label(
    lang: Lang,
    row: &entity::submission::Model,
    people: &std::collections::HashMap<i64, entity::lti_user::Model>,
) -> String {
    if row.owner_key.starts_with("g:") {
        lang.t("instructor-group-answer").to_owned()
    } else {
        let id = row
            .owner_key
            .trim_start_matches("u:")
            .parse::<i64>()
            .unwrap_or(row.updated_by);
        person_name(lang, people.get(&id))
    }
}

/// `GET /instructor`.
pub async fn show_dashboard(
    State(app): State<AppState>,
    Query(query): Query<InstructorQuery>,
    Instructor { session, token, .. }: Instructor,
) -> Result<Response, AppError> {
    dashboard(&app, &session, &token, &query).await
}

page_template!(DashboardPage<'a>);
