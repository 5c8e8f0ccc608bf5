//! Plain text from the small HTML fragments platforms send as post bodies
//! (Mastodon's `content`): tags dropped, paragraphs and line breaks kept,
//! entities decoded.

/// Converts a post's HTML to plain text. Never fails: unknown tags are
/// dropped and unknown entities are kept as written.
pub fn to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find(['<', '&']) {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        if rest.starts_with('<') {
            let Some(end) = rest.find('>') else {
                // A lone `<` is text.
                out.push_str(rest);
                rest = "";
                break;
            };
            let tag = rest[1..end].trim().to_ascii_lowercase();
            let name = tag
                .trim_start_matches('/')
                .split(|c: char| c.is_whitespace() || c == '/')
                .next()
                .unwrap_or_default();
            match name {
                "br" => out.push('\n'),
                "p" if tag.starts_with('/') => out.push_str("\n\n"),
                "li" if !tag.starts_with('/') => out.push_str("\n- "),
                _ => {}
            }
            rest = &rest[end + 1..];
        } else {
            let (decoded, used) = entity(rest);
            out.push_str(&decoded);
            rest = &rest[used..];
        }
    }
    out.push_str(rest);
    tidy(&out)
}

/// Decodes entities only, for platforms that escape plain text (X sends
/// "A &amp; B" for "A & B"). Unknown entities are kept as written.
pub fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let (decoded, used) = entity(&rest[start..]);
        out.push_str(&decoded);
        rest = &rest[start + used..];
    }
    out.push_str(rest);
    out
}

/// Decodes the entity at the start of `text`; returns it and the bytes used.
fn entity(text: &str) -> (String, usize) {
    // Byte search: `;` is ASCII, so slicing at it is always on a boundary.
    let Some(end) = text.bytes().take(12).position(|b| b == b';') else {
        return ("&".into(), 1);
    };
    let name = &text[1..end];
    let decoded = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" | "#39" => Some('\''),
        "nbsp" => Some(' '),
        _ => name
            .strip_prefix("#x")
            .or_else(|| name.strip_prefix("#X"))
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .or_else(|| name.strip_prefix('#').and_then(|dec| dec.parse().ok()))
            .and_then(char::from_u32),
    };
    match decoded {
        Some(c) => (c.to_string(), end + 1),
        None => ("&".into(), 1),
    }
}

/// Trims each line and keeps at most one blank line between paragraphs.
fn tidy(text: &str) -> String {
    let mut lines: Vec<&str> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() && lines.last().is_none_or(|l| l.is_empty()) {
            continue;
        }
        lines.push(line);
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_plain_text_is_decoded_once() {
        assert_eq!(
            decode_entities("bags &amp; kids &lt;3 &gt;:( &amp;lt; & AT&T"),
            "bags & kids <3 >:( &lt; & AT&T"
        );
        assert_eq!(decode_entities("no entities"), "no entities");
    }

    #[test]
    fn paragraphs_links_and_mentions_become_plain_text() {
        let html = r#"<p><span class="h-card"><a href="https://social.example/@northwind" class="u-url mention">@<span>northwind</span></a></span> my flight was cancelled &amp; nobody answers</p><p>Booking ref in DMs<br>thanks &#8212; Jo</p>"#;
        assert_eq!(
            to_text(html),
            "@northwind my flight was cancelled & nobody answers\n\nBooking ref in DMs\nthanks \u{2014} Jo"
        );
    }

    #[test]
    fn hidden_link_parts_are_kept_so_urls_stay_whole() {
        let html = r#"<p><a href="https://status.example/incidents/42"><span class="invisible">https://</span><span class="ellipsis">status.example/incide</span><span class="invisible">nts/42</span></a></p>"#;
        assert_eq!(to_text(html), "https://status.example/incidents/42");
    }

    #[test]
    fn odd_input_never_panics() {
        for odd in [
            "<",
            "&",
            "a < b",
            "&#xZZ;",
            "&#99999999;",
            "<p",
            "&unknown;",
            "é&amp",
            "&éééééé;",
        ] {
            let _ = to_text(odd);
        }
        assert_eq!(to_text("a < b &unknown; &"), "a < b &unknown; &");
    }
}
