//! The streaming body that inserts the client snippet into an HTML page.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::error::Error as StdError;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::LazyLock;
use std::task::{Context, Poll, ready};

use actix_web::body::{BodySize, MessageBody};
use bytes::{Bytes, BytesMut};
use lol_html::html_content::{ContentType, Element, EndTag};
use lol_html::{
    ElementContentHandlers, EndTagHandler, HtmlRewriter, MemorySettings, OutputSink, Selector,
    Settings, end,
};
use pin_project_lite::pin_project;

use crate::head_end;

/// The rewriter's output, shared between the rewriter (which writes) and the body (which drains).
#[derive(Debug, Clone, Default)]
struct SharedSink(Rc<RefCell<BytesMut>>);

impl OutputSink for SharedSink {
    fn handle_chunk(&mut self, chunk: &[u8]) {
        self.0.borrow_mut().extend_from_slice(chunk);
    }
}

/// How far past a `</head` the rewriter is fed, so that it sees the end of the tag (`>`, or a few
/// spaces and then `>`) in the same write.
const HEAD_END_MARGIN: usize = 64;

/// Where the next write to the rewriter stops in `chunk[at..]`: a little past the next `</head`
/// (ASCII case ignored), else at the end of the chunk. Between two writes the body checks whether
/// the snippet is in; once it is, the rest of the chunk is passed on as it is (a slice of the same
/// buffer), so a page costs the parse of its head, not of its whole length. A `</head` inside a
/// comment, a script or an attribute only makes a shorter write: the rewriter, which knows where
/// it is in the markup, decides.
fn next_cut(chunk: &[u8], at: usize) -> usize {
    let mut from = at;
    while let Some(found) = chunk
        .get(from..)
        .and_then(|rest| rest.iter().position(|&b| b == b'<'))
    {
        let lt = from + found;
        if chunk
            .get(lt + 1..lt + 6)
            .is_some_and(|tag| tag[0] == b'/' && tag[1..].eq_ignore_ascii_case(b"head"))
        {
            return (lt + 6 + HEAD_END_MARGIN).min(chunk.len());
        }
        from = lt + 1;
    }
    chunk.len()
}

/// The selectors, parsed once per process: each response borrows them.
static HEAD: LazyLock<Selector> = LazyLock::new(|| "head".parse().expect("a valid selector"));
static BODY: LazyLock<Selector> = LazyLock::new(|| "body".parse().expect("a valid selector"));

/// The HTML rewriter of one page, until the snippet is in.
struct Rewriting {
    rewriter: HtmlRewriter<'static, SharedSink>,
    // Set by the rewriter's handlers when the snippet is in.
    injected: Rc<Cell<bool>>,
}

/// What feeding a chunk to the rewriter came to.
enum Fed {
    /// The snippet is not in yet: the rewriter wants more of the page.
    More,
    /// The snippet is in (or the rewriter gave up, having flushed what it held unmodified): the
    /// chunk's bytes from this offset on are to be passed on untouched.
    Finished(usize),
}

impl Rewriting {
    /// A rewriter inserting `snippet` into what it is fed, writing to `out`; it may buffer at most
    /// about `memory_limit` bytes before it bails out to pass-through.
    fn new(snippet: &str, memory_limit: usize, out: SharedSink) -> Self {
        let snippet: Rc<str> = Rc::from(snippet);
        let injected = Rc::new(Cell::new(false));
        // `</head>` first, then `</body>`, then the document end: the first one reached wins.
        let before_end_tag = |selector: &'static Selector| {
            let snippet = Rc::clone(&snippet);
            let injected = Rc::clone(&injected);
            let handlers =
                ElementContentHandlers::default().element(move |el: &mut Element<'_, '_>| {
                    if injected.get() {
                        return Ok(());
                    }
                    // End-tag handlers do not run for an implied end tag; the next fallback covers it.
                    if let Some(handlers) = el.end_tag_handlers() {
                        let snippet = Rc::clone(&snippet);
                        let injected = Rc::clone(&injected);
                        let handler: EndTagHandler<'static> =
                            Box::new(move |end: &mut EndTag<'_>| {
                                if !injected.replace(true) {
                                    end.before(&snippet, ContentType::Html);
                                }
                                Ok(())
                            });
                        handlers.push(handler);
                    }
                    Ok(())
                });
            (Cow::Borrowed(selector), handlers)
        };
        let head = before_end_tag(&HEAD);
        let body = before_end_tag(&BODY);
        let document_end = {
            let snippet = Rc::clone(&snippet);
            let injected = Rc::clone(&injected);
            end!(move |end| {
                if !injected.replace(true) {
                    end.append(&snippet, ContentType::Html);
                }
                Ok(())
            })
        };
        let settings = Settings::new()
            .append_element_content_handler(head)
            .append_element_content_handler(body)
            .append_document_content_handler(document_end)
            // Non-strict: ambiguous markup is parsed on a best guess instead of being an error.
            .with_strict(false)
            .with_graceful_bail_out_on_content_handler_error(true)
            .with_memory_settings(
                MemorySettings::new()
                    .with_max_allowed_memory_usage(memory_limit)
                    .with_graceful_bail_out_on_memory_limit_exceeded(true),
            );
        Self {
            rewriter: HtmlRewriter::new(settings, out),
            injected,
        }
    }

    /// Feeds `chunk`, a little past each `</head` candidate at a time; once the snippet is in,
    /// the rewriter is ended (it flushes, unchanged, the bytes it held back) and nothing more of
    /// the page is parsed.
    fn feed(&mut self, chunk: &[u8]) -> Fed {
        let mut at = 0;
        while at < chunk.len() {
            let end = next_cut(chunk, at);
            let written = self.rewriter.write(&chunk[at..end]);
            at = end;
            if let Err(error) = written {
                // The rewriter is poisoned but has flushed what it held, unmodified.
                tracing::warn!(%error, "instant: HTML rewriting stopped; the rest of the page passes through unchanged");
                return Fed::Finished(at);
            }
            if self.injected.get() {
                return Fed::Finished(at);
            }
        }
        Fed::More
    }

    /// Ends the page: flushes what the rewriter holds (and inserts the snippet at the document's
    /// end if it is not in yet).
    fn end(self) {
        if let Err(error) = self.rewriter.end() {
            tracing::warn!(%error, "instant: HTML rewriting failed at the end of the page");
        }
    }
}

/// Where the body is in its life.
enum State {
    /// A page that was whole in memory, with the snippet in: its parts (slices of the page and
    /// the snippet), last first.
    Whole(Vec<Bytes>),
    /// Chunks go through the HTML rewriter until the snippet is in.
    Rewriting(Box<Rewriting>),
    /// The snippet is in, or the rewriter gave up (memory cap, odd markup) after flushing its
    /// unparsed input as-is: later bytes are forwarded untouched, so the page is never truncated.
    Passthrough,
    /// The inner body has ended (or failed).
    Done,
}

pin_project! {
    /// A response body that inserts a snippet once: before `</head>`, else before `</body>`, else at
    /// the end of the document.
    ///
    /// A page whole in memory (a `Bytes` or `String` body, as most handlers answer) keeps its
    /// length: where its head is plain markup (see the `head_end` module) the snippet is put
    /// before `</head>` without the HTML rewriter; otherwise the rewriter reads it up to the
    /// insertion point. A streamed page streams chunk by chunk; only the bytes of a tag that spans
    /// two chunks are held back. Once the snippet is in, the rest of the page is not parsed: it
    /// passes through as the inner body produced it, as slices of the same buffers.
    #[doc(hidden)]
    pub struct InjectBody<B> {
        #[pin]
        inner: Option<B>,
        state: State,
        // The length of a whole page with the snippet in.
        whole_len: u64,
        out: SharedSink,
        // The part of the current chunk after the snippet, sent once `out` is drained.
        rest: Option<Bytes>,
    }
}

impl<B> std::fmt::Debug for InjectBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.state {
            State::Whole(_) => "whole",
            State::Rewriting(_) => "rewriting",
            State::Passthrough => "passthrough",
            State::Done => "done",
        };
        f.debug_struct("InjectBody")
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

impl<B: MessageBody> InjectBody<B> {
    /// Wraps `inner`, inserting `snippet`; the rewriter may buffer at most about `memory_limit`
    /// bytes before it bails out to pass-through.
    pub(crate) fn new(inner: B, snippet: String, memory_limit: usize) -> Self {
        let out = SharedSink::default();
        let inner = if matches!(inner.size(), BodySize::Sized(_)) {
            match inner.try_into_bytes() {
                Ok(page) => return Self::whole(&page, snippet, memory_limit),
                Err(inner) => inner,
            }
        } else {
            inner
        };
        let rewriting = Rewriting::new(&snippet, memory_limit, out.clone());
        Self {
            inner: Some(inner),
            state: State::Rewriting(Box::new(rewriting)),
            whole_len: 0,
            out,
            rest: None,
        }
    }

    /// A page whole in memory, with the snippet put in at once.
    fn whole(page: &Bytes, snippet: String, memory_limit: usize) -> Self {
        let parts = if let Some(at) = head_end::insertion_point(page) {
            vec![page.slice(at..), Bytes::from(snippet), page.slice(..at)]
        } else {
            let out = SharedSink::default();
            let mut rewriting = Rewriting::new(&snippet, memory_limit, out.clone());
            let rest = match rewriting.feed(page) {
                Fed::Finished(at) => {
                    // Ended only when the snippet is in: a rewriter that gave up is poisoned.
                    if rewriting.injected.get() {
                        rewriting.end();
                    }
                    at
                }
                Fed::More => {
                    rewriting.end();
                    page.len()
                }
            };
            let head = out.0.borrow_mut().split().freeze();
            vec![page.slice(rest..), head]
        };
        let whole_len = parts.iter().map(|p| p.len() as u64).sum();
        Self {
            inner: None,
            state: State::Whole(parts),
            whole_len,
            out: SharedSink::default(),
            rest: None,
        }
    }
}

impl<B> MessageBody for InjectBody<B>
where
    B: MessageBody,
{
    type Error = Box<dyn StdError>;

    fn size(&self) -> BodySize {
        match self.state {
            State::Whole(_) => BodySize::Sized(self.whole_len),
            _ => BodySize::Stream,
        }
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let mut this = self.project();
        loop {
            if let State::Whole(parts) = this.state {
                return match parts.pop() {
                    Some(part) if part.is_empty() => continue,
                    Some(part) => Poll::Ready(Some(Ok(part))),
                    None => {
                        *this.state = State::Done;
                        Poll::Ready(None)
                    }
                };
            }
            {
                let mut out = this.out.0.borrow_mut();
                if !out.is_empty() {
                    return Poll::Ready(Some(Ok(out.split().freeze())));
                }
            }
            if let Some(rest) = this.rest.take() {
                return Poll::Ready(Some(Ok(rest)));
            }
            let Some(inner) = this.inner.as_mut().as_pin_mut() else {
                return Poll::Ready(None);
            };
            if matches!(this.state, State::Done) {
                return Poll::Ready(None);
            }
            match ready!(inner.poll_next(cx)) {
                Some(Ok(chunk)) => match this.state {
                    State::Rewriting(rewriting) => {
                        if let Fed::Finished(at) = rewriting.feed(&chunk) {
                            if let State::Rewriting(rewriting) =
                                std::mem::replace(this.state, State::Passthrough)
                                && rewriting.injected.get()
                            {
                                rewriting.end();
                            }
                            if at < chunk.len() {
                                *this.rest = Some(chunk.slice(at..));
                            }
                        }
                    }
                    State::Passthrough => return Poll::Ready(Some(Ok(chunk))),
                    State::Whole(_) | State::Done => return Poll::Ready(None),
                },
                Some(Err(error)) => {
                    *this.state = State::Done;
                    return Poll::Ready(Some(Err(error.into())));
                }
                None => {
                    if let State::Rewriting(rewriting) = std::mem::replace(this.state, State::Done)
                    {
                        rewriting.end();
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::{BodyStream, to_bytes};
    use futures_util::stream;
    use std::convert::Infallible;

    async fn rewrite(chunks: &[&str], limit: usize) -> String {
        let chunks: Vec<Result<Bytes, Infallible>> = chunks
            .iter()
            .map(|c| Ok(Bytes::copy_from_slice(c.as_bytes())))
            .collect();
        let body = BodyStream::new(stream::iter(chunks));
        let body = InjectBody::new(body, "<!--X-->".to_owned(), limit);
        String::from_utf8(to_bytes(body).await.unwrap().to_vec()).unwrap()
    }

    /// The page as one `Bytes` body (the path most handlers take): its size, then its bytes.
    async fn rewrite_whole(page: &str) -> (BodySize, String) {
        let body = InjectBody::new(
            Bytes::copy_from_slice(page.as_bytes()),
            "<!--X-->".to_owned(),
            1 << 20,
        );
        let size = body.size();
        let out = String::from_utf8(to_bytes(body).await.unwrap().to_vec()).unwrap();
        (size, out)
    }

    #[actix_rt::test]
    async fn a_whole_page_gets_what_a_streamed_one_gets_and_keeps_a_length() {
        for page in [
            "<!doctype html><html><head><title>t</title></head><body>b</body></html>",
            "<html><head><meta content=\"</head>\"><script>'</head>'</script></head><body>",
            "<html><head><!-- </head> --><noscript></head></noscript></head><body>",
            "<head><template></head></template></head><body></body>",
            "<head><script><!--<script></head></script>--></script></head><p>x</p>",
            "<head/><meta></head>",
            "<p>a</p><body>b</body>",
            "<p>no end at all",
            "",
            "<html><head><title>cut short</title",
        ] {
            let (size, whole) = rewrite_whole(page).await;
            let streamed = rewrite(&[page], 1 << 20).await;
            assert_eq!(whole, streamed, "{page:?}");
            assert_eq!(size, BodySize::Sized(whole.len() as u64), "{page:?}");
        }
    }

    #[test]
    fn cuts_just_past_each_head_end_tag() {
        let page = b"<html><head><!-- </head> --></HEAD ><body>";
        let first = next_cut(page, 0);
        assert_eq!(
            first,
            page.len(),
            "the margin runs past the end of a short chunk"
        );
        let long = [&page[..], &[b'x'; 200][..]].concat();
        assert_eq!(next_cut(&long, 0), 17 + 6 + HEAD_END_MARGIN);
        assert_eq!(next_cut(&long, 17 + 6), 28 + 6 + HEAD_END_MARGIN);
        assert_eq!(next_cut(b"<p>no head end</p>", 0), 18);
        assert_eq!(next_cut(b"ends with </hea", 0), 15);
    }

    #[actix_rt::test]
    async fn injects_before_head_end_even_when_split() {
        let out = rewrite(
            &[
                "<html><head><title>t</title></he",
                "ad><body>b</body></html>",
            ],
            1 << 20,
        )
        .await;
        assert_eq!(
            out,
            "<html><head><title>t</title><!--X--></head><body>b</body></html>"
        );
    }

    #[actix_rt::test]
    async fn falls_back_to_body_then_document_end() {
        let out = rewrite(&["<p>a</p><body>b</bo", "dy>"], 1 << 20).await;
        assert_eq!(out, "<p>a</p><body>b<!--X--></body>");
        let out = rewrite(&["<p>a</p>"], 1 << 20).await;
        assert_eq!(out, "<p>a</p><!--X-->");
    }

    #[actix_rt::test]
    async fn injects_once_with_two_heads() {
        let out = rewrite(
            &["<head></head><svg><head></head></svg><body></body>"],
            1 << 20,
        )
        .await;
        assert_eq!(out.matches("<!--X-->").count(), 1);
    }

    #[actix_rt::test]
    async fn output_flows_before_the_page_ends() {
        use futures_util::StreamExt as _;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Result<Bytes, Infallible>>();
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        let body = InjectBody::new(
            BodyStream::new(stream.boxed_local()),
            "<!--X-->".to_owned(),
            1 << 20,
        );
        let mut body = std::pin::pin!(body);
        tx.send(Ok(Bytes::from_static(
            b"<html><head><title>t</title></head><body><p>first",
        )))
        .unwrap();
        // The rest of the page has not been sent, yet the head, with the snippet, comes out.
        let mut out = Vec::new();
        while !String::from_utf8_lossy(&out).contains("<!--X--></head>") {
            let chunk = std::future::poll_fn(|cx| body.as_mut().poll_next(cx))
                .await
                .unwrap()
                .unwrap();
            out.extend_from_slice(&chunk);
        }
        tx.send(Ok(Bytes::from_static(b"</p></body></html>")))
            .unwrap();
        drop(tx);
        while let Some(chunk) = std::future::poll_fn(|cx| body.as_mut().poll_next(cx)).await {
            out.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<html><head><title>t</title><!--X--></head><body><p>first</p></body></html>"
        );
    }

    #[actix_rt::test]
    async fn bytes_that_are_not_utf8_pass_through() {
        let chunks: Vec<Result<Bytes, Infallible>> = vec![Ok(Bytes::from_static(
            b"<html><head><meta charset=\"iso-8859-1\"></head><body>caf\xe9</body></html>",
        ))];
        let body = InjectBody::new(
            BodyStream::new(stream::iter(chunks)),
            "<!--X-->".to_owned(),
            1 << 20,
        );
        let out = to_bytes(body).await.unwrap();
        assert_eq!(
            out.as_ref(),
            b"<html><head><meta charset=\"iso-8859-1\"><!--X--></head><body>caf\xe9</body></html>"
        );
    }

    #[actix_rt::test]
    async fn bails_out_to_the_original_bytes_over_the_memory_cap() {
        // A matched start tag (`<head …>`) spread across many chunks must be buffered whole.
        let mut chunks = vec!["<html><head data-x=\"".to_owned()];
        chunks.extend((0..200).map(|_| "x".repeat(100)));
        chunks.push("\"><title>t</title></head><body></body></html>".to_owned());
        let refs: Vec<&str> = chunks.iter().map(String::as_str).collect();
        let out = rewrite(&refs, 2048).await;
        assert!(
            out == chunks.concat(),
            "the page must pass through unchanged"
        );
        // Under the cap the same page is rewritten.
        let out = rewrite(&refs, 1 << 20).await;
        assert!(out.contains("<!--X--></head>"));
    }
}
