//! `GET` and `POST /mail/opt-out/{token}`: the link at the foot of every mail. The page asks once
//! (a link checker or a mail scanner that follows links must not opt anyone out); its button, or
//! a mail program's one-click POST (RFC 8058), stops the mail. No login: the signed token in the
//! link names the person and nothing else.
use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};

use crate::{
    learning,
    state::AppState,
    web::{
        error::{AppError, InLang, render},
        language::BrowserLanguage,
        page::{PageContext, page_template},
    },
};

#[derive(Template)]
#[template(path = "mail_opt_out.html")]
struct OptOutPage {
    page: PageContext,
    action: String,
    /// Opted out: by this request, or before.
    done: bool,
}

page_template!(OptOutPage);

/// `GET /mail/opt-out/{token}`: what the button will do, or that it is done.
pub async fn show_opt_out(
    State(app): State<AppState>,
    Path(token): Path<String>,
    BrowserLanguage(lang): BrowserLanguage,
) -> Result<Response, AppError> {
    let now = app.clock.now_unix();
    let standing = learning::mail::opt_out_standing(&app.db, &app.sessions, &token, now)
        .await
        .in_lang(lang)?;
    let Some(done) = standing else {
        return Err(AppError::NotFound { lang });
    };
    let page = OptOutPage {
        page: PageContext::public(&app, lang),
        action: app.url(&format!("mail/opt-out/{token}")).to_string(),
        done,
    };
    Ok(render(&page, StatusCode::OK))
}

/// `POST /mail/opt-out/{token}`: stops the mail; the confirmation takes focus.
pub async fn opt_out(
    State(app): State<AppState>,
    Path(token): Path<String>,
    BrowserLanguage(lang): BrowserLanguage,
) -> Result<Response, AppError> {
    let now = app.clock.now_unix();
    let done = learning::mail::opt_out(&app.db, &app.sessions, (&token, "web"), now)
        .await
        .in_lang(lang)?;
    if !done {
        return Err(AppError::NotFound { lang });
    }
    tracing::info!(code = "MAIL_OPTED_OUT", "a person opted out of mail");
    let page = OptOutPage {
        page: PageContext::public(&app, lang),
        action: app.url(&format!("mail/opt-out/{token}")).to_string(),
        done: true,
    };
    Ok(render(&page, StatusCode::OK))
}
