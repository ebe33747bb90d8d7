//! The outbox of one connection: its send queue, which the hub and the connection's reader fill
//! without ever waiting, and the writer task that drains it into the socket.
//!
//! The queue is bounded in bytes: a client too slow to drain it is disconnected with 3008 instead
//! of delaying anyone else.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_ws::{CloseCode, CloseReason};
use bytestring::ByteString;
use tokio::sync::{mpsc, watch};

use super::protocol::Disconnect;

/// How many bytes of queued replies one write may join. When a connection has several replies
/// waiting (a burst of publications), they leave in one WebSocket frame, one line each, as
/// Centrifugo's JSON protocol allows and its clients read: one write per burst instead of one per
/// publication.
const MAX_JOINED_BYTES: usize = 64 * 1024;

/// The sending side of one connection, shared by the hub's subscriber lists.
#[derive(Debug, Clone)]
pub(crate) struct ClientHandle {
    shared: Arc<ClientShared>,
}

#[derive(Debug)]
struct ClientShared {
    id: Arc<str>,
    queue: mpsc::UnboundedSender<ByteString>,
    queued_bytes: AtomicUsize,
    max_queued_bytes: usize,
    disconnect: watch::Sender<Option<Disconnect>>,
}

/// The receiving side of a connection's queue, owned by its writer task.
#[derive(Debug)]
pub(crate) struct ClientQueue {
    pub(crate) frames: mpsc::UnboundedReceiver<ByteString>,
}

impl ClientHandle {
    /// A new connection's handle with its queue; `max_queued_bytes` bounds the queue.
    pub(crate) fn new(id: Arc<str>, max_queued_bytes: usize) -> (Self, ClientQueue) {
        let (queue, frames) = mpsc::unbounded_channel();
        let (disconnect, _) = watch::channel(None);
        let handle = Self {
            shared: Arc::new(ClientShared {
                id,
                queue,
                queued_bytes: AtomicUsize::new(0),
                max_queued_bytes,
                disconnect,
            }),
        };
        (handle, ClientQueue { frames })
    }

    /// The client id.
    pub(crate) fn id(&self) -> &Arc<str> {
        &self.shared.id
    }

    /// Queues a frame without waiting. Returns `false` when the connection is closing, or when the
    /// queue is over its limit, in which case the client is disconnected as too slow.
    pub(crate) fn send(&self, frame: &ByteString) -> bool {
        if self.shared.disconnect.borrow().is_some() {
            return false;
        }
        let len = frame.len();
        let before = self.shared.queued_bytes.fetch_add(len, Ordering::AcqRel);
        // One frame larger than the limit still goes through an empty queue.
        if before > 0 && before + len > self.shared.max_queued_bytes {
            self.shared.queued_bytes.fetch_sub(len, Ordering::AcqRel);
            self.disconnect(Disconnect::SLOW);
            return false;
        }
        if self.shared.queue.send(frame.clone()).is_err() {
            self.shared.queued_bytes.fetch_sub(len, Ordering::AcqRel);
            return false;
        }
        true
    }

    /// Records that the writer handed `len` bytes to the socket.
    pub(crate) fn written(&self, len: usize) {
        self.shared.queued_bytes.fetch_sub(len, Ordering::AcqRel);
    }

    /// Asks the connection to close with `reason`; the first reason wins.
    pub(crate) fn disconnect(&self, reason: Disconnect) {
        self.shared.disconnect.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(reason);
                true
            } else {
                false
            }
        });
    }

    /// Watches for the disconnect reason.
    pub(crate) fn watch_disconnect(&self) -> watch::Receiver<Option<Disconnect>> {
        self.shared.disconnect.subscribe()
    }

    /// The disconnect reason, once set.
    pub(crate) fn disconnect_reason(&self) -> Option<Disconnect> {
        *self.shared.disconnect.borrow()
    }
}

/// `first` and the replies already waiting behind it, up to [`MAX_JOINED_BYTES`], as one frame of
/// newline-separated replies; with the queued bytes it accounts for (the separators aside).
fn join_waiting(
    first: ByteString,
    frames: &mut mpsc::UnboundedReceiver<ByteString>,
) -> (ByteString, usize) {
    let Ok(second) = frames.try_recv() else {
        let len = first.len();
        return (first, len);
    };
    let mut queued = first.len() + second.len();
    let mut joined = String::with_capacity(queued + 1);
    joined.push_str(&first);
    joined.push('\n');
    joined.push_str(&second);
    while joined.len() < MAX_JOINED_BYTES {
        let Ok(next) = frames.try_recv() else { break };
        queued += next.len();
        joined.push('\n');
        joined.push_str(&next);
    }
    (ByteString::from(joined), queued)
}

/// The writer task of a connection: drains the queue into the socket; on disconnect, sends the
/// close frame.
pub(crate) async fn write_loop(
    mut ws: actix_ws::Session,
    mut queue: ClientQueue,
    handle: ClientHandle,
    close_timeout: Duration,
) {
    let mut disconnect = handle.watch_disconnect();
    'frames: loop {
        if handle.disconnect_reason().is_some() {
            break;
        }
        tokio::select! {
            biased;
            _ = disconnect.changed() => break,
            frame = queue.frames.recv() => {
                let Some(frame) = frame else { break };
                let (frame, len) = join_waiting(frame, &mut queue.frames);
                let sent = tokio::select! {
                    biased;
                    result = ws.text(frame) => result.is_ok(),
                    _ = disconnect.changed() => {
                        handle.written(len);
                        break 'frames;
                    }
                };
                handle.written(len);
                if !sent {
                    handle.disconnect(Disconnect::WRITE_ERROR);
                    return;
                }
            }
        }
    }
    let reason = handle.disconnect_reason().unwrap_or(Disconnect::NORMAL);
    // Replies queued before the disconnect still go out, except to a client too slow for them.
    if reason != Disconnect::SLOW {
        while let Ok(frame) = queue.frames.try_recv() {
            let len = frame.len();
            let sent = tokio::time::timeout(close_timeout, ws.text(frame)).await;
            handle.written(len);
            if !matches!(sent, Ok(Ok(()))) {
                return;
            }
        }
    }
    let close = CloseReason {
        code: CloseCode::from(reason.code),
        description: (!reason.reason.is_empty()).then(|| reason.reason.to_owned()),
    };
    let _ = tokio::time::timeout(close_timeout, ws.close(Some(close))).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_replies_leave_as_one_frame_of_lines_within_the_bound() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (frame, len) = join_waiting(ByteString::from_static("{\"a\":1}"), &mut rx);
        assert_eq!((&*frame, len), ("{\"a\":1}", 7));

        tx.send(ByteString::from_static("{\"b\":2}")).unwrap();
        tx.send(ByteString::from_static("{\"c\":3}")).unwrap();
        let (frame, len) = join_waiting(ByteString::from_static("{\"a\":1}"), &mut rx);
        assert_eq!(&*frame, "{\"a\":1}\n{\"b\":2}\n{\"c\":3}");
        assert_eq!(len, 21, "the separators are not queued bytes");

        let big = ByteString::from("x".repeat(MAX_JOINED_BYTES));
        tx.send(big).unwrap();
        tx.send(ByteString::from_static("{\"d\":4}")).unwrap();
        let (frame, _) = join_waiting(ByteString::from_static("{\"a\":1}"), &mut rx);
        assert_eq!(
            frame.len(),
            7 + 1 + MAX_JOINED_BYTES,
            "the bound stops the joining"
        );
        assert_eq!(&*rx.try_recv().unwrap(), "{\"d\":4}");
    }
}
