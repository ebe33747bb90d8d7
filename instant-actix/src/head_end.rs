//! Where the snippet goes in a page whose head is plain markup, found without the HTML rewriter.
//!
//! Most pages begin the same way: a doctype, `<html>`, `<head>`, then `meta`, `link`, `base`,
//! `title`, `style` and `script` elements, comments and white space, then `</head>`. For such a
//! page the insertion point is the `<` of `</head>`, and a scan that knows only these constructs
//! finds it at a fraction of the cost of the full tokenizer. Anything else before `</head>` (an
//! unknown element, text, `<template>`, `<noscript>`, a script holding `<!--`, a self-closing
//! `<head/>`, a second `<head>`, a page cut short) makes the scan give up, and the HTML rewriter
//! decides as it always did. The scan follows the tokenizer states of the HTML standard for the
//! constructs it accepts (tags with quoted and unquoted attributes, comments with their abrupt
//! endings, raw text up to its appropriate end tag), so where it answers, it answers what the
//! rewriter would: the fuzz checks compare the two on arbitrary pages.

/// The elements that may appear in the head of a page the scan accepts, and how their content
/// is read.
enum Content {
    /// A void element (`meta`, `link`, `base`): no content, no end tag.
    Void,
    /// Raw text up to the element's own end tag (`title`, `style`, `script`).
    RawText(&'static [u8]),
}

/// The byte offset of the `<` of the head's end tag, when the page starts with a head the scan
/// can read to its end; `None` when it cannot tell (the HTML rewriter then decides).
pub(crate) fn insertion_point(page: &[u8]) -> Option<usize> {
    let mut scan = Scan { page, at: 0 };
    let mut in_head = false;
    let mut seen_html = false;
    loop {
        scan.skip_white_space();
        if scan.rest().first() != Some(&b'<') {
            // Text, or the page ends before `</head>`.
            return None;
        }
        let rest = scan.rest();
        if rest.starts_with(b"<!--") {
            scan.comment()?;
        } else if rest.len() > 9 && rest[2..9].eq_ignore_ascii_case(b"doctype") && rest[1] == b'!' {
            if in_head || seen_html {
                return None;
            }
            scan.doctype()?;
        } else if rest.get(1) == Some(&b'/') {
            let tag_start = scan.at;
            scan.at += 2;
            let name = scan.tag_name()?;
            // Only a whole end tag counts: a page cut inside it ends without one.
            if in_head && name.eq_ignore_ascii_case(b"head") && scan.attributes().is_some() {
                return Some(tag_start);
            }
            return None;
        } else {
            scan.at += 1;
            let name = scan.tag_name()?;
            let self_closing = scan.attributes()?;
            if name.eq_ignore_ascii_case(b"html") && !seen_html && !in_head && !self_closing {
                seen_html = true;
            } else if name.eq_ignore_ascii_case(b"head") && !in_head && !self_closing {
                in_head = true;
            } else if in_head {
                match head_element(name)? {
                    Content::Void => {}
                    Content::RawText(_) if self_closing => return None,
                    Content::RawText(end) => scan.raw_text(end)?,
                }
            } else {
                return None;
            }
        }
    }
}

/// The elements accepted inside the head.
fn head_element(name: &[u8]) -> Option<Content> {
    const VOID: [&[u8]; 3] = [b"meta", b"link", b"base"];
    const RAW_TEXT: [&[u8]; 3] = [b"title", b"style", b"script"];
    if VOID.iter().any(|v| name.eq_ignore_ascii_case(v)) {
        return Some(Content::Void);
    }
    RAW_TEXT
        .iter()
        .find(|r| name.eq_ignore_ascii_case(r))
        .map(|r| Content::RawText(r))
}

/// HTML's white space between tokens: tab, line feed, form feed, carriage return, space.
fn is_white_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

/// A cursor over the page.
struct Scan<'a> {
    page: &'a [u8],
    at: usize,
}

impl<'a> Scan<'a> {
    fn rest(&self) -> &'a [u8] {
        self.page.get(self.at..).unwrap_or_default()
    }

    fn skip_white_space(&mut self) {
        while self.page.get(self.at).copied().is_some_and(is_white_space) {
            self.at += 1;
        }
    }

    /// Past `needle`, searched from the cursor; `None` when the page ends first.
    fn skip_past(&mut self, needle: &[u8]) -> Option<()> {
        let found = find(self.rest(), needle)?;
        self.at += found + needle.len();
        Some(())
    }

    /// A comment, the cursor on its `<!--`: it ends at `-->` or `--!>`, or at once with `<!-->`
    /// or `<!--->`.
    fn comment(&mut self) -> Option<()> {
        self.at += 4;
        let rest = self.rest();
        if rest.starts_with(b">") {
            self.at += 1;
            return Some(());
        }
        if rest.starts_with(b"->") {
            self.at += 2;
            return Some(());
        }
        let end = match (find(rest, b"-->"), find(rest, b"--!>")) {
            (Some(a), Some(b)) if b < a => b + 4,
            (Some(a), _) => a + 3,
            (None, Some(b)) => b + 4,
            (None, None) => return None,
        };
        self.at += end;
        Some(())
    }

    /// A doctype, the cursor on its `<!`: it ends at the first `>`. One with a quoted identifier
    /// is left to the rewriter.
    fn doctype(&mut self) -> Option<()> {
        let rest = self.rest();
        let end = rest.iter().position(|&b| b == b'>')?;
        if rest[..end].iter().any(|&b| b == b'"' || b == b'\'') {
            return None;
        }
        self.at += end + 1;
        Some(())
    }

    /// A tag name, the cursor on its first byte: an ASCII letter, then anything up to white
    /// space, `/` or `>`.
    fn tag_name(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest();
        if !rest.first()?.is_ascii_alphabetic() {
            return None;
        }
        let len = rest
            .iter()
            .position(|&b| is_white_space(b) || b == b'/' || b == b'>')?;
        self.at += len;
        Some(&rest[..len])
    }

    /// A tag's attributes up to and past its `>`; whether the tag ends with `/>`.
    fn attributes(&mut self) -> Option<bool> {
        loop {
            // Before an attribute name: white space and `/` are skipped.
            let mut slash = false;
            loop {
                match *self.page.get(self.at)? {
                    b'>' => {
                        self.at += 1;
                        return Some(slash);
                    }
                    b'/' => slash = true,
                    b if is_white_space(b) => slash = false,
                    _ => break,
                }
                self.at += 1;
            }
            // The name: its first byte may be `=`; it ends at white space, `/`, `>` or `=`.
            self.at += 1;
            while let Some(&b) = self.page.get(self.at) {
                if is_white_space(b) || matches!(b, b'/' | b'>' | b'=') {
                    break;
                }
                self.at += 1;
            }
            self.skip_white_space();
            if self.page.get(self.at) != Some(&b'=') {
                continue;
            }
            self.at += 1;
            self.skip_white_space();
            match *self.page.get(self.at)? {
                quote @ (b'"' | b'\'') => {
                    self.at += 1;
                    self.skip_past(&[quote])?;
                }
                // A missing value: the `>` ends the tag.
                b'>' => {}
                _ => {
                    while let Some(&b) = self.page.get(self.at) {
                        if is_white_space(b) || b == b'>' {
                            break;
                        }
                        self.at += 1;
                    }
                }
            }
        }
    }

    /// The raw text of `title`, `style` or `script` and its end tag: the text ends at the first
    /// `</name` followed by white space, `/` or `>` (ASCII case ignored). A script whose text
    /// holds `<!--` is left to the rewriter (the escaped states of script data).
    fn raw_text(&mut self, name: &[u8]) -> Option<()> {
        let text_start = self.at;
        loop {
            let lt = find(self.rest(), b"</")?;
            let candidate = self.at + lt;
            let after = candidate + 2 + name.len();
            let matches = self
                .page
                .get(candidate + 2..after)
                .is_some_and(|n| n.eq_ignore_ascii_case(name));
            if matches {
                let next = *self.page.get(after)?;
                if is_white_space(next) || next == b'/' || next == b'>' {
                    if name == b"script"
                        && find(&self.page[text_start..candidate], b"<!--").is_some()
                    {
                        return None;
                    }
                    self.at = after;
                    // The end tag's attributes, if any, are read like a start tag's.
                    self.attributes()?;
                    return Some(());
                }
            }
            self.at = candidate + 2;
        }
    }
}

/// The first position of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::insertion_point;

    fn at(page: &str) -> Option<usize> {
        insertion_point(page.as_bytes())
    }

    #[test]
    fn finds_the_head_end_of_a_plain_page() {
        let page = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
                    <title>Orders</title><link rel=stylesheet href=/s.css>\
                    <style>td{padding:2px}</style><script>let a = 1 < 2;</script>\
                    <!-- note --></head><body>";
        assert_eq!(at(page), page.find("</head>"));
        let page = "<HTML><HEAD><META CHARSET=utf-8 /></HEAD >";
        assert_eq!(at(page), page.find("</HEAD"));
        let page = "<head><title>a </titlex> b</title></head>";
        assert_eq!(at(page), page.find("</head>"));
        // `<!-->` and `<!--->` are whole comments: the `</head>` after them is the head's end.
        let page = "<head><!--></head>";
        assert_eq!(at(page), Some(11));
        let page = "<head><!---><!----></head>";
        assert_eq!(at(page), page.find("</head>"));
        let page = "<head><!-- a --!> <meta></head>";
        assert_eq!(at(page), page.find("</head>"));
    }

    #[test]
    fn a_head_end_inside_markup_is_not_the_head_end() {
        let page = "<head><meta content=\"</head>\" x='</head>'><title></head></title>\
                    <script>\"</head>\"</script><!-- </head> --></head>";
        assert_eq!(at(page), page.rfind("</head>"));
    }

    #[test]
    fn gives_up_on_what_it_does_not_know() {
        for page in [
            "",
            "<html><head><title>t</title>",
            "<head><noscript></head></noscript></head>",
            "<head><template></head></template></head>",
            "<head><script><!--<script></head></script>--></script></head>",
            "<head/><meta></head>",
            "<head><head></head>",
            "<html><body></body>",
            "text<head></head>",
            "<head>text</head>",
            "<head><div></div></head>",
            "<!DOCTYPE html PUBLIC \"-//W3C//DTD\"><head></head>",
            "<head><? pi ?></head>",
            "<head></header></head>",
            "<head><title/></title></head>",
            "<head><meta content=\"unterminated></head>",
            "\u{feff}<head></head>",
            "<head></head",
            "<head></head class='x",
        ] {
            assert_eq!(at(page), None, "{page:?}");
        }
    }
}
