//! Completion reports as administrators download them: CSV, one line per person and cohort.
use crate::learning::records::CompletionView;

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
