//! Notes are Markdown. They are rendered with raw HTML turned into visible text and links kept
//! to safe schemes, so a note can format text but never inject markup or script.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};

/// Renders Markdown to HTML that is safe to embed in a page.
pub fn render(markdown: &str) -> String {
    let parser = Parser::new_ext(
        markdown,
        Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS,
    );
    let events = parser.map(|event| match event {
        // Typed HTML is shown as the text it is.
        Event::Html(text) | Event::InlineHtml(text) => Event::Text(text),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        // Images would load from anywhere; show their text as a link instead.
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        other => other,
    });
    let mut out = String::with_capacity(markdown.len() * 2);
    html::push_html(&mut out, events);
    out
}

/// Keeps http(s), mailto and tel links and page-relative ones; anything else (javascript:,
/// data:…) becomes an inert `#`.
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let lower = url.trim().to_ascii_lowercase();
    let allowed = ["http://", "https://", "mailto:", "tel:"]
        .iter()
        .any(|s| lower.starts_with(s))
        || lower.starts_with('/') && !lower.starts_with("//")
        || lower.starts_with('#');
    if allowed { url } else { CowStr::Borrowed("#") }
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn formats_markdown() {
        assert_eq!(
            render("Call **Ana** about *renewal*"),
            "<p>Call <strong>Ana</strong> about <em>renewal</em></p>\n"
        );
        assert_eq!(
            render("- one\n- two"),
            "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
        );
    }

    #[test]
    fn typed_html_shows_as_text() {
        assert_eq!(
            render("<script>alert(3)</script><b>ok</b>"),
            "&lt;script&gt;alert(3)&lt;/script&gt;&lt;b&gt;ok&lt;/b&gt;"
        );
        assert_eq!(
            render("a <img src=x onerror=alert(1)> b"),
            "<p>a &lt;img src=x onerror=alert(1)&gt; b</p>\n"
        );
    }

    #[test]
    fn links_keep_only_safe_schemes() {
        assert_eq!(
            render("[x](javascript:alert(1))"),
            "<p><a href=\"#\">x</a></p>\n"
        );
        assert_eq!(
            render("[site](https://acme.example)"),
            "<p><a href=\"https://acme.example\">site</a></p>\n"
        );
        assert_eq!(
            render("![pic](https://evil.example/p.png)"),
            "<p><a href=\"https://evil.example/p.png\">pic</a></p>\n"
        );
    }
}
