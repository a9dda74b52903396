//! The audit log as an administrator may read it.
use super::*;
use crate::web::page::{PageContext, page_template};

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AdminAudit {
    page: PageContext,
    nav: Nav,
    scope_line: String,
    entries: Vec<[String; 5]>,
}

/// `GET /admin/audit`: the latest 200 administrative actions.
pub async fn show_audit(State(app): State<AppState>, admin: Admin) -> Result<Response, AppError> {
    let lang = admin.lang;
    let entries = admin::directory::audit_entries(&app.db, &admin.principal, None, 200)
        .await
        .in_lang(lang)?
        .into_iter()
        .map(|e| {
            [
                format!(
                    "{} {}",
                    crate::i18n::time::format_date(e.at_ms / 1000),
                    crate::i18n::time::format_time(e.at_ms / 1000)
                ),
                e.actor,
                e.action,
                e.target,
                e.origin,
            ]
        })
        .collect();
    let page = AdminAudit {
        page: PageContext::launched(&app, lang, &admin.token),
        nav: nav(&app, &admin),
        scope_line: scope_line(&admin),
        entries,
    };
    Ok(render(&page, StatusCode::OK))
}

page_template!(AdminAudit);
