//! `GET /course/my-answers` and `GET /course/my-answers.pdf`: the participant's own answers and
//! self-assessment results in one document, for their development plan. The page prints cleanly
//! (the print stylesheet leaves out the navigation); the PDF is the same content, tagged, from
//! [`crate::pdf`].
use askama::Template;
use axum::{
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::{
    course::{AssessmentRound, Block, CoursePackage, completion::SubmissionStatus},
    i18n::Lang,
    learning::{assessment, participant, standing::Standing},
    pdf::{self, Block as Block_},
    state::AppState,
    web::{
        error::{AppError, InLang, render},
        launched::Launched,
        page::{PageContext, page_template, page_url},
    },
};

struct TaskAnswers {
    heading: String,
    status: &'static str,
    answers: Vec<(String, String)>,
}

struct ModuleAnswers {
    title: String,
    tasks: Vec<TaskAnswers>,
}

struct RoundResult {
    heading: &'static str,
    /// (sub-area, where it stands, where it should be)
    rows: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "course_my_answers.html")]
struct MyAnswersPage {
    page: PageContext,
    overview_url: String,
    pdf_url: String,
    course_title: String,
    who: Option<String>,
    modules: Vec<ModuleAnswers>,
    rounds: Vec<RoundResult>,
}

/// What the document holds, for the page and the PDF alike.
struct MyAnswers {
    course_title: String,
    modules: Vec<ModuleAnswers>,
    rounds: Vec<RoundResult>,
}

async fn my_answers(app: &AppState, launched: &Launched) -> Result<MyAnswers, AppError> {
    let lang = launched.lang;
    let session = &launched.session;
    let course = app
        .courses
        .for_session(&app.db, session)
        .await
        .in_lang(lang)?;
    let standing = Standing::load(&app.db, &course, session)
        .await
        .in_lang(lang)?;
    let package = &course.package;
    Ok(MyAnswers {
        course_title: package.title.get(lang).to_owned(),
        modules: module_answers(lang, package, &standing),
        rounds: round_results(lang, package, &standing),
    })
}

/// `GET /course/my-answers`.
pub async fn show_my_answers(
    State(app): State<AppState>,
    launched: Launched,
) -> Result<Response, AppError> {
    let answers = my_answers(&app, &launched).await?;
    let page = MyAnswersPage {
        page: launched.page(&app),
        overview_url: page_url(&app, "course", launched.token()),
        pdf_url: page_url(&app, "course/my-answers.pdf", launched.token()),
        course_title: answers.course_title,
        who: launched.session.name.clone(),
        modules: answers.modules,
        rounds: answers.rounds,
    };
    Ok(render(&page, StatusCode::OK))
}

/// `GET /course/my-answers.pdf`: the same document as a tagged PDF, to download.
pub async fn download_my_answers_pdf(
    State(app): State<AppState>,
    launched: Launched,
) -> Result<Response, AppError> {
    let lang = launched.lang;
    let answers = my_answers(&app, &launched).await?;
    let document = pdf_document(lang, launched.session.name.as_deref(), &answers);
    let bytes = pdf::render(&document).map_err(|error| AppError::Internal(error.into()))?;
    let file_name = lang.t("my-answers-file-name");
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}.pdf\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

/// The blocks of the PDF, in the page's order.
fn pdf_document(lang: Lang, who: Option<&str>, answers: &MyAnswers) -> pdf::Document {
    let mut blocks = vec![
        Block_::Heading(1, lang.t("my-answers-title").to_owned()),
        Block_::Paragraph(answers.course_title.clone()),
    ];
    if let Some(who) = who {
        blocks.push(Block_::Paragraph(who.to_owned()));
    }
    for round in &answers.rounds {
        blocks.push(Block_::Heading(2, round.heading.to_owned()));
        for (subarea, current, target) in &round.rows {
            blocks.push(Block_::Label(subarea.clone()));
            blocks.push(Block_::Paragraph(format!(
                "{}: {current}. {}: {target}.",
                lang.t("assessment-current"),
                lang.t("assessment-target")
            )));
        }
    }
    for module in answers.modules.iter().filter(|m| !m.tasks.is_empty()) {
        blocks.push(Block_::Heading(2, module.title.clone()));
        for task in &module.tasks {
            blocks.push(Block_::Heading(
                3,
                format!("{} ({})", task.heading, task.status),
            ));
            for (prompt, answer) in &task.answers {
                blocks.push(Block_::Label(prompt.clone()));
                blocks.push(if answer.is_empty() {
                    Block_::Note(lang.t("my-answers-none").to_owned())
                } else {
                    Block_::Paragraph(answer.clone())
                });
            }
        }
    }
    pdf::Document {
        title: format!("{} – {}", lang.t("my-answers-title"), answers.course_title),
        lang: lang.code(),
        blocks,
    }
}

fn status_key(status: Option<SubmissionStatus>) -> &'static str {
    match status {
        None => "status-not-started",
        Some(SubmissionStatus::Draft) => "status-draft",
        Some(SubmissionStatus::Submitted) => "status-submitted",
        Some(SubmissionStatus::Returned) => "status-returned",
        Some(SubmissionStatus::Approved) => "status-approved",
    }
}

page_template!(MyAnswersPage);

/// Every task of every module with what the participant answered.
fn module_answers(lang: Lang, package: &CoursePackage, standing: &Standing) -> Vec<ModuleAnswers> {
    package
        .modules
        .iter()
        .map(|module| ModuleAnswers {
            title: module.title.get(lang).to_owned(),
            tasks: module
                .tasks()
                .enumerate()
                .map(|(index, task)| {
                    let row = standing.submission(&module.slug, &task.slug);
                    let texts = row.map(participant::answers_of).unwrap_or_default();
                    TaskAnswers {
                        heading: lang.task_heading(index + 1),
                        status: lang.t(status_key(
                            row.and_then(|r| SubmissionStatus::parse(&r.status)),
                        )),
                        answers: task
                            .prompts
                            .iter()
                            .enumerate()
                            .map(|(i, prompt)| {
                                let text = texts.get(i).cloned().unwrap_or_default();
                                (prompt.get(lang).to_owned(), text)
                            })
                            .collect(),
                    }
                })
                .collect(),
        })
        .collect()
}

/// The submitted self-assessment rounds, each sub-area with where it stands and should be.
fn round_results(lang: Lang, package: &CoursePackage, standing: &Standing) -> Vec<RoundResult> {
    let offered = |round: AssessmentRound| {
        package
            .modules
            .iter()
            .flat_map(|m| &m.blocks)
            .any(|block| matches!(block, Block::SelfAssessment { round: r } if *r == round))
    };
    let framework = &package.framework;
    let label = |value: &str| crate::web::aggregates::value_label(framework, lang, value);
    [
        (AssessmentRound::Baseline, "assessment-baseline"),
        (AssessmentRound::Final, "assessment-final"),
    ]
    .into_iter()
    .filter(|(round, _)| offered(*round))
    .filter_map(|(round, key)| {
        let ratings = assessment::submitted_ratings(standing, round)?;
        let rows = framework
            .subareas
            .iter()
            .map(|subarea| {
                let rating = ratings.get(&subarea.slug).cloned().unwrap_or_default();
                (
                    subarea.label.get(lang).to_owned(),
                    label(&rating.current),
                    label(&rating.target),
                )
            })
            .collect();
        Some(RoundResult {
            heading: lang.t(key),
            rows,
        })
    })
    .collect()
}
