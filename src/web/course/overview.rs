//! `GET /course`: the course overview, with the participant's progress and the next workshop.
use std::collections::HashMap;

use askama::Template;
use axum::{extract::State, http::StatusCode, response::Response};

use super::contact_organisations;
use crate::{
    course::{
        CoursePackage, Module,
        completion::{self},
    },
    i18n::Lang,
    learning::{context::ContextCourse, standing::Standing},
    lti::claims::ToolRole,
    state::{App, AppState},
    web::{
        error::{AppError, InLang, render},
        launched::{Launched, welcome},
        page::{PageContext, page_template, page_url},
    },
};

struct ModuleCard {
    slug: String,
    title: String,
    workshop: String,
    required: bool,
    url: String,
    status_label: &'static str,
    status_class: &'static str,
    /// The module's reflection tasks and self-assessments, each with whether it is handed in.
    items: Vec<(String, bool)>,
}

#[derive(Template)]
#[template(path = "course_overview.html")]
struct OverviewPage<'a> {
    page: PageContext,
    course_title: &'a str,
    welcome: String,
    context_title: Option<&'a str>,
    role_label: &'static str,
    progress_text: String,
    required_done: usize,
    required_total: usize,
    course_complete: bool,
    next_workshop: Option<String>,
    /// Where the participant left off: the first module not yet complete (title, address).
    resume: Option<(String, String)>,
    /// The workshop calendar: the download, and the feed address when one can be made.
    calendar_url: Option<String>,
    calendar_feed: Option<String>,
    my_answers_url: String,
    comparison_url: String,
    organisation_url: Option<String>,
    admin_url: Option<String>,
    /// The network spaces link, with how many invitations wait: shown to people in a space.
    spaces: Option<(String, Option<String>)>,
    modules: Vec<ModuleCard>,
}

/// The organisations a person is contact person for (cached for the registry TTL).
fn role_label(lang: Lang, role: ToolRole) -> &'static str {
    lang.t(match role {
        ToolRole::Participant => "role-participant",
        ToolRole::Instructor => "role-instructor",
    })
}

/// Renders the course overview.
pub async fn overview(app: &App, launched: &Launched) -> Result<Response, AppError> {
    let (session, lang) = (&launched.session, launched.lang);
    let course = app
        .courses
        .for_session(&app.db, session)
        .await
        .in_lang(lang)?;
    let (standing, spaces) = crate::learning::landing::overview(&app.db, &course, session)
        .await
        .in_lang(lang)?;
    let spaces = spaces_link(app, launched, &spaces);
    let occasions = occasions_of(app, course.context_id).await.in_lang(lang)?;
    let contact = !contact_organisations(app, session.uid)
        .await
        .in_lang(lang)?
        .is_empty();
    let admin = crate::web::launched::has_admin_role(app, session)
        .await
        .in_lang(lang)?;
    let view = OverviewView {
        app,
        launched,
        course: &course,
        standing: &standing,
    };
    let mut page = view.page(&occasions, contact, admin);
    page.spaces = spaces;
    Ok(render(&page, StatusCode::OK))
}

/// The link to the person's network spaces, with the invitations waiting; none for a person in
/// no space.
fn spaces_link(
    app: &App,
    launched: &Launched,
    spaces: &[crate::learning::spaces::MySpace],
) -> Option<(String, Option<String>)> {
    if spaces.is_empty() {
        return None;
    }
    let lang = launched.lang;
    let invited = spaces.iter().filter(|s| s.invited).count();
    let invited =
        (invited > 0).then(|| lang.tf("spaces-invitations", &[("count", &invited.to_string())]));
    Some((page_url(app, "spaces", launched.token()), invited))
}

/// Workshop occasions of a context, briefly cached: every overview shows the next one.
async fn occasions_of(
    app: &App,
    context_id: i64,
) -> Result<HashMap<String, entity::workshop_occasion::Model>, sea_orm::DbErr> {
    if let Some(cached) = app.occasions.get(&context_id) {
        return Ok(cached);
    }
    let read = crate::learning::review::occasions(&app.db, context_id).await?;
    app.occasions.insert(context_id, read.clone());
    Ok(read)
}

/// What the overview is built from.
struct OverviewView<'a> {
    app: &'a App,
    launched: &'a Launched,
    course: &'a ContextCourse,
    standing: &'a Standing,
}

impl<'a> OverviewView<'a> {
    fn url(&self, path: &str) -> String {
        page_url(self.app, path, self.launched.token())
    }

    fn page(
        &self,
        occasions: &HashMap<String, entity::workshop_occasion::Model>,
        contact: bool,
        admin: bool,
    ) -> OverviewPage<'a> {
        let (launched, package): (&'a Launched, &'a CoursePackage) =
            (self.launched, &self.course.package);
        let lang = launched.lang;
        let progress = self.standing.progress(package);
        let (done, total) = completion::required_modules_complete(package, &progress);
        OverviewPage {
            page: launched.page(self.app),
            course_title: package.title.get(lang),
            welcome: welcome(lang, launched.session.name.as_deref()),
            context_title: launched.session.ctx.as_deref(),
            role_label: role_label(lang, launched.session.role),
            progress_text: lang.tf(
                "overview-progress-text",
                &[("done", &done.to_string()), ("total", &total.to_string())],
            ),
            required_done: done,
            required_total: total.max(1),
            course_complete: completion::course_complete(package, &progress),
            next_workshop: self
                .standing
                .next_module(package)
                .map(|module| next_workshop(lang, module, occasions.get(&module.slug))),
            resume: self.standing.next_module(package).map(|module| {
                (
                    module.title.get(lang).to_owned(),
                    self.url(&format!("course/m/{}", module.slug)),
                )
            }),
            calendar_url: (!occasions.is_empty()).then(|| self.url("course/calendar.ics")),
            calendar_feed: (!occasions.is_empty())
                .then(|| {
                    let now = self.app.clock.now_unix();
                    crate::learning::calendar::feed_token(
                        &self.app.sessions,
                        &launched.session,
                        now,
                    )
                })
                .flatten()
                .map(|token| {
                    self.app
                        .url(&format!("calendar/{token}/workshops.ics"))
                        .to_string()
                }),
            my_answers_url: self.url("course/my-answers"),
            comparison_url: self.url("course/comparison"),
            organisation_url: contact.then(|| self.url("organisation")),
            admin_url: admin.then(|| self.url("admin")),
            spaces: None,
            modules: package
                .modules
                .iter()
                .map(|module| {
                    let status = self.standing.module_status(module);
                    ModuleCard {
                        slug: module.slug.clone(),
                        title: module.title.get(lang).to_owned(),
                        workshop: module.workshop.get(lang).to_owned(),
                        required: module.required,
                        url: self.url(&format!("course/m/{}", module.slug)),
                        status_label: lang.t(status.label_key()),
                        status_class: status.slug(),
                        items: module_items(lang, module, self.standing),
                    }
                })
                .collect(),
        }
    }
}

/// What a module asks of the participant, in its order, each with whether it is handed in
/// (submitted or approved; a self-assessment submitted).
fn module_items(lang: Lang, module: &Module, standing: &Standing) -> Vec<(String, bool)> {
    use crate::course::{AssessmentRound, Block, completion::SubmissionStatus};
    let mut number = 0;
    module
        .blocks
        .iter()
        .filter_map(|block| match block {
            Block::Reflection(task) => {
                number += 1;
                let done = matches!(
                    standing.status(&module.slug, &task.slug),
                    Some(SubmissionStatus::Submitted | SubmissionStatus::Approved)
                );
                Some((lang.task_heading(number), done))
            }
            Block::SelfAssessment { round } => {
                let key = match round {
                    AssessmentRound::Baseline => "assessment-baseline",
                    AssessmentRound::Final => "assessment-final",
                };
                Some((
                    lang.t(key).to_owned(),
                    standing.assessment_submitted(*round),
                ))
            }
            _ => None,
        })
        .collect()
}

/// "Next: workshop 2 (Koordination), 3 March at 13:00, Umeå" or "…, date to be set".
fn next_workshop(
    lang: Lang,
    module: &Module,
    occasion: Option<&entity::workshop_occasion::Model>,
) -> String {
    let what = lang.tf(
        "overview-next-workshop",
        &[
            ("workshop", module.workshop.get(lang)),
            ("module", module.title.get(lang)),
        ],
    );
    let when = match occasion {
        Some(occasion) => lang.tf(
            "overview-next-workshop-when",
            &[
                ("date", &crate::i18n::format_date(occasion.starts_at)),
                ("time", &crate::i18n::format_time(occasion.starts_at)),
                ("place", &occasion.place),
            ],
        ),
        None => lang.t("overview-next-workshop-date-pending").to_owned(),
    };
    format!("{what} {when}")
}

/// `GET /course` (and `/home`).
pub async fn show_overview(
    State(app): State<AppState>,
    launched: Launched,
) -> Result<Response, AppError> {
    if launched.session.cid.is_none() {
        return Ok(crate::web::pages::landing(
            &app,
            &launched.session,
            launched.token(),
        ));
    }
    overview(&app, &launched).await
}

page_template!(OverviewPage<'a>);
