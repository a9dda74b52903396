//! The contact person's view: the progress and self-assessment aggregates of their own
//! organisation's LMS courses, and nothing of any other organisation. The grant lives in the tool
//! (`coursebridge contact grant`), never in LMS roles.
use askama::Template;
use axum::{extract::State, http::StatusCode, response::Response};

use super::{
    aggregates::median_label,
    launched::{Launched, page_url},
};
use crate::web::page::{PageContext, page_template};
use crate::{
    course::AssessmentRound,
    error::{AppError, InLang, render},
    learning::{
        aggregates::{self, RoundFigures},
        review,
    },
    state::AppState,
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
}

#[derive(Template)]
#[template(path = "organisation.html")]
struct OrganisationPage {
    page: PageContext,
    overview_url: String,
    organisations: Vec<OrganisationView>,
}

/// `GET /organisation`.
pub async fn show_organisation(
    State(app): State<AppState>,
    Launched { session, lang }: Launched,
) -> Result<Response, AppError> {
    let token = session.link_token.clone();
    let names = review::contact_organisations(&app.db, &session)
        .await
        .in_lang(lang)?;
    if names.is_empty() {
        tracing::warn!(
            user = session.uid,
            "organisation page refused to a non-contact person"
        );
        return Err(AppError::Forbidden { lang });
    }
    let k = app.config.aggregate_min_respondents;
    let mut organisations = Vec::new();
    for (name, contexts) in names {
        let mut courses = Vec::new();
        for context in contexts {
            let course = app
                .courses
                .for_context(&app.db, context.id)
                .await
                .in_lang(lang)?;
            let board = review::dashboard(&app.db, &course, context.deployment_id)
                .await
                .in_lang(lang)?;
            let framework = &course.package.framework;
            let aggregates = aggregates::of_course(&app.db, &course, k)
                .await
                .in_lang(lang)?
                .into_iter()
                .map(|(round, figures)| {
                    let title = lang.t(match round {
                        AssessmentRound::Baseline => "assessment-baseline",
                        AssessmentRound::Final => "assessment-final",
                    });
                    match figures {
                        RoundFigures::Suppressed { .. } => format!(
                            "{title}: {}",
                            lang.tf(
                                "aggregates-suppressed",
                                &[("count", "0"), ("k", &k.to_string())]
                            )
                        ),
                        RoundFigures::Shown {
                            respondents,
                            subareas,
                        } => {
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
                    }
                })
                .collect();
            courses.push(CourseView {
                title: context
                    .title
                    .clone()
                    .unwrap_or_else(|| course.package.title.get(lang).to_owned()),
                modules: course
                    .package
                    .modules
                    .iter()
                    .map(|m| m.title.get(lang).to_owned())
                    .collect(),
                rows: board
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
                aggregates,
            });
        }
        organisations.push(OrganisationView { name, courses });
    }
    let page = OrganisationPage {
        page: PageContext::launched(&app, lang, &token),
        overview_url: page_url(&app, "course", &token),
        organisations,
    };
    Ok(render(&page, StatusCode::OK))
}

page_template!(OrganisationPage);
