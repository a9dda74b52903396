//! Course packages: a `course.toml`, a maturity framework, and one Markdown file per module with
//! typed blocks (text, video, download, reflection task, self-assessment round). Loading validates
//! everything and reports each problem with its file and line. Its completion rules
//! (`completion`) say what counts as done. No HTTP, no database.
use std::{collections::BTreeMap, fmt, path::Path};

use serde::{Deserialize, Serialize};

pub mod completion;
mod markdown;
mod module_file;

pub use markdown::render_markdown;

/// A text in Swedish and English.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Localized {
    /// Swedish.
    pub sv: String,
    /// English.
    pub en: String,
}

impl Localized {
    /// The text in `lang`.
    pub fn get(&self, lang: crate::i18n::Lang) -> &str {
        match lang {
            crate::i18n::Lang::Sv => &self.sv,
            crate::i18n::Lang::En => &self.en,
        }
    }
}

/// A whole course version, validated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CoursePackage {
    /// Stable identity across versions.
    pub slug: String,
    /// Semantic version of this content.
    pub version: String,
    /// Course title.
    pub title: Localized,
    /// The maturity framework the self-assessments use.
    pub framework: Framework,
    /// What completes the course.
    pub completion: CompletionRules,
    /// Modules in order.
    pub modules: Vec<Module>,
    /// Files of the package that pages may serve (downloads, captions), by path.
    pub files: BTreeMap<String, PackageFile>,
}

/// A file carried by the package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageFile {
    /// Size in bytes.
    pub size: u64,
    /// MIME type, from the extension.
    pub content_type: String,
}

/// Course-level completion rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompletionRules {
    /// The baseline self-assessment must be submitted.
    #[serde(default = "yes")]
    pub require_baseline: bool,
    /// The final self-assessment must be submitted.
    #[serde(default = "yes")]
    pub require_final: bool,
}

fn yes() -> bool {
    true
}

/// A maturity framework: phases × sub-areas.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    /// Stable key.
    pub slug: String,
    /// Version.
    pub version: String,
    /// Name.
    pub title: Localized,
    /// Licence of the wording.
    pub licence: String,
    /// Phases, in order of maturity.
    pub phases: Vec<FrameworkItem>,
    /// Sub-areas rated separately.
    pub subareas: Vec<FrameworkItem>,
}

/// A phase or a sub-area.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameworkItem {
    /// Stable key.
    pub slug: String,
    /// Label.
    pub label: Localized,
    /// Description.
    pub description: Localized,
}

/// One module.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Module {
    /// Stable key (submissions refer to it).
    pub slug: String,
    /// Order in the course.
    pub position: u32,
    /// Title.
    pub title: Localized,
    /// The workshop the module prepares for.
    pub workshop: Localized,
    /// Counts towards course completion.
    pub required: bool,
    /// Content blocks in order.
    pub blocks: Vec<Block>,
}

impl Module {
    /// The module's reflection tasks, in order.
    pub fn tasks(&self) -> impl Iterator<Item = &ReflectionTask> {
        self.blocks.iter().filter_map(|block| match block {
            Block::Reflection(task) => Some(task),
            _ => None,
        })
    }

    /// The task with this slug.
    pub fn task(&self, slug: &str) -> Option<&ReflectionTask> {
        self.tasks().find(|task| task.slug == slug)
    }
}

/// A content block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "block", rename_all = "snake_case")]
pub enum Block {
    /// Markdown, already rendered to sanitised HTML per language.
    Text {
        /// Swedish HTML.
        sv_html: String,
        /// English HTML.
        en_html: String,
    },
    /// A video with captions and a transcript.
    Video(Video),
    /// A file to download.
    Download(Download),
    /// A reflection task.
    Reflection(ReflectionTask),
    /// A self-assessment round.
    SelfAssessment {
        /// `baseline` or `final`.
        round: AssessmentRound,
    },
}

/// A video block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Video {
    /// Title.
    pub title: Localized,
    /// An allow-listed provider URL, or a file in the package.
    pub source: String,
    /// Captions (WebVTT) in the package.
    pub captions: String,
    /// Transcript.
    pub transcript: Localized,
}

/// A download block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Download {
    /// Title.
    pub title: Localized,
    /// Path in the package.
    pub file: String,
    /// Format shown to people (e.g. "PDF").
    pub format: String,
    /// Size in bytes.
    pub size: u64,
}

/// Who answers a reflection task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Each participant alone.
    Individual,
    /// One shared answer per group.
    Group,
}

/// A reflection task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReflectionTask {
    /// Stable key.
    pub slug: String,
    /// Individual or group.
    pub kind: TaskKind,
    /// An instructor must approve it for completion.
    pub review: bool,
    /// Least characters per answer.
    pub min_length: usize,
    /// The questions; one answer field each.
    pub prompts: Vec<Localized>,
}

/// A self-assessment round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssessmentRound {
    /// Where the organisation stands at the start.
    Baseline,
    /// Where it stands at the end.
    Final,
}

impl AssessmentRound {
    /// The round's name as stored and in URLs.
    pub fn name(self) -> &'static str {
        match self {
            AssessmentRound::Baseline => "baseline",
            AssessmentRound::Final => "final",
        }
    }
}

/// A problem found in a package, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Path inside the package.
    pub file: String,
    /// 1-based line; 0 when the problem concerns the file as a whole.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

/// The files of a package, by path relative to its root (`/` separators).
pub type PackageFiles = BTreeMap<String, Vec<u8>>;

/// Reads every file below `root` (a folder).
pub fn read_folder(root: &Path) -> std::io::Result<PackageFiles> {
    fn walk(root: &Path, dir: &Path, files: &mut PackageFiles) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                walk(root, &path, files)?;
            } else if let Ok(relative) = path.strip_prefix(root) {
                let key = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                files.insert(key, std::fs::read(&path)?);
            }
        }
        Ok(())
    }
    let mut files = PackageFiles::new();
    walk(root, root, &mut files)?;
    Ok(files)
}

/// The demo course of `content/`, embedded in the binary.
pub fn demo_files() -> PackageFiles {
    let mut files = PackageFiles::new();
    for (path, text) in DEMO {
        files.insert((*path).to_owned(), text.as_bytes().to_vec());
    }
    files
}

const DEMO: &[(&str, &str)] = &[
    (
        "course.toml",
        include_str!("../../content/demo/course.toml"),
    ),
    (
        "framework.toml",
        include_str!("../../content/demo/framework.toml"),
    ),
    (
        "modules/1-ledarskap.md",
        include_str!("../../content/demo/modules/1-ledarskap.md"),
    ),
    (
        "modules/2-mobilisering.md",
        include_str!("../../content/demo/modules/2-mobilisering.md"),
    ),
    (
        "modules/3-koordination.md",
        include_str!("../../content/demo/modules/3-koordination.md"),
    ),
    (
        "modules/4-acceleration.md",
        include_str!("../../content/demo/modules/4-acceleration.md"),
    ),
    (
        "modules/5-leda-forandring.md",
        include_str!("../../content/demo/modules/5-leda-forandring.md"),
    ),
    (
        "modules/6-nasta-steg.md",
        include_str!("../../content/demo/modules/6-nasta-steg.md"),
    ),
    (
        "files/arbetsblad.txt",
        include_str!("../../content/demo/files/arbetsblad.txt"),
    ),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CourseToml {
    slug: String,
    version: String,
    title: Localized,
    framework: String,
    #[serde(default = "default_completion")]
    completion: CompletionRules,
}

fn default_completion() -> CompletionRules {
    CompletionRules {
        require_baseline: true,
        require_final: true,
    }
}

/// The package's attachments (its files under `files/`) by path, with their sizes in bytes: all that
/// validation needs of them, so that an import need not hold their bytes while it checks the rest.
pub type AttachmentSizes = BTreeMap<String, u64>;

/// Where a package keeps its attachments.
pub const ATTACHMENTS: &str = "files/";

/// The sizes of the attachments of a package held in memory.
pub fn attachment_sizes(files: &PackageFiles) -> AttachmentSizes {
    files
        .iter()
        .filter(|(path, _)| path.starts_with(ATTACHMENTS))
        .map(|(path, bytes)| (path.clone(), bytes.len() as u64))
        .collect()
}

/// Validates a package held in memory and builds it, or returns every problem found.
pub fn load(files: &PackageFiles) -> Result<CoursePackage, Vec<Problem>> {
    load_outline(files, &attachment_sizes(files))
}

/// Validates a package from its text files (everything outside `files/`; any entry under `files/`
/// in `texts` is not looked at) and the sizes of its attachments, and builds it, or returns every
/// problem found.
pub fn load_outline(
    texts: &PackageFiles,
    attachments: &AttachmentSizes,
) -> Result<CoursePackage, Vec<Problem>> {
    let text = |path: &str| texts.get(path).filter(|_| !path.starts_with(ATTACHMENTS));
    let mut problems = Vec::new();
    let course: Option<CourseToml> = match text("course.toml") {
        None => {
            problems.push(Problem {
                file: "course.toml".into(),
                line: 0,
                message: "missing: every package needs a course.toml at its root".into(),
            });
            None
        }
        Some(bytes) => parse_toml("course.toml", bytes, 1, &mut problems),
    };
    let framework = course
        .as_ref()
        .and_then(|course| match text(&course.framework) {
            None => {
                problems.push(Problem {
                    file: "course.toml".into(),
                    line: line_of(text("course.toml"), "framework"),
                    message: format!(
                        "the framework file {:?} is not in the package",
                        course.framework
                    ),
                });
                None
            }
            Some(bytes) => {
                let framework: Option<Framework> =
                    parse_toml(&course.framework, bytes, 1, &mut problems);
                if let Some(framework) = &framework {
                    check_framework(&course.framework, framework, &mut problems);
                }
                framework
            }
        });

    let mut modules = Vec::new();
    for (path, bytes) in texts.range("modules/".to_owned()..) {
        if !path.starts_with("modules/") {
            break;
        }
        if !path.ends_with(".md") {
            continue;
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            problems.push(Problem {
                file: path.clone(),
                line: 0,
                message: "not UTF-8 text".into(),
            });
            continue;
        };
        if let Some(module) = module_file::parse(path, text, attachments, &mut problems) {
            modules.push((path.clone(), module));
        }
    }
    if modules.is_empty() && problems.is_empty() {
        problems.push(Problem {
            file: "modules/".into(),
            line: 0,
            message: "the package has no module files (modules/*.md)".into(),
        });
    }
    modules.sort_by_key(|(_, module)| module.position);
    check_modules(&modules, &mut problems);

    let Some(course) = course else {
        return Err(problems);
    };
    let Some(framework) = framework else {
        return Err(problems);
    };
    check_slug("course.toml", 0, &course.slug, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    let files = attachments
        .iter()
        .map(|(path, size)| {
            (
                path.clone(),
                PackageFile {
                    size: *size,
                    content_type: content_type(path).to_owned(),
                },
            )
        })
        .collect();
    Ok(CoursePackage {
        slug: course.slug,
        version: course.version,
        title: course.title,
        framework,
        completion: course.completion,
        modules: modules.into_iter().map(|(_, module)| module).collect(),
        files,
    })
}

/// The MIME type of a package file, from its extension.
pub fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "pdf" => "application/pdf",
        "odt" => "application/vnd.oasis.opendocument.text",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "txt" => "text/plain; charset=utf-8",
        "vtt" => "text/vtt; charset=utf-8",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        _ => "application/octet-stream",
    }
}

fn line_of(bytes: Option<&Vec<u8>>, key: &str) -> usize {
    bytes
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|text| {
            text.lines()
                .position(|line| line.trim_start().starts_with(key))
                .map(|i| i + 1)
        })
        .unwrap_or(0)
}

/// Parses TOML, reporting a syntax or shape error at its line (`first_line` is the file line of
/// the text's first line).
pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(
    file: &str,
    bytes: &[u8],
    first_line: usize,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        problems.push(Problem {
            file: file.into(),
            line: 0,
            message: "not UTF-8 text".into(),
        });
        return None;
    };
    match toml::from_str(text) {
        Ok(value) => Some(value),
        Err(err) => {
            let line = err
                .span()
                .map(|span| text[..span.start.min(text.len())].lines().count().max(1))
                .unwrap_or(1);
            problems.push(Problem {
                file: file.into(),
                line: first_line + line - 1,
                message: err.message().to_owned(),
            });
            None
        }
    }
}

/// Slugs are lower-case ASCII letters, digits and hyphens: they appear in URLs and must stay stable.
pub(crate) fn check_slug(file: &str, line: usize, slug: &str, problems: &mut Vec<Problem>) {
    let valid = !slug.is_empty()
        && slug.len() <= 64
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        problems.push(Problem {
            file: file.into(),
            line,
            message: format!("slug {slug:?} must be 1–64 characters of a–z, 0–9 and '-'"),
        });
    }
}

fn check_framework(file: &str, framework: &Framework, problems: &mut Vec<Problem>) {
    if framework.phases.len() < 2 {
        problems.push(Problem {
            file: file.into(),
            line: 0,
            message: "a framework needs at least two phases".into(),
        });
    }
    if framework.subareas.is_empty() {
        problems.push(Problem {
            file: file.into(),
            line: 0,
            message: "a framework needs at least one sub-area".into(),
        });
    }
    let mut seen = std::collections::HashSet::new();
    for item in framework.phases.iter().chain(&framework.subareas) {
        check_slug(file, 0, &item.slug, problems);
        if !seen.insert(&item.slug) {
            problems.push(Problem {
                file: file.into(),
                line: 0,
                message: format!("the slug {:?} is used twice", item.slug),
            });
        }
    }
}

fn check_modules(modules: &[(String, Module)], problems: &mut Vec<Problem>) {
    let mut slugs = std::collections::HashMap::new();
    let mut positions = std::collections::HashMap::new();
    let mut rounds = std::collections::HashMap::new();
    for (path, module) in modules {
        if let Some(other) = slugs.insert(module.slug.clone(), path) {
            problems.push(Problem {
                file: path.clone(),
                line: 0,
                message: format!("module slug {:?} is also used by {other}", module.slug),
            });
        }
        if let Some(other) = positions.insert(module.position, path) {
            problems.push(Problem {
                file: path.clone(),
                line: 0,
                message: format!("position {} is also used by {other}", module.position),
            });
        }
        for block in &module.blocks {
            if let Block::SelfAssessment { round } = block
                && let Some(other) = rounds.insert(*round, path)
            {
                problems.push(Problem {
                    file: path.clone(),
                    line: 0,
                    message: format!("the {round:?} self-assessment also appears in {other}"),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests;
