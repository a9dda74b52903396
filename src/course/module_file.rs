//! One module file: TOML front matter between `+++` lines, then blocks opened by `::: kind` and
//! closed by `:::`. A `text` block holds Markdown in `:: sv` and `:: en` sections; every other block
//! holds TOML. Every problem names the file line.
use serde::Deserialize;

use super::{
    ATTACHMENTS, AssessmentRound, AttachmentSizes, Block, Download, Localized, Module, Problem,
    ReflectionTask, TaskKind, Video, check_slug, parse_toml, render_markdown,
};

/// Video hosts whose embeds are allowed (no tracking cookies, EU-friendly players).
const VIDEO_PROVIDERS: [&str; 3] = [
    "https://www.youtube-nocookie.com/embed/",
    "https://player.vimeo.com/video/",
    "https://play.video.example.se/",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    slug: String,
    position: u32,
    title: Localized,
    workshop: Localized,
    #[serde(default = "yes")]
    required: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskToml {
    slug: String,
    kind: TaskKind,
    #[serde(default = "yes")]
    review: bool,
    #[serde(default)]
    min_length: usize,
    prompts: Vec<Localized>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VideoToml {
    title: Localized,
    source: String,
    captions: String,
    transcript: Localized,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DownloadToml {
    title: Localized,
    file: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssessmentToml {
    round: AssessmentRound,
}

struct Ctx<'a> {
    file: &'a str,
    attachments: &'a AttachmentSizes,
    problems: &'a mut Vec<Problem>,
}

impl Ctx<'_> {
    fn problem(&mut self, line: usize, message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.to_owned(),
            line,
            message: message.into(),
        });
    }
}

/// Parses a module file; `None` when it has problems (recorded in `problems`).
pub fn parse(
    file: &str,
    text: &str,
    attachments: &AttachmentSizes,
    problems: &mut Vec<Problem>,
) -> Option<Module> {
    let before = problems.len();
    let mut ctx = Ctx {
        file,
        attachments,
        problems,
    };
    let lines: Vec<&str> = text.lines().collect();
    if lines.first().map(|l| l.trim()) != Some("+++") {
        ctx.problem(
            1,
            "a module file starts with TOML front matter between +++ lines",
        );
        return None;
    }
    let Some(end) = lines
        .iter()
        .skip(1)
        .position(|l| l.trim() == "+++")
        .map(|i| i + 1)
    else {
        ctx.problem(1, "the front matter is not closed with +++");
        return None;
    };
    let front: Option<FrontMatter> =
        parse_toml(file, lines[1..end].join("\n").as_bytes(), 2, ctx.problems);
    let mut blocks = Vec::new();
    let mut index = end + 1;
    while index < lines.len() {
        let line = lines[index].trim();
        let line_no = index + 1;
        if line.is_empty() {
            index += 1;
            continue;
        }
        let Some(kind) = line
            .strip_prefix(":::")
            .map(str::trim)
            .filter(|k| !k.is_empty())
        else {
            ctx.problem(
                line_no,
                format!("expected a block start like `::: text`, found {line:?}"),
            );
            index += 1;
            continue;
        };
        let Some(close) = lines[index + 1..].iter().position(|l| l.trim() == ":::") else {
            ctx.problem(line_no, format!("the {kind} block is not closed with :::"));
            break;
        };
        let body = &lines[index + 1..index + 1 + close];
        if let Some(block) = parse_block(&mut ctx, kind, body, line_no + 1) {
            blocks.push(block);
        }
        index += close + 2;
    }
    let front = front?;
    check_slug(file, 2, &front.slug, ctx.problems);
    let mut task_slugs = std::collections::HashSet::new();
    for block in &blocks {
        if let Block::Reflection(task) = block
            && !task_slugs.insert(task.slug.clone())
        {
            ctx.problem(
                0,
                format!("task slug {:?} is used twice in this module", task.slug),
            );
        }
    }
    if problems.len() > before {
        return None;
    }
    Some(Module {
        slug: front.slug,
        position: front.position,
        title: front.title,
        workshop: front.workshop,
        required: front.required,
        blocks,
    })
}

fn parse_block(ctx: &mut Ctx<'_>, kind: &str, body: &[&str], first_line: usize) -> Option<Block> {
    let toml_body = || body.join("\n");
    match kind {
        "text" => parse_text(ctx, body, first_line),
        "reflection" => {
            let task: TaskToml =
                parse_toml(ctx.file, toml_body().as_bytes(), first_line, ctx.problems)?;
            check_slug(ctx.file, first_line, &task.slug, ctx.problems);
            if task.prompts.is_empty() {
                ctx.problem(first_line, format!("task {:?} has no prompts", task.slug));
                return None;
            }
            if task.min_length > 10_000 {
                ctx.problem(first_line, "min_length may be at most 10000");
                return None;
            }
            Some(Block::Reflection(ReflectionTask {
                slug: task.slug,
                kind: task.kind,
                review: task.review,
                min_length: task.min_length,
                prompts: task.prompts,
            }))
        }
        "video" => {
            let video: VideoToml =
                parse_toml(ctx.file, toml_body().as_bytes(), first_line, ctx.problems)?;
            let allowed = VIDEO_PROVIDERS.iter().any(|p| video.source.starts_with(p))
                || (video.source.starts_with("files/")
                    && ctx.attachments.contains_key(&video.source));
            if !allowed {
                ctx.problem(
                    first_line,
                    format!(
                        "video source {:?} is neither a file in the package nor from an allowed provider ({})",
                        video.source,
                        VIDEO_PROVIDERS.join(", ")
                    ),
                );
            }
            if !ctx.attachments.contains_key(&video.captions)
                || !video.captions.ends_with(".vtt")
                || !video.captions.starts_with("files/")
            {
                ctx.problem(
                    first_line,
                    format!(
                        "captions {:?} must be a WebVTT file in the package",
                        video.captions
                    ),
                );
            }
            if video.transcript.sv.trim().is_empty() || video.transcript.en.trim().is_empty() {
                ctx.problem(
                    first_line,
                    "a video needs a transcript in Swedish and English",
                );
            }
            Some(Block::Video(Video {
                title: video.title,
                source: video.source,
                captions: video.captions,
                transcript: video.transcript,
            }))
        }
        "download" => {
            let download: DownloadToml =
                parse_toml(ctx.file, toml_body().as_bytes(), first_line, ctx.problems)?;
            if !download.file.starts_with(ATTACHMENTS) {
                ctx.problem(first_line, "downloads live under files/ in the package");
                return None;
            }
            let Some(&size) = ctx.attachments.get(&download.file) else {
                ctx.problem(
                    first_line,
                    format!("download {:?} is not in the package", download.file),
                );
                return None;
            };
            let format = download
                .file
                .rsplit('.')
                .next()
                .unwrap_or_default()
                .to_ascii_uppercase();
            Some(Block::Download(Download {
                title: download.title,
                size,
                file: download.file,
                format,
            }))
        }
        "self-assessment" => {
            let assessment: AssessmentToml =
                parse_toml(ctx.file, toml_body().as_bytes(), first_line, ctx.problems)?;
            Some(Block::SelfAssessment {
                round: assessment.round,
            })
        }
        other => {
            ctx.problem(
                first_line - 1,
                format!("unknown block kind {other:?} (text, video, download, reflection, self-assessment)"),
            );
            None
        }
    }
}

fn parse_text(ctx: &mut Ctx<'_>, body: &[&str], first_line: usize) -> Option<Block> {
    let mut sv: Option<Vec<&str>> = None;
    let mut en: Option<Vec<&str>> = None;
    let mut current: Option<&mut Vec<&str>> = None;
    for (offset, line) in body.iter().enumerate() {
        match line.trim() {
            ":: sv" => {
                sv = Some(Vec::new());
                current = sv.as_mut();
            }
            ":: en" => {
                en = Some(Vec::new());
                current = en.as_mut();
            }
            _ => match current.as_deref_mut() {
                Some(section) => section.push(line),
                None if line.trim().is_empty() => {}
                None => {
                    ctx.problem(
                        first_line + offset,
                        "text before `:: sv` / `:: en`: a text block holds one section per language",
                    );
                    return None;
                }
            },
        }
    }
    match (sv, en) {
        (Some(sv), Some(en)) => Some(Block::Text {
            sv_html: render_markdown(&sv.join("\n")),
            en_html: render_markdown(&en.join("\n")),
        }),
        _ => {
            ctx.problem(
                first_line - 1,
                "a text block needs both `:: sv` and `:: en` sections",
            );
            None
        }
    }
}
