//! The WebSocket opening handshake (RFC 6455 §4.2), done here instead of by axum's
//! `WebSocketUpgrade`: the chat needs the connection's TCP socket itself, so that a fanned-out
//! frame is written straight into it (see [`super::outbox`]), which axum's `WebSocket` hides.

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use crate::error::ApiError;

/// A valid WebSocket opening request, not yet answered.
#[derive(Debug)]
pub struct Upgrade {
    key: HeaderValue,
    on_upgrade: OnUpgrade,
}

/// The upgraded connection: its socket, and what the client sent after its request that the
/// HTTP server had already read.
#[derive(Debug)]
pub struct Upgraded {
    pub socket: TcpStream,
    pub read: Bytes,
}

fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

impl<S: Sync> FromRequestParts<S> for Upgrade {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let bad = |what: &str| ApiError::BadRequest(format!("not a WebSocket opening request: {what}"));
        if !has_token(&parts.headers, header::CONNECTION, "upgrade") {
            return Err(bad("send `Connection: Upgrade`"));
        }
        if !has_token(&parts.headers, header::UPGRADE, "websocket") {
            return Err(bad("send `Upgrade: websocket`"));
        }
        if parts
            .headers
            .get(header::SEC_WEBSOCKET_VERSION)
            .map(HeaderValue::as_bytes)
            != Some(b"13")
        {
            return Err(bad("send `Sec-WebSocket-Version: 13`, the version this server speaks"));
        }
        let key = parts
            .headers
            .get(header::SEC_WEBSOCKET_KEY)
            .ok_or_else(|| bad("send a `Sec-WebSocket-Key`"))?
            .clone();
        let on_upgrade = parts
            .extensions
            .remove::<OnUpgrade>()
            .ok_or_else(|| bad("this connection cannot be upgraded; open the WebSocket over HTTP/1.1"))?;
        Ok(Self { key, on_upgrade })
    }
}

impl Upgrade {
    /// The `101 Switching Protocols` answer selecting `protocol`; `run` gets the connection once
    /// the client has that answer.
    pub fn respond<F, Fut>(self, protocol: &'static str, run: F) -> Response
    where
        F: FnOnce(Upgraded) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let accept = derive_accept_key(self.key.as_bytes());
        let on_upgrade = self.on_upgrade;
        tokio::spawn(async move {
            let upgraded = match on_upgrade.await {
                Ok(upgraded) => upgraded,
                Err(e) => {
                    tracing::debug!(error = %e, "WebSocket upgrade did not complete");
                    return;
                }
            };
            // `server::serve` hands hyper plain TCP connections (TLS ends before the app).
            match upgraded.downcast::<TokioIo<TcpStream>>() {
                Ok(parts) => {
                    run(Upgraded {
                        socket: parts.io.into_inner(),
                        read: parts.read_buf,
                    })
                    .await;
                }
                Err(_) => tracing::error!("a WebSocket upgrade on a connection that is not plain TCP; closed"),
            }
        });
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        if let Ok(accept) = HeaderValue::from_str(&accept) {
            headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
        }
        headers.insert(header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(protocol));
        response
    }
}
