//! A plain document (a title, headings, labels and paragraphs) laid out on A4 pages as a tagged
//! PDF with krilla. It knows nothing of the course: the pages that offer a PDF build a
//! [`Document`] and hand it here.
//!
//! The fonts are DejaVu Sans and DejaVu Sans Bold cut down to the Latin scripts (`fonts/`, with
//! their licence), embedded in the binary so a PDF looks the same on every deployment and every
//! Swedish, Sami or Finnish letter prints. The tag tree gives each heading its level and each
//! paragraph its own node, and the document its language and title, so a screen reader reads the
//! PDF as it reads the page.
use std::num::NonZeroU16;
use std::sync::LazyLock;

use krilla::{
    Document as PdfDocument, SerializeSettings,
    geom::Point,
    metadata::Metadata,
    page::PageSettings,
    tagging::{ContentTag, Tag, TagGroup, TagKind, TagTree},
    text::{Font, TextDirection},
};
use skrifa::{
    FontRef, MetadataProvider,
    instance::{LocationRef, Size},
};

static REGULAR: &[u8] = include_bytes!("fonts/DejaVuSans-Latin.ttf");
static BOLD: &[u8] = include_bytes!("fonts/DejaVuSans-Bold-Latin.ttf");

/// One block of the document, in reading order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A heading, level 1 to 3.
    Heading(u16, String),
    /// A short bold line that names what follows, such as a prompt above its answer.
    Label(String),
    /// Running text; line breaks in it are kept.
    Paragraph(String),
    /// Running text in grey, for "no answer yet" and the like.
    Note(String),
}

/// What to lay out: the document's title (also its metadata), its language tag (`sv`, `en`) and
/// its blocks.
#[derive(Debug, Clone)]
pub struct Document {
    pub title: String,
    pub lang: &'static str,
    pub blocks: Vec<Block>,
}

#[derive(Debug, thiserror::Error)]
#[error("the PDF could not be written: {0}")]
pub struct PdfError(String);

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;
const TEXT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;

/// A font as krilla draws it and as we measure it.
struct Face {
    font: Font,
    bytes: &'static [u8],
}

impl Face {
    fn load(bytes: &'static [u8]) -> Option<Face> {
        Some(Face {
            font: Font::new(bytes.into(), 0)?,
            bytes,
        })
    }

    /// The advance width of `text` at `size` points, without kerning (which only narrows it).
    fn width(&self, text: &str, size: f32) -> f32 {
        let Ok(font) = FontRef::new(self.bytes) else {
            return 0.0;
        };
        let charmap = font.charmap();
        let metrics = font.glyph_metrics(Size::new(size), LocationRef::default());
        text.chars()
            .filter_map(|c| charmap.map(c))
            .filter_map(|glyph| metrics.advance_width(glyph))
            .sum()
    }
}

struct Faces {
    regular: Face,
    bold: Face,
}

static FACES: LazyLock<Option<Faces>> = LazyLock::new(|| {
    Some(Faces {
        regular: Face::load(REGULAR)?,
        bold: Face::load(BOLD)?,
    })
});

/// How a block is set: its face, size, colour and the space before it.
struct Style {
    bold: bool,
    size: f32,
    grey: bool,
    space_before: f32,
}

fn style(block: &Block) -> Style {
    let (bold, size, grey, space_before) = match block {
        Block::Heading(1, _) => (true, 20.0, false, 0.0),
        Block::Heading(2, _) => (true, 15.0, false, 18.0),
        Block::Heading(..) => (true, 12.5, false, 12.0),
        Block::Label(_) => (true, 10.5, false, 8.0),
        Block::Paragraph(_) => (false, 10.5, false, 3.0),
        Block::Note(_) => (false, 10.5, true, 3.0),
    };
    Style {
        bold,
        size,
        grey,
        space_before,
    }
}

fn text_of(block: &Block) -> &str {
    match block {
        Block::Heading(_, text)
        | Block::Label(text)
        | Block::Paragraph(text)
        | Block::Note(text) => text,
    }
}

/// Breaks `text` into lines no wider than `width`: at spaces where it can, inside a word only
/// when the word alone is wider than the line. Line breaks in the text are kept.
fn wrap(face: &Face, size: f32, text: &str, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split(' ') {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if face.width(&candidate, size) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // A word wider than the line (a long address) is cut where it must be.
            for c in word.chars() {
                line.push(c);
                if face.width(&line, size) > width && line.chars().count() > 1 {
                    let last = line.pop().unwrap_or(c);
                    lines.push(std::mem::take(&mut line));
                    line.push(last);
                }
            }
        }
        lines.push(line);
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// A line placed on a page: which block it belongs to, where its baseline sits, and its text.
struct PlacedLine {
    block: usize,
    baseline: f32,
    text: String,
}

/// Places every line of every block on pages, top to bottom. A heading is kept with the first
/// lines that follow it, so no page ends on a heading.
fn paginate(faces: &Faces, blocks: &[Block]) -> Vec<Vec<PlacedLine>> {
    let mut pages: Vec<Vec<PlacedLine>> = vec![Vec::new()];
    let mut y = MARGIN;
    for (index, block) in blocks.iter().enumerate() {
        let style = style(block);
        let face = if style.bold {
            &faces.bold
        } else {
            &faces.regular
        };
        let leading = style.size * 1.4;
        let lines = wrap(face, style.size, text_of(block), TEXT_WIDTH);
        let keep_with_next = if matches!(block, Block::Heading(..) | Block::Label(_)) {
            3.0 * 10.5 * 1.4
        } else {
            0.0
        };
        let at_top = pages.last().is_some_and(Vec::is_empty);
        let before = if at_top { 0.0 } else { style.space_before };
        if y + before + leading + keep_with_next > PAGE_HEIGHT - MARGIN && !at_top {
            pages.push(Vec::new());
            y = MARGIN;
        } else {
            y += before;
        }
        for text in lines {
            if y + leading > PAGE_HEIGHT - MARGIN && pages.last().is_some_and(|p| !p.is_empty()) {
                pages.push(Vec::new());
                y = MARGIN;
            }
            y += leading;
            if let Some(page) = pages.last_mut() {
                page.push(PlacedLine {
                    block: index,
                    baseline: y - leading * 0.28,
                    text,
                });
            }
        }
    }
    pages
}

fn tag_for(block: &Block) -> TagKind {
    match block {
        Block::Heading(level, text) => {
            let level = NonZeroU16::new((*level).clamp(1, 6)).unwrap_or(NonZeroU16::MIN);
            Tag::Hn(level, Some(text.clone())).into()
        }
        Block::Label(_) | Block::Paragraph(_) | Block::Note(_) => Tag::P.into(),
    }
}

/// The document as PDF bytes.
pub fn render(document: &Document) -> Result<Vec<u8>, PdfError> {
    let faces = FACES
        .as_ref()
        .ok_or_else(|| PdfError("the embedded fonts could not be read".to_owned()))?;
    let settings = SerializeSettings {
        enable_tagging: true,
        ..SerializeSettings::default()
    };
    let mut pdf = PdfDocument::new_with(settings);
    pdf.set_metadata(
        Metadata::new()
            .title(document.title.clone())
            .language(document.lang.to_owned())
            .creator("coursebridge".to_owned()),
    );
    let mut groups: Vec<TagGroup> = document
        .blocks
        .iter()
        .map(|block| TagGroup::new(tag_for(block)))
        .collect();
    for lines in paginate(faces, &document.blocks) {
        let Some(size) = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT) else {
            return Err(PdfError("the page size was refused".to_owned()));
        };
        let mut page = pdf.start_page_with(size);
        let mut surface = page.surface();
        let mut lines = lines.into_iter().peekable();
        while let Some(first) = lines.next() {
            let block_index = first.block;
            let Some(block) = document.blocks.get(block_index) else {
                continue;
            };
            let style = style(block);
            let face = if style.bold {
                &faces.bold
            } else {
                &faces.regular
            };
            surface.set_fill(Some(fill(style.grey)));
            let id = surface.start_tagged(ContentTag::Other);
            let mut line = Some(first);
            while let Some(placed) = line {
                surface.draw_text(
                    Point::from_xy(MARGIN, placed.baseline),
                    face.font.clone(),
                    style.size,
                    &placed.text,
                    false,
                    TextDirection::Auto,
                );
                line = lines.next_if(|next| next.block == block_index);
            }
            surface.end_tagged();
            if let Some(group) = groups.get_mut(block_index) {
                group.push(id);
            }
        }
        surface.finish();
        page.finish();
    }
    let mut tree = TagTree::new().with_lang(Some(document.lang.to_owned()));
    for group in groups {
        tree.push(group);
    }
    pdf.set_tag_tree(tree);
    pdf.finish().map_err(|error| PdfError(format!("{error:?}")))
}

fn fill(grey: bool) -> krilla::paint::Fill {
    let shade = if grey { 85 } else { 17 };
    krilla::paint::Fill {
        paint: krilla::color::rgb::Color::new(shade, shade, shade).into(),
        ..krilla::paint::Fill::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faces() -> &'static Faces {
        FACES.as_ref().expect("the embedded fonts load")
    }

    #[test]
    fn wrapped_lines_fit_the_text_width() {
        let face = &faces().regular;
        let text = "Vår kommun har påbörjat arbetet med digital omställning och ".repeat(12);
        let lines = wrap(face, 10.5, &text, TEXT_WIDTH);
        assert!(lines.len() > 5, "{lines:?}");
        for line in &lines {
            assert!(face.width(line, 10.5) <= TEXT_WIDTH, "{line}");
        }
        assert_eq!(
            lines.join(" ").split_whitespace().count(),
            text.split_whitespace().count()
        );
    }

    #[test]
    fn a_word_wider_than_the_line_is_cut() {
        let face = &faces().regular;
        let lines = wrap(face, 10.5, &"x".repeat(400), TEXT_WIDTH);
        assert!(lines.len() >= 2);
        assert_eq!(lines.concat().len(), 400);
    }

    #[test]
    fn line_breaks_in_an_answer_are_kept() {
        let face = &faces().regular;
        assert_eq!(wrap(face, 10.5, "ett\ntvå", TEXT_WIDTH), ["ett", "två"]);
    }

    #[test]
    fn a_long_document_runs_over_pages_and_no_page_ends_on_a_heading() {
        let mut blocks = vec![Block::Heading(1, "Mina svar".to_owned())];
        for n in 0..30 {
            blocks.push(Block::Heading(2, format!("Modul {n}")));
            blocks.push(Block::Paragraph("Ett svar som tar plats. ".repeat(20)));
        }
        let pages = paginate(faces(), &blocks);
        assert!(pages.len() > 2);
        for page in &pages {
            let last = page.last().expect("no empty page");
            assert!(!matches!(blocks[last.block], Block::Heading(..)));
            assert!(page.iter().all(|line| line.baseline < PAGE_HEIGHT - MARGIN));
        }
    }
}
