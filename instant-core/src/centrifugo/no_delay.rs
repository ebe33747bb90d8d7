//! The TCP connector of the publishing client: awc's own, with Nagle's algorithm turned off on
//! every new connection. A request whose body does not fit in one segment otherwise leaves its
//! last, short segment waiting for Centrifugo's delayed acknowledgement of the previous one (up
//! to 40 ms on Linux), which is most of the time a large batch takes.

use std::future::Future;
use std::pin::Pin;

use actix_service::Service;
use actix_tls::connect::{ConnectError, ConnectInfo, Connection, ConnectorService, Host};
use tokio::net::TcpStream;

/// awc's default resolver and TCP connector, then `TCP_NODELAY` on the stream.
#[derive(Clone, Default)]
pub(super) struct NoDelayConnector(ConnectorService);

impl<R: Host> Service<ConnectInfo<R>> for NoDelayConnector {
    type Response = Connection<R, TcpStream>;
    type Error = ConnectError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    actix_service::always_ready!();

    fn call(&self, request: ConnectInfo<R>) -> Self::Future {
        let connecting = self.0.call(request);
        Box::pin(async move {
            let connection = connecting.await?;
            if let Err(error) = connection.io_ref().set_nodelay(true) {
                // Still a working connection, only slower on large bodies.
                tracing::debug!(%error, "instant: cannot turn off Nagle's algorithm on a Centrifugo connection");
            }
            Ok(connection)
        })
    }
}
