//! `GET /instructor`: the dashboard of an LMS course: who stands where in every module, filters,
//! submissions waiting, groups, occasions and versions.
use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::Response,
};

use super::{Instructor, InstructorQuery, course_of, person_name};
use crate::web::page::page_url;
use crate::web::page::{PageContext, page_template};
use crate::{
    course::completion::ModuleStatus,
    i18n::{Lang, format_date, format_time},
    learning::context::ContextCourse,
    state::{App, AppState},
    web::error::{AppError, InLang, render},
};
use crate::{
    grades::Delivery,
    learning::dashboard::{
        self, DashboardFilter, DashboardRow, GroupMembers, InstructorDashboard, Owner, Waiting,
    },
};

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
    /// (status text, status slug, the answer it opens)
    cells: Vec<(&'static str, &'static str, Option<String>)>,
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
    comparison_url: String,
    admin_url: Option<String>,
    group_action: String,
    move_action: String,
    version_action: String,
    current_version: String,
    other_versions: Vec<(i64, String)>,
    groups: Vec<(String, String, Vec<String>, String)>,
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
    /// The course run the LMS course is part of; else the form that joins one.
    course_run: Option<String>,
    cohort_action: String,
    /// The course run's page, for one of its course leaders.
    leader_url: Option<String>,
    /// Each group task's shared answers ("Så svarade kommunerna"), where leaders pin: (module and
    /// task, address).
    shared_answers: Vec<(String, String)>,
}

/// `GET /instructor`.
pub async fn show_dashboard(
    State(app): State<AppState>,
    Query(query): Query<InstructorQuery>,
    instructor: Instructor,
) -> Result<Response, AppError> {
    let lang = instructor.lang;
    let course = course_of(&app, &instructor.session).await?;
    let filter = DashboardFilter {
        module: query.module.clone().unwrap_or_default(),
        status: query.status.clone().unwrap_or_default(),
        group: query.group.clone().unwrap_or_default(),
    };
    let board = dashboard::instructor_dashboard(&app.db, &course, instructor.session.did, &filter)
        .await
        .in_lang(lang)?;
    let admin = crate::web::launched::has_admin_role(&app, &instructor.session)
        .await
        .in_lang(lang)?;
    let leads_run = crate::learning::leader::leads_course_run(&app.db, &instructor.session)
        .await
        .in_lang(lang)?;
    let view = DashboardView {
        app: &app,
        instructor: &instructor,
        course: &course,
        admin,
        leads_run,
    };
    Ok(render(&view.page(board, filter, &query), StatusCode::OK))
}

/// What the page is built from besides the dashboard itself.
struct DashboardView<'a> {
    app: &'a App,
    instructor: &'a Instructor,
    course: &'a ContextCourse,
    /// Whether the instructor also has an administrator role.
    admin: bool,
    /// Whether they lead the course run the LMS course is part of.
    leads_run: bool,
}

impl<'a> DashboardView<'a> {
    fn url(&self, path: &str) -> String {
        page_url(self.app, path, &self.instructor.token)
    }

    fn page(
        &self,
        board: InstructorDashboard,
        filter: DashboardFilter,
        query: &InstructorQuery,
    ) -> DashboardPage<'a> {
        let (instructor, course): (&'a Instructor, &'a ContextCourse) =
            (self.instructor, self.course);
        let lang = instructor.lang;
        let package = &course.package;
        let modules: Vec<(String, String)> = package
            .modules
            .iter()
            .map(|m| (m.slug.clone(), m.title.get(lang).to_owned()))
            .collect();
        let waiting = self.waiting(&board.waiting);
        DashboardPage {
            page: PageContext::launched(self.app, lang, &self.instructor.token),
            overview_url: self.url("course"),
            filter_action: self.app.url("instructor").to_string(),
            occasion_action: self.url("instructor/occasions"),
            session: &instructor.token,
            course_title: package.title.get(lang),
            grades_sent: board.grades_sent,
            context_title: instructor.session.ctx.as_deref(),
            welcome: crate::web::launched::welcome(lang, self.instructor.session.name.as_deref()),
            notice: notice(lang, query),
            roster_action: self.url("instructor/roster"),
            course_run: board.course_run.as_ref().map(|run| run.name.clone()),
            cohort_action: self.url("instructor/cohort"),
            leader_url: self.leads_run.then(|| self.url("leader")),
            shared_answers: package
                .modules
                .iter()
                .flat_map(|m| {
                    m.tasks()
                        .enumerate()
                        .filter(|(_, t)| t.kind == crate::course::TaskKind::Group)
                        .map(move |(i, t)| (m, i, t))
                })
                .map(|(m, i, t)| {
                    let task = lang.task_heading(i + 1);
                    let label = format!("{}: {task}", m.title.get(lang));
                    (
                        label,
                        self.url(&format!("course/m/{}/t/{}/others", m.slug, t.slug)),
                    )
                })
                .collect(),
            aggregates_url: self.url("instructor/assessments"),
            comparison_url: self.url("course/comparison"),
            admin_url: self.admin.then(|| self.url("admin")),
            group_action: self.url("instructor/groups"),
            version_action: self.url("instructor/version"),
            current_version: package.version.clone(),
            other_versions: board
                .other_versions
                .into_iter()
                .map(|v| (v.id, v.version))
                .collect(),
            move_action: self.url("instructor/groups/move"),
            groups: groups(lang, board.groups),
            people: board
                .participants
                .iter()
                .map(|person| (person.id, person_name(lang, Some(person))))
                .collect(),
            waiting_text: lang.tf(
                "instructor-waiting-count",
                &[("count", &waiting.len().to_string())],
            ),
            waiting,
            shown_modules: board
                .shown_modules
                .iter()
                .filter_map(|&i| modules.get(i).cloned())
                .collect(),
            modules,
            statuses: STATUSES
                .iter()
                .map(|s| (s.slug(), lang.t(s.label_key())))
                .collect(),
            filter_module: filter.module,
            filter_status: filter.status,
            filter_group: filter.group,
            rows: board
                .rows
                .iter()
                .map(|row| {
                    table_row(lang, row, |id| {
                        self.url(&format!("instructor/submissions/{id}"))
                    })
                })
                .collect(),
            occasions: board
                .occasions
                .iter()
                .filter_map(|(index, o)| {
                    let module = package.modules.get(*index)?;
                    Some(format!(
                        "{}: {} {}, {}",
                        module.workshop.get(lang),
                        format_date(o.starts_at),
                        format_time(o.starts_at),
                        o.place
                    ))
                })
                .collect(),
        }
    }

    fn waiting(&self, waiting: &[Waiting]) -> Vec<Link> {
        let lang = self.instructor.lang;
        waiting
            .iter()
            .map(|w| {
                let module = self.course.module(&w.submission.module_slug).ok();
                let owner = match &w.owner {
                    Owner::Group => lang.t("instructor-group-answer").to_owned(),
                    Owner::Person(person) => person_name(lang, person.as_ref()),
                };
                Link {
                    url: self.url(&format!("instructor/submissions/{}", w.submission.id)),
                    label: format!(
                        "{} – {}, {}",
                        owner,
                        module.map(|m| m.title.get(lang)).unwrap_or_default(),
                        lang.task_heading(w.task_number)
                    ),
                }
            })
            .collect()
    }
}

fn table_row(lang: Lang, row: &DashboardRow, submission_url: impl Fn(i64) -> String) -> Row {
    Row {
        name: person_name(lang, Some(&row.person)),
        cells: row
            .statuses
            .iter()
            .zip(&row.openable)
            .map(|(status, opens)| {
                let url = opens.map(&submission_url);
                (lang.t(status.label_key()), status.slug(), url)
            })
            .collect(),
        gradebook: row.delivery.as_ref().map(|delivery| {
            let (key, slug) = delivery.label();
            let text = match delivery {
                Delivery::NotGradable(why) => lang.tf(key, &[("reason", why.as_str())]),
                _ => lang.t(key).to_owned(),
            };
            (text, slug)
        }),
    }
}

/// The groups as the page lists them: (form value for a move, name, members, filter value). A
/// municipality's group moves a person back out of any instructor-made group (value ""); with
/// several municipalities in the course, each is filtered on by its name.
fn groups(lang: Lang, groups: Vec<GroupMembers>) -> Vec<(String, String, Vec<String>, String)> {
    let municipalities = groups.iter().filter(|g| g.group.is_none()).count();
    groups
        .into_iter()
        .map(|g| {
            let members = g
                .members
                .iter()
                .map(|person| person_name(lang, Some(person)))
                .collect();
            match (g.group, g.organisation) {
                (Some(group), _) => {
                    let id = group.id.to_string();
                    (id.clone(), group.name, members, id)
                }
                (None, organisation) => {
                    let filter = match (&organisation, municipalities) {
                        (Some(name), 2..) => format!("o:{name}"),
                        _ => "municipality".to_owned(),
                    };
                    let name =
                        organisation.unwrap_or_else(|| lang.t("groups-municipality").to_owned());
                    (String::new(), name, members, filter)
                }
            }
        })
        .collect()
}

fn notice(lang: Lang, query: &InstructorQuery) -> Option<(&'static str, String)> {
    let text = |key: &str| lang.t(key).to_owned();
    match query.notice.as_deref()? {
        "occasion" => Some(("info", text("instructor-occasion-saved"))),
        "decided" => Some(("info", text("instructor-decided"))),
        "synced" => Some((
            "info",
            lang.tf(
                "instructor-roster-synced",
                &[("count", &query.count.unwrap_or(0).to_string())],
            ),
        )),
        "not-offered" => Some(("warning", text("instructor-roster-not-offered"))),
        "cohort-joined" => Some(("info", text("instructor-cohort-joined"))),
        "cohort-unknown" => Some(("warning", text("instructor-cohort-unknown"))),
        "cohort-other-version" => Some(("warning", text("instructor-cohort-other-version"))),
        "cohort-refused" => Some(("warning", text("instructor-cohort-refused"))),
        "sync-failed" => Some(("warning", text("instructor-roster-failed"))),
        _ => None,
    }
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

page_template!(DashboardPage<'a>);
