//! The embedded real-time server: Centrifugo's client protocol and server API, served by the app
//! itself so that the first run needs no separate server.

use std::fmt;
use std::sync::Arc;

use actix_web::{HttpResponse, web};
use instant_core::{
    Backend, BoxFuture, ChannelSet, Config, DeliveryStats, Event, PublishError, PublishReceipt,
};

/// A Centrifugo-compatible real-time server running inside the app.
///
/// Mount it with [`EmbeddedServer::configure`]; publish to it in-process through [`Backend`].
#[derive(Clone)]
pub struct EmbeddedServer {
    inner: Arc<Inner>,
}

struct Inner {
    channels: ChannelSet,
}

impl fmt::Debug for EmbeddedServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedServer")
            .field("channels", &self.inner.channels.len())
            .finish_non_exhaustive()
    }
}

impl EmbeddedServer {
    /// A server for the declared `channels`, verifying tokens with the secret of `config`.
    #[must_use]
    pub fn new(config: &Config, channels: ChannelSet) -> Self {
        let _ = config;
        Self {
            inner: Arc::new(Inner { channels }),
        }
    }

    /// Mounts `GET /connection/websocket` and `POST /api/{method}`.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        cfg.app_data(web::Data::new(self.clone()))
            .route(
                "/connection/websocket",
                web::get().to(|| async { HttpResponse::NotImplemented().finish() }),
            )
            .route(
                "/api/{method}",
                web::post().to(|| async { HttpResponse::NotImplemented().finish() }),
            );
    }
}

impl Backend for EmbeddedServer {
    fn publish(&self, event: Event) -> BoxFuture<'_, Result<PublishReceipt, PublishError>> {
        let _ = event;
        Box::pin(std::future::ready(Err(PublishError::NotRunning(
            "the embedded server is not built yet".into(),
        ))))
    }

    fn publish_detached(&self, event: Event) {
        let _ = event;
    }

    fn stats(&self) -> DeliveryStats {
        DeliveryStats::default()
    }
}
