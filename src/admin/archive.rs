//! A cohort's archive package for the municipality's e-archive, shaped as an E-ARK SIP (CSIP 2.1 /
//! SIP 2.1, adopted by Riksarkivet as FGS Paketstruktur 2.0): a ZIP holding one folder named after
//! the package id, a root `METS.xml` that lists every file with its SHA-256, size and MIME type, and
//! one representation with the data as JSON and CSV plus a human-readable HTML rendering of the
//! reflections and feedback. Audit-logged.
use std::io::Write;

use sea_orm::{DatabaseConnection, DbErr};
use serde_json::json;

use super::access::{Denied, Principal, Scope};
use crate::{
    i18n::time::iso8601_utc_ms,
    store::{self, completions::RecordFilter},
};

/// Why no package was made.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Not allowed.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// No such cohort (or none the principal may see).
    #[error("no such cohort")]
    NotFound,
    /// Storage.
    #[error(transparent)]
    Db(#[from] DbErr),
    /// Writing the ZIP.
    #[error("could not write the package: {0}")]
    Zip(String),
}

/// A finished package.
pub struct ArchivePackage {
    /// The package id (also the ZIP's top folder), e.g. `coursebridge-cohort-12-20261129T101500Z`.
    pub id: String,
    /// The ZIP bytes.
    pub zip: Vec<u8>,
}

fn xml(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {}
            c => out.push(c),
        }
    }
    out
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02X}")).collect()
}

struct DataFile {
    path: String,
    mime: &'static str,
    bytes: Vec<u8>,
}

/// Builds the archive package of a cohort.
pub async fn build(
    db: &DatabaseConnection,
    principal: &Principal,
    cohort_id: i64,
) -> Result<ArchivePackage, ArchiveError> {
    principal.require(Scope::Admin)?;
    let cohort = store::completions::cohort(db, cohort_id)
        .await?
        .ok_or(ArchiveError::NotFound)?;
    principal
        .require_organisation(cohort.deployment.organisation.as_deref())
        .map_err(|_| ArchiveError::NotFound)?;
    let now_ms = principal.now_ms();
    let created = iso8601_utc_ms(now_ms);
    let stamp: String = created
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(15)
        .collect();
    let id = format!("coursebridge-cohort-{cohort_id}-{stamp}Z");

    let records = super::reports::all_views(
        db,
        RecordFilter {
            context_id: Some(cohort_id),
            ..RecordFilter::default()
        },
        false,
    )
    .await?;

    // Reflections and feedback.
    let submissions = store::review::submissions(db, cohort_id).await?;
    let participants = store::review::participants(db, cohort_id).await?;
    let groups = store::group::groups(db, cohort_id).await?;
    let mut people_ids: Vec<i64> = submissions.iter().map(|s| s.updated_by).collect();
    people_ids.extend(participants.iter().map(|(m, _)| m.user_id));
    let people = store::review::people(db, people_ids).await?;
    let owner_label = |owner_key: &str| -> String {
        if let Some(user) = owner_key.strip_prefix("u:") {
            let name = user
                .parse::<i64>()
                .ok()
                .and_then(|id| people.get(&id))
                .map(|u| u.name.clone().unwrap_or_else(|| u.sub.clone()));
            return name.unwrap_or_else(|| owner_key.to_owned());
        }
        if let Some(group) = owner_key.strip_prefix("g:") {
            if group.starts_with('d') {
                return "Kommunens gemensamma svar / The municipality's shared answer".to_owned();
            }
            if let Some(found) = group
                .parse::<i64>()
                .ok()
                .and_then(|id| groups.iter().find(|g| g.id == id))
            {
                return format!("Grupp / Group: {}", found.name);
            }
        }
        owner_key.to_owned()
    };
    let reflections: Vec<serde_json::Value> = submissions
        .iter()
        .map(|s| {
            json!({
                "module": s.module_slug,
                "task": s.task_slug,
                "owner": owner_label(&s.owner_key),
                "status": s.status,
                "answers": serde_json::from_str::<Vec<String>>(&s.answers).unwrap_or_default(),
                "feedback": s.feedback,
                "submitted_at": s.submitted_at.map(|t| iso8601_utc_ms(t * 1000)),
                "updated_at": iso8601_utc_ms(s.updated_at * 1000),
            })
        })
        .collect();

    let course_run = match cohort.context.cohort_id {
        Some(run) => store::cohorts::get(db, run).await?,
        None => None,
    };
    let cohort_json = json!({
        "id": cohort.context.id,
        "course_run": course_run.map(|run| json!({
            "id": run.id,
            "name": run.name,
            "starts_on": run.starts_on,
            "ends_on": run.ends_on,
        })),
        "context_id": cohort.context.lti_context_id,
        "title": cohort.context.title,
        "organisation": cohort.deployment.organisation,
        "deployment_id": cohort.deployment.lti_deployment_id,
        "closed_at": cohort.context.closed_at.map(|t| iso8601_utc_ms(t * 1000)),
        "participants": participants.len(),
    });
    let to_json = |value: &serde_json::Value| -> Vec<u8> {
        serde_json::to_vec_pretty(value).unwrap_or_default()
    };
    let title = cohort
        .context
        .title
        .clone()
        .unwrap_or_else(|| cohort.context.lti_context_id.clone());
    let files = vec![
        DataFile {
            path: "representations/rep1/data/cohort.json".into(),
            mime: "application/json",
            bytes: to_json(&cohort_json),
        },
        DataFile {
            path: "representations/rep1/data/completions.json".into(),
            mime: "application/json",
            bytes: serde_json::to_vec_pretty(&records).unwrap_or_default(),
        },
        DataFile {
            path: "representations/rep1/data/completions.csv".into(),
            mime: "text/csv",
            bytes: super::reports::completions_csv(&records).into_bytes(),
        },
        DataFile {
            path: "representations/rep1/data/reflections.json".into(),
            mime: "application/json",
            bytes: to_json(&serde_json::Value::Array(reflections.clone())),
        },
        DataFile {
            path: "representations/rep1/data/reflections.html".into(),
            mime: "text/html",
            bytes: render_html(&title, &created, &reflections).into_bytes(),
        },
    ];
    let mets = mets(&id, &title, &created, &cohort_json, &files);
    let zip = write_zip(&id, &mets, &files).map_err(ArchiveError::Zip)?;
    principal
        .audit(
            db,
            "cohort.archive",
            &format!("cohort:{cohort_id}"),
            cohort.deployment.organisation.as_deref(),
            json!({ "package": id, "records": records.len(), "reflections": reflections.len() }),
        )
        .await?;
    Ok(ArchivePackage { id, zip })
}

fn render_html(title: &str, created: &str, reflections: &[serde_json::Value]) -> String {
    let mut body = String::new();
    for r in reflections {
        let text = |key: &str| r[key].as_str().map(xml).unwrap_or_default();
        body.push_str(&format!(
            "<section>\n<h2>{} – {}</h2>\n<p><strong>Av / By:</strong> {}<br><strong>Status:</strong> {}<br><strong>Senast ändrad / Last changed:</strong> {}</p>\n",
            text("module"),
            text("task"),
            text("owner"),
            text("status"),
            text("updated_at"),
        ));
        if let Some(answers) = r["answers"].as_array() {
            for answer in answers {
                body.push_str(&format!(
                    "<blockquote><p>{}</p></blockquote>\n",
                    xml(answer.as_str().unwrap_or_default()).replace('\n', "<br>")
                ));
            }
        }
        if let Some(feedback) = r["feedback"].as_str() {
            body.push_str(&format!(
                "<p><strong>Återkoppling / Feedback:</strong> {}</p>\n",
                xml(feedback).replace('\n', "<br>")
            ));
        }
        body.push_str("</section>\n");
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"sv\">\n<head>\n<meta charset=\"utf-8\">\n<title>Reflektioner och återkoppling – {t}</title>\n<style>body{{font-family:serif;max-width:48em;margin:2em auto;line-height:1.5}}blockquote{{border-left:3px solid #888;margin-left:0;padding-left:1em}}</style>\n</head>\n<body>\n<h1>Reflektioner och återkoppling / Reflections and feedback</h1>\n<p>{t}. Arkivpaket skapat / Package created {c}.</p>\n{body}</body>\n</html>\n",
        t = xml(title),
        c = xml(created),
    )
}

fn mets(
    id: &str,
    title: &str,
    created: &str,
    cohort: &serde_json::Value,
    files: &[DataFile],
) -> String {
    let mut file_entries = String::new();
    let mut pointers = String::new();
    for (n, file) in files.iter().enumerate() {
        let file_id = format!("ID-FILE-{}", n + 1);
        file_entries.push_str(&format!(
            "      <mets:file ID=\"{file_id}\" MIMETYPE=\"{}\" SIZE=\"{}\" CREATED=\"{}\" CHECKSUM=\"{}\" CHECKSUMTYPE=\"SHA-256\">\n        <mets:FLocat LOCTYPE=\"URL\" xlink:type=\"simple\" xlink:href=\"{}\"/>\n      </mets:file>\n",
            file.mime,
            file.bytes.len(),
            xml(created),
            sha256_hex(&file.bytes),
            xml(&file.path),
        ));
        pointers.push_str(&format!("        <mets:fptr FILEID=\"{file_id}\"/>\n"));
    }
    let organisation = cohort["organisation"].as_str().unwrap_or("");
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<mets:mets xmlns:mets="http://www.loc.gov/METS/" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:csip="https://DILCIS.eu/XML/METS/CSIPExtensionMETS" xmlns:sip="https://DILCIS.eu/XML/METS/SIPExtensionMETS" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.loc.gov/METS/ http://www.loc.gov/standards/mets/mets.xsd" OBJID="{id}" LABEL="{label}" TYPE="Other" csip:OTHERTYPE="Course records" csip:CONTENTINFORMATIONTYPE="OTHER" csip:OTHERCONTENTINFORMATIONTYPE="coursebridge completion records and reflections" PROFILE="https://earksip.dilcis.eu/profile/E-ARK-SIP.xml">
  <mets:metsHdr CREATEDATE="{created}" LASTMODDATE="{created}" RECORDSTATUS="NEW" csip:OAISPACKAGETYPE="SIP">
    <mets:agent ROLE="CREATOR" TYPE="OTHER" OTHERTYPE="SOFTWARE">
      <mets:name>coursebridge</mets:name>
      <mets:note csip:NOTETYPE="SOFTWARE VERSION">{version}</mets:note>
    </mets:agent>
    <mets:agent ROLE="ARCHIVIST" TYPE="ORGANIZATION">
      <mets:name>{organisation}</mets:name>
    </mets:agent>
  </mets:metsHdr>
  <mets:fileSec ID="ID-FILESEC">
    <mets:fileGrp ID="ID-FILEGRP-REP1" USE="Representations/rep1/Data">
{file_entries}    </mets:fileGrp>
  </mets:fileSec>
  <mets:structMap ID="ID-STRUCTMAP" TYPE="PHYSICAL" LABEL="CSIP">
    <mets:div ID="ID-DIV-ROOT" LABEL="{id}">
      <mets:div ID="ID-DIV-REP1" LABEL="Representations/rep1">
{pointers}      </mets:div>
    </mets:div>
  </mets:structMap>
</mets:mets>
"#,
        id = xml(id),
        label = xml(title),
        created = xml(created),
        version = env!("CARGO_PKG_VERSION"),
        organisation = xml(organisation),
    )
}

fn write_zip(id: &str, mets: &str, files: &[DataFile]) -> Result<Vec<u8>, String> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut add = |path: &str, bytes: &[u8]| -> Result<(), String> {
        zip.start_file(format!("{id}/{path}"), options)
            .map_err(|e| e.to_string())?;
        zip.write_all(bytes).map_err(|e| e.to_string())
    };
    add("METS.xml", mets.as_bytes())?;
    for file in files {
        add(&file.path, &file.bytes)?;
    }
    let cursor = zip.finish().map_err(|e| e.to_string())?;
    Ok(cursor.into_inner())
}
