//! Markdown to HTML that is safe to put in a page: raw HTML in the source is shown as text, and
//! links and images may only point to http(s), mailto or relative addresses.
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, html};

fn safe_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    match lower.split_once(':') {
        // No scheme: relative, or a fragment.
        None => true,
        Some((scheme, _))
            if scheme.contains('/') || scheme.contains('#') || scheme.contains('?') =>
        {
            true
        }
        Some((scheme, _)) => matches!(scheme, "http" | "https" | "mailto"),
    }
}

/// Renders Markdown (CommonMark plus tables) to sanitised HTML.
pub fn render_markdown(source: &str) -> String {
    let parser = Parser::new_ext(source, Options::ENABLE_TABLES).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) if !safe_url(&dest_url) => Event::Start(Tag::Link {
            link_type,
            dest_url: CowStr::Borrowed("#"),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) if !safe_url(&dest_url) => Event::Start(Tag::Image {
            link_type,
            dest_url: CowStr::Borrowed("#"),
            title,
            id,
        }),
        other => other,
    });
    let mut out = String::with_capacity(source.len() * 2);
    html::push_html(&mut out, parser);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_and_script_links_are_neutralised() {
        let html = render_markdown(
            "Hej <script>alert(1)</script>\n\n[x](javascript:alert(1)) [y](https://ok.example) [z](/rel)",
        );
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("href=\"https://ok.example\""));
        assert!(html.contains("href=\"/rel\""));
    }

    #[test]
    fn markdown_renders_headings_lists_and_emphasis() {
        let html = render_markdown("## Rubrik\n\n- ett\n- två\n\n*viktigt*");
        assert!(html.contains("<h2>Rubrik</h2>"));
        assert!(html.contains("<li>två</li>"));
        assert!(html.contains("<em>viktigt</em>"));
    }
}
