//! The contact person's view: the progress and self-assessment aggregates of their own
//! organisation's LMS courses, and nothing of any other organisation. The grant lives in the tool
//! (`coursebridge contact grant`), never in LMS roles.
use askama::Template;
use axum::{extract::State, http::StatusCode, response::Response};

use super::{aggregates::median_label, launched::Launched};
use crate::web::page::{PageContext, page_template, page_url};
use crate::{
    course::{AssessmentRound, Framework},
    i18n::Lang,
    learning::{
        aggregates::RoundFigures,
        contact::{self, CohortFollowUp},
    },
    state::AppState,
    web::error::{AppError, InLang, render},
};

struct CourseView {
    title: String,
    modules: Vec<String>,
    rows: Vec<(String, Vec<&'static str>)>,
    aggregates: Vec<String>,
}

struct OrganisationView {
    name: String,
    courses: Vec<CourseView>,
    /// Its people, for the placement form: (person id, name).
    people: Vec<(i64, String)>,
}

#[derive(Template)]
#[template(path = "organisation.html")]
struct OrganisationPage {
    page: PageContext,
    overview_url: String,
    organisations: Vec<OrganisationView>,
    place_action: String,
    /// Every organisation a person can be placed in.
    all_organisations: Vec<String>,
    /// The notice after a change, if any.
    notice: Option<&'static str>,
    grant_action: String,
    /// Network spaces a person can be given a place in: (id, name).
    spaces: Vec<(i64, String)>,
}

/// `GET /organisation`.
pub async fn show_organisation(
    State(app): State<AppState>,
    axum::extract::Query(query): axum::extract::Query<super::launched::PageQuery>,
    launched: Launched,
) -> Result<Response, AppError> {
    let (session, lang) = (&launched.session, launched.lang);
    let k = app.config.aggregate_min_respondents;
    let Some(organisations) = contact::follow_up(&app.db, &app.courses, session, k)
        .await
        .in_lang(lang)?
    else {
        tracing::warn!(
            user = session.uid,
            "organisation page refused to a non-contact person"
        );
        return Err(AppError::Forbidden { lang });
    };
    let all_organisations = contact::organisation_names(&app.db).await.in_lang(lang)?;
    let spaces = crate::learning::spaces::all(&app.db).await.in_lang(lang)?;
    let page = OrganisationPage {
        page: launched.page(&app),
        overview_url: page_url(&app, "course", launched.token()),
        organisations: organisations
            .into_iter()
            .map(|org| organisation_view(lang, k, org))
            .collect(),
        place_action: page_url(&app, "organisation/place", launched.token()),
        all_organisations,
        notice: notice(lang, query.notice.as_deref()),
        grant_action: page_url(&app, "organisation/spaces", launched.token()),
        spaces: spaces.into_iter().map(|s| (s.id, s.name)).collect(),
    };
    Ok(render(&page, StatusCode::OK))
}

/// The notice after a placement or a grant.
fn notice(lang: Lang, key: Option<&str>) -> Option<&'static str> {
    match key? {
        "placed" => Some(lang.t("organisation-placed")),
        "granted" => Some(lang.t("organisation-space-granted")),
        _ => None,
    }
}

fn organisation_view(lang: Lang, k: usize, org: contact::OrganisationFollowUp) -> OrganisationView {
    let mut people: Vec<(i64, String)> = Vec::new();
    for cohort in &org.cohorts {
        for row in &cohort.board.rows {
            if !people.iter().any(|(id, _)| *id == row.person.id) {
                let name = row
                    .person
                    .name
                    .clone()
                    .unwrap_or_else(|| lang.t("instructor-unnamed").to_owned());
                people.push((row.person.id, name));
            }
        }
    }
    OrganisationView {
        courses: org
            .cohorts
            .iter()
            .map(|cohort| course_view(lang, k, cohort))
            .collect(),
        name: org.name,
        people,
    }
}

/// The placement form.
#[derive(Debug, serde::Deserialize)]
pub struct PlaceForm {
    person: Option<i64>,
    organisation: Option<String>,
}

/// `POST /organisation/place`: a contact person corrects where one of their people belongs.
pub async fn place_person(
    State(app): State<AppState>,
    launched: Launched,
    form: Result<axum::Form<PlaceForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, AppError> {
    use axum::response::IntoResponse;
    let lang = launched.lang;
    let form = crate::web::error::form_or_400(form, lang)?;
    let (Some(person), Some(organisation)) = (form.person, form.organisation) else {
        return Err(AppError::BadRequest {
            detail: "person and organisation are needed".into(),
            lang,
        });
    };
    let now_ms = app.clock.now_ms();
    match contact::place(&app.db, &launched.session, person, &organisation, now_ms).await {
        Ok(()) => {
            let back = format!(
                "{}&notice=placed",
                page_url(&app, "organisation", launched.token())
            );
            Ok(axum::response::Redirect::to(&back).into_response())
        }
        Err(contact::PlaceError::Db(err)) => Err(AppError::Internal(err.into())),
        Err(contact::PlaceError::NotTheirs) => Err(AppError::NotFound { lang }),
        Err(contact::PlaceError::UnknownOrganisation) => {
            let message = lang.t("organisation-place-unknown").to_owned();
            Err(AppError::Invalid { message, lang })
        }
    }
}

fn course_view(lang: Lang, k: usize, cohort: &CohortFollowUp) -> CourseView {
    let package = &cohort.course.package;
    CourseView {
        title: cohort
            .context
            .title
            .clone()
            .unwrap_or_else(|| package.title.get(lang).to_owned()),
        modules: package
            .modules
            .iter()
            .map(|m| m.title.get(lang).to_owned())
            .collect(),
        rows: cohort
            .board
            .rows
            .iter()
            .map(|row| {
                (
                    row.person
                        .name
                        .clone()
                        .unwrap_or_else(|| lang.t("instructor-unnamed").to_owned()),
                    row.statuses.iter().map(|s| lang.t(s.label_key())).collect(),
                )
            })
            .collect(),
        aggregates: cohort
            .rounds
            .iter()
            .map(|(round, figures)| round_line(lang, &package.framework, k, *round, figures))
            .collect(),
    }
}

/// One round's figures in a line: the medians per sub-area, or that they are withheld.
fn round_line(
    lang: Lang,
    framework: &Framework,
    k: usize,
    round: AssessmentRound,
    figures: &RoundFigures,
) -> String {
    let title = lang.t(match round {
        AssessmentRound::Baseline => "assessment-baseline",
        AssessmentRound::Final => "assessment-final",
    });
    let (respondents, subareas) = match figures {
        RoundFigures::Suppressed { .. } => {
            let withheld = lang.tf(
                "aggregates-suppressed",
                &[("count", "0"), ("k", &k.to_string())],
            );
            return format!("{title}: {withheld}");
        }
        RoundFigures::Shown {
            respondents,
            subareas,
        } => (respondents, subareas),
    };
    let medians = subareas
        .iter()
        .filter_map(|figures| {
            let label = framework
                .subareas
                .iter()
                .find(|s| s.slug == figures.subarea)?
                .label
                .get(lang);
            Some(format!(
                "{label} {} → {}",
                median_label(framework, lang, figures.current_median),
                median_label(framework, lang, figures.target_median)
            ))
        })
        .collect::<Vec<_>>()
        .join("; ");
    format!(
        "{title}: {} {}: {medians}",
        lang.tf(
            "aggregates-respondents",
            &[("count", &respondents.to_string())]
        ),
        lang.t("organisation-medians")
    )
}

page_template!(OrganisationPage);
