//! Deep linking: an instructor's `LtiDeepLinkingRequest` opens a picker of the course overview, each
//! module and the self-assessments; the choice goes back to the LMS as a signed
//! `LtiDeepLinkingResponse`, auto-posted to the platform's return URL. Between the launch and the
//! choice, the request's settings travel signed in the page (no server state, no cookie).
use askama::Template;
use axum::{
    body::Bytes,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::web::language::BrowserLanguage;
use crate::web::page::{PageContext, page_template};
use crate::{
    admission::Admitted,
    course::CoursePackage,
    grades::{
        GradeMode,
        score::{COURSE_FRACTION, COURSE_PASS, COURSE_TAG, MODULE_TAG},
    },
    i18n::Lang,
    lti::{
        claims::ToolRole,
        deep_linking::{self, LineItem, Parties, ResourceLink, Settings},
    },
    session::Session,
    state::{App, AppState},
    web::error::{AppError, MessagePage, render},
};

/// What the picker carries between the launch and the choice.
#[derive(Debug, Serialize, Deserialize)]
struct PendingDeepLink {
    /// Always `deep-linking`: a session token is never taken for this, nor this for a session.
    purpose: String,
    session: Session,
    settings: Settings,
    issuer: String,
    client_id: String,
    deployment_id: String,
    exp: i64,
}

impl crate::session::Expiring for PendingDeepLink {
    fn exp(&self) -> i64 {
        self.exp
    }
}

const PURPOSE: &str = "deep-linking";

/// The launch's answer: a 303 to the picker, or a page saying why there is none.
pub fn begin(app: &App, admitted: &Admitted) -> Response {
    let session = &admitted.session;
    let lang = session.page_language();
    if session.role != ToolRole::Instructor {
        tracing::warn!(
            user = session.uid,
            "deep linking refused: not an instructor"
        );
        return AppError::Forbidden { lang }.into_response();
    }
    let Some(settings) = admitted.deep_linking.clone() else {
        return AppError::BadRequest {
            detail: "deep linking settings missing".into(),
            lang,
        }
        .into_response();
    };
    if !settings.accepts_resource_links() {
        tracing::warn!(accept_types = ?settings.accept_types, "deep linking refused: no ltiResourceLink");
        return message(
            app,
            lang,
            "deep-linking-unsupported-title",
            "deep-linking-unsupported",
            StatusCode::BAD_REQUEST,
        );
    }
    let (issuer, client_id, deployment_id) = admitted.addressed.clone();
    let pending = PendingDeepLink {
        purpose: PURPOSE.into(),
        session: session.clone(),
        settings,
        issuer,
        client_id,
        deployment_id,
        exp: session.exp,
    };
    match app.sessions.issue_claims(&pending) {
        Ok(token) => {
            let mut url = app.url("lti/deep-linking");
            url.query_pairs_mut().append_pair("dl", &token);
            Redirect::to(url.as_str()).into_response()
        }
        Err(err) => AppError::Internal(anyhow::anyhow!(err)).into_response(),
    }
}

fn message(app: &App, lang: Lang, title: &str, text: &str, status: StatusCode) -> Response {
    render(
        &MessagePage {
            page: PageContext::public(app, lang),
            title: lang.t(title),
            message: lang.t(text),
            code: None,
            detail: None,
            request_id: crate::web::request_id::current(),
        },
        status,
    )
}

/// One thing the instructor can place.
struct Choice {
    id: String,
    title: String,
    text: String,
}

fn choices(lang: Lang, course: &CoursePackage) -> Vec<Choice> {
    let mut choices = vec![Choice {
        id: "course".into(),
        title: course.title.get(lang).to_owned(),
        text: lang.t("deep-linking-course-text").to_owned(),
    }];
    choices.extend(course.modules.iter().map(|module| Choice {
        id: format!("m:{}", module.slug),
        title: module.title.get(lang).to_owned(),
        text: lang.tf(
            "deep-linking-module-text",
            &[("workshop", module.workshop.get(lang))],
        ),
    }));
    for round in ["baseline", "final"] {
        choices.push(Choice {
            id: format!("a:{round}"),
            title: lang.t(&format!("assessment-{round}")).to_owned(),
            text: lang.t("deep-linking-assessment-text").to_owned(),
        });
    }
    choices
}

#[derive(Template)]
#[template(path = "deep_linking.html")]
struct PickerPage<'a> {
    page: PageContext,
    action: String,
    token: &'a str,
    multiple: bool,
    auto_create: bool,
    choices: Vec<Choice>,
    problem: Option<&'static str>,
}

/// The query of the picker.
#[derive(Debug, Deserialize)]
pub struct PickerQuery {
    dl: Option<String>,
}

fn pending_of(app: &App, token: Option<&str>, lang: Lang) -> Result<PendingDeepLink, AppError> {
    let pending: PendingDeepLink = token
        .and_then(|token| app.sessions.verify_claims(token, app.clock.now_unix()).ok())
        .ok_or(AppError::Session { lang })?;
    if pending.purpose != PURPOSE || pending.session.role != ToolRole::Instructor {
        return Err(AppError::Session { lang });
    }
    Ok(pending)
}

async fn course_of(
    app: &App,
    session: &Session,
    lang: Lang,
) -> Result<std::sync::Arc<CoursePackage>, AppError> {
    let course_error = |error| AppError::Course { error, lang };
    match session.cid {
        Some(context) => Ok(app
            .courses
            .for_context(&app.db, context)
            .await
            .map_err(course_error)?
            .package),
        None => app
            .courses
            .latest_package(&app.db)
            .await
            .map_err(course_error),
    }
}

fn picker(
    app: &App,
    pending: &PendingDeepLink,
    token: &str,
    course: &CoursePackage,
    problem: Option<&'static str>,
    status: StatusCode,
) -> Response {
    let lang = pending.session.page_language();
    render(
        &PickerPage {
            page: PageContext::public(app, lang),
            action: app.url("lti/deep-linking").to_string(),
            token,
            multiple: pending.settings.accept_multiple,
            auto_create: pending.settings.auto_create,
            choices: choices(lang, course),
            problem,
        },
        status,
    )
}

/// `GET /lti/deep-linking?dl=…`: the picker.
pub async fn show_picker(
    State(app): State<AppState>,
    BrowserLanguage(browser): BrowserLanguage,
    Query(query): Query<PickerQuery>,
) -> Result<Response, AppError> {
    let pending = pending_of(&app, query.dl.as_deref(), browser)?;
    let lang = pending.session.page_language();
    let course = course_of(&app, &pending.session, lang).await?;
    let token = query.dl.unwrap_or_default();
    Ok(picker(
        &app,
        &pending,
        &token,
        &course,
        None,
        StatusCode::OK,
    ))
}

#[derive(Template)]
#[template(path = "deep_linking_return.html")]
struct ReturnPage<'a> {
    page: PageContext,
    return_url: &'a str,
    jwt: String,
    text: String,
}

fn line_item(score_maximum: f64, label: &str, resource_id: &str, tag: &str) -> Option<LineItem> {
    Some(LineItem {
        score_maximum,
        label: label.to_owned(),
        resource_id: resource_id.to_owned(),
        tag: tag.to_owned(),
    })
}

/// The chosen items as resource links, with a gradebook column where the grade mode wants one.
fn resource_links(
    lang: Lang,
    course: &CoursePackage,
    mode: GradeMode,
    chosen: &[String],
) -> Option<Vec<ResourceLink>> {
    let all = choices(lang, course);
    let required = course.modules.iter().filter(|m| m.required).count().max(1) as f64;
    chosen
        .iter()
        .map(|id| {
            let choice = all.iter().find(|c| &c.id == id)?;
            let mut custom = serde_json::Map::new();
            let line_item = if id == "course" {
                match mode {
                    GradeMode::CourseFraction => {
                        line_item(required, &choice.title, COURSE_FRACTION, COURSE_TAG)
                    }
                    GradeMode::CoursePass => line_item(1.0, &choice.title, COURSE_PASS, COURSE_TAG),
                    GradeMode::PerModule => None,
                }
            } else if let Some(slug) = id.strip_prefix("m:") {
                custom.insert("module".into(), json!(slug));
                (mode == GradeMode::PerModule)
                    .then(|| line_item(1.0, &choice.title, slug, MODULE_TAG))
                    .flatten()
            } else {
                let round = id.strip_prefix("a:")?;
                custom.insert("assessment".into(), json!(round));
                None
            };
            Some(ResourceLink {
                title: choice.title.clone(),
                text: choice.text.clone(),
                custom,
                line_item,
            })
        })
        .collect()
}

/// `POST /lti/deep-linking`: the instructor's choice, signed and sent back to the LMS.
pub async fn choose(
    State(app): State<AppState>,
    BrowserLanguage(browser): BrowserLanguage,
    body: Bytes,
) -> Result<Response, AppError> {
    let (token, mut chosen) = read_choice(&body);
    let pending = pending_of(&app, token.as_deref(), browser)?;
    let token = token.unwrap_or_default();
    let lang = pending.session.page_language();
    let course = course_of(&app, &pending.session, lang).await?;
    chosen.dedup();
    if chosen.is_empty() {
        let problem = Some("deep-linking-choose-one");
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(picker(&app, &pending, &token, &course, problem, status));
    }
    let (jwt, count) = signed_choice(&app, &pending, &course, &chosen, lang).await?;
    tracing::info!(
        items = count,
        instructor = pending.session.uid,
        deployment = pending.session.did,
        "deep linking response sent"
    );
    Ok(return_page(&app, &pending, jwt, count, lang).await)
}

/// The picker's form: the deep-linking token and the items chosen.
fn read_choice(body: &[u8]) -> (Option<String>, Vec<String>) {
    let mut token = None;
    let mut chosen = Vec::new();
    for (key, value) in url::form_urlencoded::parse(body) {
        match key.as_ref() {
            "dl" => token = Some(value.into_owned()),
            "item" => chosen.push(value.into_owned()),
            _ => {}
        }
    }
    (token, chosen)
}

/// The signed deep-linking response for the items chosen, and how many there are.
async fn signed_choice(
    app: &App,
    pending: &PendingDeepLink,
    course: &CoursePackage,
    chosen: &[String],
    lang: Lang,
) -> Result<(String, usize), AppError> {
    if chosen.len() > 1 && !pending.settings.accept_multiple {
        return Err(AppError::BadRequest {
            detail: "the LMS accepts one item here".into(),
            lang,
        });
    }
    let mode = crate::admission::grade_mode_of(&app.db, pending.session.did)
        .await
        .map_err(|err| AppError::Internal(err.into()))?;
    let items = resource_links(lang, course, mode, chosen).ok_or(AppError::BadRequest {
        detail: "unknown item".into(),
        lang,
    })?;
    let key = crate::tool_key::signing_key(&app.db)
        .await
        .map_err(|err| AppError::Internal(err.into()))?;
    let parties = Parties {
        client_id: &pending.client_id,
        platform_issuer: &pending.issuer,
        deployment_id: &pending.deployment_id,
    };
    let now = app.clock.now_unix();
    let jwt = deep_linking::sign_response(&key, &parties, &pending.settings, &items, now)
        .map_err(|err| AppError::Internal(err.into()))?;
    Ok((jwt, items.len()))
}

/// The page that posts the response back to the platform.
async fn return_page(
    app: &App,
    pending: &PendingDeepLink,
    jwt: String,
    count: usize,
    lang: Lang,
) -> Response {
    // The auto-posted form goes to the platform's return URL, which may be on a host of its own.
    let return_origin = crate::lti::web_origin(&pending.settings.return_url);
    let csp = super::content_security_policy(
        &super::framing_origins(app).await,
        return_origin.as_slice(),
    );
    let mut page = render(
        &ReturnPage {
            page: PageContext::public(app, lang),
            return_url: &pending.settings.return_url,
            jwt,
            text: lang.tf("deep-linking-return-text", &[("count", &count.to_string())]),
        },
        StatusCode::OK,
    );
    if let Ok(csp) = axum::http::HeaderValue::from_str(&csp) {
        page.headers_mut()
            .insert(axum::http::header::CONTENT_SECURITY_POLICY, csp);
    }
    page
}

page_template!(PickerPage<'a>, ReturnPage<'a>);
