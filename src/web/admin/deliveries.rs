//! Scores the LMS refused or has not received yet, and sending one again.
use super::*;
use crate::web::page::{PageContext, page_template};

struct DeliveryRow {
    cohort: String,
    person: String,
    line_item: String,
    attempts: i32,
    error: String,
    retry_action: String,
}

#[derive(Template)]
#[template(path = "admin_deliveries.html")]
struct AdminDeliveries {
    page: PageContext,
    nav: Nav,
    scope_line: String,
    notice: Option<&'static str>,
    failed: Vec<DeliveryRow>,
    pending: Vec<DeliveryRow>,
}

/// `GET /admin/deliveries`: scores the LMS refused, and scores still on their way.
pub async fn show_deliveries(
    State(app): State<AppState>,
    Query(query): Query<AdminQuery>,
    admin: Admin,
) -> Result<Response, AppError> {
    let lang = admin.lang;
    let cohorts = admin::directory::cohorts(&app.db, &admin.principal)
        .await
        .in_lang(lang)?;
    let mut rows_of = Vec::new();
    for state in [
        admin::directory::delivery_state::NOT_GRADABLE,
        admin::directory::delivery_state::PENDING,
    ] {
        let (rows, people) =
            admin::directory::deliveries(&app.db, &admin.principal, Some(state), 200)
                .await
                .in_lang(lang)?;
        rows_of.push(
            rows.into_iter()
                .map(|r| DeliveryRow {
                    cohort: cohorts
                        .iter()
                        .find(|c| c.context.id == r.context_id)
                        .and_then(|c| c.context.title.clone())
                        .unwrap_or_default(),
                    person: people
                        .get(&r.user_id)
                        .map(|u| u.name.clone().unwrap_or_else(|| u.sub.clone()))
                        .unwrap_or_default(),
                    line_item: r.resource_id.clone(),
                    attempts: r.attempts,
                    error: r.last_error.clone().unwrap_or_default(),
                    retry_action: admin.url(&app, &format!("admin/deliveries/{}/retry", r.id)),
                })
                .collect::<Vec<_>>(),
        );
    }
    let pending = rows_of.pop().unwrap_or_default();
    let failed = rows_of.pop().unwrap_or_default();
    let page = AdminDeliveries {
        page: PageContext::launched(&app, lang, &admin.token),
        nav: nav(&app, &admin),
        scope_line: scope_line(&admin),
        notice: notice_text(lang, query.notice.as_deref()),
        failed,
        pending,
    };
    Ok(render(&page, StatusCode::OK))
}

/// `POST /admin/deliveries/{id}/retry`.
pub async fn retry_delivery(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    admin: Admin,
) -> Result<Response, AppError> {
    admin::directory::retry_delivery(&app.db, &admin.principal, id)
        .await
        .in_lang(admin.lang)?;
    Ok(back(&app, &admin, "admin/deliveries", "retried"))
}

page_template!(AdminDeliveries);
