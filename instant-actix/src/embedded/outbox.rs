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
                let len = frame.len();
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
