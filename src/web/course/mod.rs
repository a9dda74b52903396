//! The participant's pages inside the LMS iframe: course overview (`overview`), module pages with
//! reflection tasks (`module`), saving answers, by hand and automatically while typing
//! (`answers`), and package downloads (`files`). Every page carries the session token in its links
//! and forms; no cookie is needed.
mod answers;
mod belonging;
mod document;
mod exchange;
mod files;
mod module;
mod overview;

pub use answers::{autosave_task, save_task};
pub use belonging::{choose, show_choice};
pub use document::{download_my_answers_pdf, show_my_answers};
pub use exchange::{comment, hide, pin, report, share_answer, show_others};
pub use files::download;
pub use module::show_module;
pub use overview::show_overview;

use crate::state::App;

/// A line above a page or a task: what happened.
pub(super) struct Notice {
    pub(super) kind: &'static str,
    pub(super) text: String,
}

pub(crate) async fn contact_organisations(
    app: &App,
    user_id: i64,
) -> Result<Vec<String>, sea_orm::DbErr> {
    if let Some(found) = app.contacts.get(&user_id) {
        return Ok(found);
    }
    let found = crate::learning::review::contact_organisation_names(&app.db, user_id).await?;
    app.contacts.insert(user_id, found.clone());
    Ok(found)
}
