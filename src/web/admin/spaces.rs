//! `GET /admin/spaces`: network spaces, for system administrators: opening a space for a role
//! across course runs, inviting people from any municipality, naming its moderators.
use askama::Template;
use axum::{
    extract::{Form, Path, Query, State, rejection::FormRejection},
    http::StatusCode,
    response::Response,
};
use serde::Deserialize;

use super::{Admin, AdminQuery, Nav, back, nav, scope_line};
use crate::{
    admin::{
        self,
        spaces::{CreateError, SpaceOverview, SpaceProblem},
    },
    i18n::Lang,
    state::{App, AppState},
    web::{
        error::{AppError, InLang, form_or_400, render},
        page::{PageContext, page_template},
    },
};

struct SpaceRow {
    id: i64,
    name: String,
    description: String,
    /// (name, organisation, "moderator"/"invited" notes).
    members: Vec<(String, String, String)>,
    invite_action: String,
}

/// The create form as sent, and what is wrong with it: (field id, message).
#[derive(Default)]
struct CreateState {
    name: String,
    description: String,
    problem: Option<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "admin_spaces.html")]
struct SpacesPage {
    page: PageContext,
    nav: Nav,
    scope_line: String,
    notice: Option<&'static str>,
    spaces: Vec<SpaceRow>,
    /// (person id, "name, organisation").
    people: Vec<(i64, String)>,
    create_action: String,
    form: CreateState,
}
page_template!(SpacesPage);

/// `GET /admin/spaces`.
pub async fn show_spaces(
    State(app): State<AppState>,
    Query(query): Query<AdminQuery>,
    admin: Admin,
) -> Result<Response, AppError> {
    let notice = match query.notice.as_deref() {
        Some("space-created") => Some(admin.lang.t("admin-space-created")),
        Some("space-invited") => Some(admin.lang.t("admin-space-invited")),
        _ => None,
    };
    spaces_page(&app, &admin, notice, CreateState::default(), StatusCode::OK).await
}

async fn spaces_page(
    app: &App,
    admin: &Admin,
    notice: Option<&'static str>,
    form: CreateState,
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang = admin.lang;
    let spaces = admin::spaces::list(&app.db, &admin.principal)
        .await
        .in_lang(lang)?;
    let people = admin::spaces::people_to_invite(&app.db, &admin.principal)
        .await
        .in_lang(lang)?;
    let unnamed = lang.t("instructor-unnamed");
    let page = SpacesPage {
        page: PageContext::launched(app, lang, &admin.token),
        nav: nav(app, admin),
        scope_line: scope_line(admin),
        notice,
        spaces: spaces
            .into_iter()
            .map(|s| space_row(app, admin, s))
            .collect(),
        people: people
            .into_iter()
            .map(|(id, name, organisation)| {
                let name = name.unwrap_or_else(|| unnamed.to_owned());
                let label = match organisation {
                    Some(organisation) => format!("{name}, {organisation}"),
                    None => name,
                };
                (id, label)
            })
            .collect(),
        create_action: admin.url(app, "admin/spaces"),
        form,
    };
    Ok(render(&page, status))
}

fn space_row(app: &App, admin: &Admin, overview: SpaceOverview) -> SpaceRow {
    let lang = admin.lang;
    SpaceRow {
        id: overview.space.id,
        invite_action: admin.url(app, &format!("admin/spaces/{}/members", overview.space.id)),
        name: overview.space.name,
        description: overview.space.description,
        members: overview
            .members
            .into_iter()
            .map(|m| {
                let mut notes = Vec::new();
                if m.moderator {
                    notes.push(lang.t("admin-space-moderator"));
                }
                if m.invited {
                    notes.push(lang.t("admin-space-invited-note"));
                }
                let name = m
                    .name
                    .unwrap_or_else(|| lang.t("instructor-unnamed").to_owned());
                (name, m.organisation, notes.join(", "))
            })
            .collect(),
    }
}

#[derive(Debug, Deserialize)]
pub struct CreateForm {
    name: Option<String>,
    description: Option<String>,
}

/// `POST /admin/spaces`: opens a space, or shows the form again with what is wrong.
pub async fn create_space(
    State(app): State<AppState>,
    admin: Admin,
    form: Result<Form<CreateForm>, FormRejection>,
) -> Result<Response, AppError> {
    let lang = admin.lang;
    let form = form_or_400(form, lang)?;
    let sent = CreateState {
        name: form.name.unwrap_or_default(),
        description: form.description.unwrap_or_default(),
        problem: None,
    };
    let fields = (sent.name.as_str(), sent.description.as_str());
    match admin::spaces::create(&app.db, &admin.principal, fields).await {
        Ok(_) => Ok(back(&app, &admin, "admin/spaces", "space-created")),
        Err(CreateError::Problem(problem)) => {
            let form = CreateState {
                problem: Some(field_problem(lang, problem)),
                ..sent
            };
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            spaces_page(&app, &admin, None, form, status).await
        }
        Err(CreateError::Admin(err)) => Err(err).in_lang(lang),
    }
}

fn field_problem(lang: Lang, problem: SpaceProblem) -> (&'static str, &'static str) {
    match problem {
        SpaceProblem::Name => ("space-name", lang.t("admin-space-problem-name")),
        SpaceProblem::NameTaken => ("space-name", lang.t("admin-space-problem-taken")),
        SpaceProblem::Description => (
            "space-description",
            lang.t("admin-space-problem-description"),
        ),
    }
}

#[derive(Debug, Deserialize)]
pub struct InviteForm {
    person: Option<i64>,
    /// `moderator` or `member`.
    role: Option<String>,
}

/// `POST /admin/spaces/{id}/members`: invites a person, as a member or a moderator.
pub async fn invite_to_space(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    admin: Admin,
    form: Result<Form<InviteForm>, FormRejection>,
) -> Result<Response, AppError> {
    let lang = admin.lang;
    let form = form_or_400(form, lang)?;
    let Some(person) = form.person else {
        let detail = "a person is needed".into();
        return Err(AppError::BadRequest { detail, lang });
    };
    let moderator = form.role.as_deref() == Some("moderator");
    admin::spaces::invite(&app.db, &admin.principal, (id, person), moderator)
        .await
        .in_lang(lang)?;
    Ok(back(&app, &admin, "admin/spaces", "space-invited"))
}
