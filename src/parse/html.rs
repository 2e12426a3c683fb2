//! Fast HTML → text for the hot path (rules and index).
//!
//! html2text renders layout beautifully but costs ~0.6 ms per body; rules and the index only need
//! words in reading order with rows and cells kept apart, so this is a single pass over the bytes.
//! `show` and the web page use html2text where a person reads the result.

/// Render HTML to plain text: block elements and `<br>` become newlines, table cells are separated
/// by a tab, `<script>`/`<style>`/`<head>` content and comments are dropped, entities are decoded.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let bytes = html.as_bytes();
    let mut i = 0;
    let mut text_start = 0;
    let mut skip_until: Option<&'static str> = None;

    while i < bytes.len() {
        if bytes[i] != b'<' {
            i += 1;
            continue;
        }
        // Flush text before the tag.
        if skip_until.is_none() && text_start < i {
            push_text(&mut out, &html[text_start..i]);
        }
        // Comments.
        if html[i..].starts_with("<!--") {
            let end = html[i + 4..]
                .find("-->")
                .map_or(bytes.len(), |p| i + 4 + p + 3);
            i = end;
            text_start = i;
            continue;
        }
        let Some(close) = memchr::memchr(b'>', &bytes[i..]) else {
            // Unclosed '<': treat the rest as text.
            if skip_until.is_none() {
                push_text(&mut out, &html[i..]);
            }
            return finish(out);
        };
        let tag = &html[i + 1..i + close];
        i += close + 1;
        text_start = i;

        let is_end = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();

        if let Some(until) = skip_until {
            if is_end && name == until {
                skip_until = None;
            }
            continue;
        }
        match name.as_str() {
            "script" | "style" | "head" | "title" | "template" if !is_end => {
                skip_until = Some(match name.as_str() {
                    "script" => "script",
                    "style" => "style",
                    "head" => "head",
                    "title" => "title",
                    _ => "template",
                });
            }
            "br" | "p" | "div" | "tr" | "li" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
            | "table" | "ul" | "ol" | "blockquote" | "pre" | "hr" | "section" | "article"
            | "header" | "footer" | "dt" | "dd" => newline(&mut out),
            "td" | "th" if !is_end && !out.ends_with('\n') && !out.is_empty() => {
                trim_trailing_spaces(&mut out);
                out.push('\t');
            }
            _ => {}
        }
    }
    if skip_until.is_none() && text_start < bytes.len() {
        push_text(&mut out, &html[text_start..]);
    }
    finish(out)
}

fn push_text(out: &mut String, raw: &str) {
    let decoded = html_escape::decode_html_entities(raw);
    for ch in decoded.chars() {
        let ch = if ch.is_whitespace() && ch != '\u{a0}' && ch != '\u{202f}' {
            ' '
        } else {
            ch
        };
        if ch == ' ' && (out.is_empty() || out.ends_with([' ', '\n', '\t'])) {
            continue;
        }
        out.push(ch);
    }
}

fn trim_trailing_spaces(out: &mut String) {
    while out.ends_with(' ') {
        out.pop();
    }
}

fn newline(out: &mut String) {
    trim_trailing_spaces(out);
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

fn finish(mut out: String) -> String {
    trim_trailing_spaces(&mut out);
    while out.ends_with('\n') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_and_cells_stay_apart() {
        let html = "<table><tr><td>Total due</td><td>1.234,56&nbsp;&euro;</td></tr>\
                    <tr><td>Due date</td><td>20.03.2026</td></tr></table>";
        assert_eq!(
            html_to_text(html),
            "Total due\t1.234,56\u{a0}€\nDue date\t20.03.2026"
        );
    }

    #[test]
    fn script_style_and_comments_are_dropped() {
        let html = "<html><head><title>x</title><style>p{}</style></head><body>\
                    <script>alert(1)</script><!-- hidden -->Hello <b>world</b></body></html>";
        assert_eq!(html_to_text(html), "Hello world");
    }

    #[test]
    fn unclosed_tag_keeps_text_and_never_panics() {
        assert_eq!(html_to_text("a <b"), "a <b");
        for s in ["<", "<!--", "</", "<<<>>>", "<td>", "é<br>ü"] {
            let _ = html_to_text(s);
        }
    }
}
