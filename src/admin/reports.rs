//! Completion reports as administrators read and download them: stored records as views (with
//! whether the LMS gradebook has the latest score), every record of a filter, and CSV.
use entity::completion_record;
use sea_orm::{ConnectionTrait, DbErr};

pub use crate::store::completions::RecordFilter;
use crate::{
    learning::records::CompletionView,
    store::{self, completions::GradebookState},
};

/// Stored records as views; `with_gradebook` adds whether each person's LMS gradebook has the
/// latest score (read from the score outbox now).
pub async fn views(
    db: &impl ConnectionTrait,
    records: Vec<completion_record::Model>,
    with_gradebook: bool,
) -> Result<Vec<CompletionView>, DbErr> {
    let rows = store::completions::with_context(db, records).await?;
    if !with_gradebook {
        return Ok(rows
            .iter()
            .map(|row| CompletionView::from_row(row, None))
            .collect());
    }
    let states = store::completions::gradebook_states(db, &rows).await?;
    Ok(rows
        .iter()
        .map(|row| {
            let gradebook = if row.cohort.context.ags_scopes.is_none() {
                "not_used"
            } else {
                match states.get(&(row.record.context_id, row.record.user_id)) {
                    None | Some(GradebookState::UpToDate) => "up_to_date",
                    Some(GradebookState::OnItsWay) => "on_its_way",
                    Some(GradebookState::Refused) => "refused",
                }
            };
            CompletionView::from_row(row, Some(gradebook))
        })
        .collect())
}

/// A page of the completion records the principal may read, after `filter.after_sequence` in
/// change order: at most `limit` views, and the sequence of the last record read, if any. The
/// principal's organisation limits the filter whatever the caller put in it; whether there is
/// more is told by asking for one record more.
pub async fn page(
    db: &sea_orm::DatabaseConnection,
    principal: &crate::admin::access::Principal,
    mut filter: RecordFilter,
    limit: u64,
) -> Result<(Vec<CompletionView>, bool, Option<i64>), crate::admin::directory::AdminError> {
    principal.require(crate::admin::access::Scope::CompletionsRead)?;
    if principal.organisation.is_some() {
        filter.organisation = principal.organisation.clone();
    }
    let mut rows = store::completions::page(db, &filter, limit + 1).await?;
    let has_more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let last = rows.last().map(|r| r.sequence);
    Ok((views(db, rows, true).await?, has_more, last))
}

/// Every record `filter` selects, in change order, a thousand at a time.
pub async fn all_views(
    db: &impl ConnectionTrait,
    mut filter: RecordFilter,
    with_gradebook: bool,
) -> Result<Vec<CompletionView>, DbErr> {
    let mut views_so_far = Vec::new();
    loop {
        let page = store::completions::page(db, &filter, 1000).await?;
        let Some(last) = page.last() else {
            return Ok(views_so_far);
        };
        filter.after_sequence = last.sequence;
        views_so_far.extend(views(db, page, with_gradebook).await?);
    }
}

/// A CSV cell: quoted when needed, and with a leading `'` where a spreadsheet would otherwise run
/// the text as a formula.
pub fn csv_cell(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// Records as CSV, one line per person and cohort.
pub fn completions_csv(records: &[CompletionView]) -> String {
    let mut out = String::from(
        "record_id,sequence,updated_at,organisation,platform,deployment_id,person_id,sub,name,cohort_id,cohort_title,course_version,modules_completed,baseline_assessed_at,final_assessed_at,course_completed_at,gradebook\r\n",
    );
    for r in records {
        let modules = r
            .modules
            .iter()
            .map(|m| format!("{}={}", m.slug, m.completed_at))
            .collect::<Vec<_>>()
            .join(";");
        let cells = [
            r.id.to_string(),
            r.sequence.to_string(),
            r.updated_at.clone(),
            r.organisation.clone().unwrap_or_default(),
            r.person.platform.clone(),
            r.person.deployment_id.clone(),
            r.person.id.to_string(),
            r.person.sub.clone(),
            r.person.name.clone().unwrap_or_default(),
            r.cohort.id.to_string(),
            r.cohort.title.clone().unwrap_or_default(),
            r.course_version.clone(),
            modules,
            r.baseline_assessed_at.clone().unwrap_or_default(),
            r.final_assessed_at.clone().unwrap_or_default(),
            r.course_completed_at.clone().unwrap_or_default(),
            r.gradebook.clone().unwrap_or_default(),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_cell("-1,2"), "\"'-1,2\"");
    }
}
