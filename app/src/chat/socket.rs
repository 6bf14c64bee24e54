//! One chat WebSocket: authenticated like any request (the token comes as a subprotocol,
//! `access_token.<JWT>`, since browsers cannot set headers on a WebSocket and a URL ends up in
//! access logs), a snapshot first, then canned frames in and fanned-out frames out, until the
//! session closes, the token is revoked or expires, the user leaves the project, or the client
//! falls too far behind.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::tcp::OwnedReadHalf;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use uuid::Uuid;

use super::hub::{self, Conn, Full, Owner};
use super::limit;
use super::outbox::{self, Pushed};
use super::protocol::{self, ClientFrame, Refusal, ServerFrame};
use super::store::counters::{self, Counted};
use super::store::sessions;
use super::topic::{CloseReason, Topic};
use super::upgrade::{Upgrade, Upgraded};
use crate::auth::denylist::Held;
use crate::auth::principal;
use crate::configs::catalog;
use crate::error::{ApiError, ApiResult, PathParams};
use crate::ratelimit::Verdict;
use crate::state::AppState;

/// The subprotocol the chat speaks; the server selects it, so a client must offer it.
pub const PROTOCOL: &str = "chat.v1";
/// The prefix of the subprotocol that carries the access token.
pub const TOKEN_PROTOCOL_PREFIX: &str = "access_token.";

/// The token from the offered subprotocols, and whether [`PROTOCOL`] is among them.
fn offered(headers: &HeaderMap) -> (Option<&str>, bool) {
    let protocols = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim);
    let mut token = None;
    let mut chat = false;
    for protocol in protocols {
        if protocol == PROTOCOL {
            chat = true;
        } else if let Some(t) = protocol.strip_prefix(TOKEN_PROTOCOL_PREFIX) {
            token = Some(t);
        }
    }
    (token, chat)
}

/// Who is on this socket.
#[derive(Debug, Clone)]
struct Peer {
    org: Uuid,
    project: Uuid,
    session: Uuid,
    user: Uuid,
    user_key: String,
    jti: String,
    issued_at: u64,
    expires_at: u64,
}

impl Peer {
    /// The socket as the hub knows it: whose chat, and the token it holds.
    fn owner(&self) -> Owner {
        Owner {
            org: self.org,
            project: self.project,
            session: self.session,
            token: Held {
                jti: self.jti.clone(),
                user: self.user,
                issued_at: self.issued_at,
            },
        }
    }
}

/// `GET /api/v1/orgs/{org}/projects/{project}/chats/{session}/ws`, offering the subprotocols
/// `chat.v1` and `access_token.<JWT>`.
pub async fn connect(
    State(state): State<AppState>,
    PathParams((org, project, session)): PathParams<(Uuid, Uuid, Uuid)>,
    headers: HeaderMap,
    upgrade: Upgrade,
) -> ApiResult<Response> {
    let (token, chat) = offered(&headers);
    let Some(token) = token else {
        return Err(ApiError::Unauthorized(format!(
            "send the access token as the WebSocket subprotocol `{TOKEN_PROTOCOL_PREFIX}<token>`, next to `{PROTOCOL}`; \
             a token in the URL is not accepted"
        )));
    };
    if !chat {
        return Err(ApiError::BadRequest(format!(
            "offer the WebSocket subprotocol `{PROTOCOL}`, the one this server speaks"
        )));
    }
    let principal = principal::authenticate(&state, token).await?;
    let member = principal.member_of(org)?;
    // The place is taken before anything is awaited: handshakes in flight count against the caps.
    let slot = hub::reserve(&state.hub, member.user).map_err(|full| match full {
        Full::User(per_user) => ApiError::TooManyRequests(format!(
            "at most {per_user} chat sockets per user on a server; close one first"
        )),
        Full::Server => ApiError::Unavailable(
            "this server holds as many chat sockets as it takes; retry, another replica may have room".to_owned(),
        ),
    })?;
    if sessions::membership(&state.db, org, project, member.user)
        .await?
        .is_none()
    {
        return Err(ApiError::NotFound(format!(
            "project {project} not found, or you are not one of its members"
        )));
    }
    if !sessions::is_open(&state.db, org, project, member.user, session).await? {
        return Err(ApiError::Conflict(format!(
            "chat session {session} is closed or not yours; open a new chat"
        )));
    }
    let peer = Peer {
        org,
        project,
        session,
        user: member.user,
        user_key: member.user_key,
        jti: principal.claims.jti.clone(),
        issued_at: principal.claims.iat,
        expires_at: principal.claims.exp,
    };
    Ok(upgrade.respond(PROTOCOL, move |upgraded| async move {
        run(state, upgraded, peer).await;
        drop(slot);
    }))
}

/// Client frames are small: a 2 KiB read buffer instead of tungstenite's 128 KiB keeps an idle
/// socket cheap. Writes are not buffered by tungstenite: they go to the [`outbox`].
fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(2 * 1024)
        .write_buffer_size(0)
        .max_message_size(Some(64 * 1024))
        .max_frame_size(Some(64 * 1024))
}

/// The socket as tungstenite sees it: reads from the client, writes through the socket's
/// [`outbox`], in order with the frames fanned out to it. A write never waits.
struct ClientIo {
    read: OwnedReadHalf,
    conn: Arc<Conn>,
}

impl AsyncRead for ClientIo {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.read).poll_read(cx, buf)
    }
}

impl AsyncWrite for ClientIo {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(match self.conn.outbox.push(buf) {
            Pushed::Taken => Ok(buf.len()),
            Pushed::Slow => Err(io::Error::other("the client is too far behind")),
            Pushed::Closed => Err(io::ErrorKind::BrokenPipe.into()),
        })
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

type Socket = WebSocketStream<ClientIo>;

/// How long a socket with bytes waiting may take none of them: a client that stopped reading
/// fills its buffers, and is then dropped instead of waited for.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a close frame may take; a peer that cannot take it is dropped without one.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Refused frames in a row that close the socket (4004): a client past it is not following the
/// protocol or its limit, and each further frame would cost the server work for nothing.
pub const REFUSALS_BEFORE_CLOSE: u32 = 32;

/// What one socket remembers of its refusals, so a flood costs neither Redis nor the database.
#[derive(Debug, Default)]
struct Refusals {
    /// The shared bucket said it is empty until then: frames before it are refused here,
    /// without asking Redis again.
    limited_until: Option<tokio::time::Instant>,
    /// Frames refused since the shared bucket last let one through.
    in_a_row: u32,
}

/// Sends one frame of this socket's own (a reply, a snapshot); `false` when the socket is gone.
async fn send(socket: &mut Socket, frame: Utf8Bytes) -> bool {
    socket.send(Message::Text(frame)).await.is_ok()
}

/// Sends a close frame after what is waiting, if the peer takes them within [`CLOSE_TIMEOUT`].
async fn send_close(conn: &Conn, why: CloseReason) {
    conn.outbox.push_close(why.code(), why.text());
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, conn.outbox.drain(CLOSE_TIMEOUT)).await;
}

fn text(frame: &ServerFrame) -> Utf8Bytes {
    Utf8Bytes::from(serde_json::to_string(frame).unwrap_or_default())
}

async fn snapshot(state: &AppState, peer: &Peer) -> Option<Utf8Bytes> {
    match counters::snapshot(&state.db, peer.org, peer.project).await {
        Ok((seq, counters, polls)) => Some(text(&ServerFrame::Snapshot { seq, counters, polls })),
        Err(e) => {
            tracing::warn!(error = %e, "chat snapshot failed");
            None
        }
    }
}

async fn run(state: AppState, upgraded: Upgraded, peer: Peer) {
    // Frames are gathered into one write per socket already (see `batch`); Nagle's algorithm
    // would hold a write back until the client acknowledges the last (up to its 40 ms delayed
    // ACK) to gather them again.
    if let Err(e) = upgraded.socket.set_nodelay(true) {
        tracing::debug!(error = %e, "cannot set TCP_NODELAY on a chat socket");
    }
    let (read, write) = upgraded.socket.into_split();
    // Registered before the snapshot is read, so no frame published after it is missed; what
    // is fanned out meanwhile waits in the outbox until the snapshot is written.
    let mut registered = state.hub.register(peer.owner(), write);
    let conn = Arc::clone(&registered.conn);
    state.metrics.chat_connected(1);
    let io = ClientIo {
        read,
        conn: Arc::clone(&conn),
    };
    // A copy of what the HTTP server read past the request: its buffer (kilobytes) is not kept.
    let read_ahead = upgraded.read.to_vec();
    drop(upgraded.read);
    let mut socket = WebSocketStream::from_partially_read(io, read_ahead, Role::Server, Some(config())).await;
    let expires_in = peer.expires_at.saturating_sub(jsonwebtoken::get_current_timestamp());
    let expiry = tokio::time::sleep(Duration::from_secs(expires_in));
    tokio::pin!(expiry);
    let mut refusals = Refusals::default();
    let mut open = match snapshot(&state, &peer).await {
        Some(frame) => conn.outbox.release(&outbox::text_frame(frame.as_str())) == Pushed::Taken,
        None => false,
    };
    while open {
        // In this order, each only when the ones before it are pending: a close first; then
        // bytes the socket did not take at once; the client's frames; the token's expiry. (Its
        // revocation is re-checked for all of the replica's sockets together, see
        // `subscriber::TOKEN_RECHECK`.)
        tokio::select! {
            biased;
            _ = registered.close.changed() => {
                let why = registered.close.borrow().unwrap_or(CloseReason::SessionClosed);
                send_close(&conn, why).await;
                open = false;
            }
            drained = async {
                conn.outbox.queued().await;
                conn.outbox.drain(SEND_TIMEOUT).await
            } => open = drained.is_ok(),
            message = socket.next() => match message {
                Some(Ok(Message::Text(frame))) => {
                    let reply = on_frame(&state, &peer, &mut refusals, frame.as_str()).await;
                    if let Some(reply) = reply {
                        open = send(&mut socket, reply).await;
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    let reply = refuse(&state, &mut refusals, Refusal::BadJson, "binary frames are not accepted; send JSON text".to_owned());
                    open = send(&mut socket, reply).await;
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Close(_)) | Err(_)) | None => open = false,
            },
            () = &mut expiry => {
                send_close(&conn, CloseReason::Expired).await;
                open = false;
            }
        }
        if open && refusals.in_a_row >= REFUSALS_BEFORE_CLOSE {
            send_close(&conn, CloseReason::Refused).await;
            open = false;
        }
    }
    state.hub.unregister(peer.project, registered.id);
    state.metrics.chat_connected(-1);
}

/// The peer was removed from the project after its socket opened, and the removal's close did
/// not reach this replica: close the user's sockets on the project here (code 4003).
fn removed(state: &AppState, peer: &Peer) {
    state.hub.close_where(CloseReason::Removed, |o| {
        o.project == peer.project && o.token.user == peer.user
    });
}

fn refuse(state: &AppState, refusals: &mut Refusals, reason: Refusal, detail: String) -> Utf8Bytes {
    state.metrics.chat_rejected(reason.as_str());
    refusals.in_a_row += 1;
    text(&ServerFrame::Error { reason, detail })
}

fn rate_limited(state: &AppState, refusals: &mut Refusals, per_minute: f64) -> Option<Utf8Bytes> {
    Some(refuse(
        state,
        refusals,
        Refusal::RateLimited,
        format!(
            "at most {per_minute} frames a minute (bursts of {}) over all your sockets; slow down",
            limit::burst(per_minute)
        ),
    ))
}

/// Handles one client frame; returns the frame to answer this socket with directly, if any
/// (refusals, snapshots). Everything else goes out through the fan-out.
async fn on_frame(state: &AppState, peer: &Peer, refusals: &mut Refusals, frame: &str) -> Option<Utf8Bytes> {
    let parsed = match protocol::parse(frame) {
        Ok(parsed) => parsed,
        Err((reason, detail)) => return Some(refuse(state, refusals, reason, detail)),
    };
    if let Some(answer) = draw(state, peer, refusals).await {
        return Some(answer);
    }
    if parsed == ClientFrame::Snapshot {
        return match sessions::membership(&state.db, peer.org, peer.project, peer.user).await {
            Ok(Some(_)) => snapshot(state, peer).await,
            Ok(None) => {
                removed(state, peer);
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "chat membership check failed");
                None
            }
        };
    }
    let (metric, vote, label) = match &parsed {
        ClientFrame::Action(action) => {
            if !catalog::ACTIONS.get(&state.configs, peer.org).contains(action) {
                return Some(refuse(
                    state,
                    refusals,
                    Refusal::UnknownAction,
                    format!("the action {action:?} is turned off in this org"),
                ));
            }
            (action.as_str().to_owned(), None, action.as_str().to_owned())
        }
        ClientFrame::Vote { poll, choice } => (String::new(), Some((*poll, choice.as_str())), format!("vote:{choice}")),
        ClientFrame::Snapshot => return None,
    };
    if let Some(answer) = count(state, peer, refusals, metric, vote).await {
        return answer;
    }
    echo_later(state, peer, label);
    None
}

/// Every accepted frame, snapshot requests included, draws from the user's one bucket; while it
/// is known to be empty, this socket does not ask again. The answer to send instead, if any.
async fn draw(state: &AppState, peer: &Peer, refusals: &mut Refusals) -> Option<Utf8Bytes> {
    let per_minute = f64::from(catalog::RATE_LIMIT_PER_MINUTE.get(&state.configs, peer.org));
    let now = tokio::time::Instant::now();
    if refusals.limited_until.is_some_and(|until| now < until) {
        return rate_limited(state, refusals, per_minute);
    }
    match limit::take(&state.redis, peer.project, peer.user, per_minute).await {
        Verdict::Allowed => {
            *refusals = Refusals::default();
            None
        }
        Verdict::Limited { retry_after } => {
            refusals.limited_until = Some(now + retry_after);
            rate_limited(state, refusals, per_minute)
        }
        Verdict::Unavailable => Some(text(&ServerFrame::Unavailable {
            detail: "the server cannot check its rate limit right now; retry".to_owned(),
        })),
    }
}

/// Counts an action or a vote and fans the new value out. `Some` when the frame ends here: with
/// the answer for this socket, or none (the user is no longer a member).
async fn count(
    state: &AppState,
    peer: &Peer,
    refusals: &mut Refusals,
    metric: String,
    vote: Option<(Uuid, &str)>,
) -> Option<Option<Utf8Bytes>> {
    match counters::count(&state.db, peer.org, peer.project, peer.user, &metric, vote).await {
        Ok(Counted::NotMember) => {
            removed(state, peer);
            Some(None)
        }
        Ok(Counted::UnknownChoice) => Some(Some(refuse(
            state,
            refusals,
            Refusal::UnknownChoice,
            "no such poll in this project, or no such choice in it".to_owned(),
        ))),
        Ok(Counted::Done { value, seq }) => {
            let metric = match vote {
                Some((poll, choice)) => format!("poll:{poll}:{choice}"),
                None => metric,
            };
            let counter = ServerFrame::Counter {
                seq,
                metric,
                value,
                sent_at_us: protocol::now_us(),
            };
            hub::publish(&state.redis, Topic::Project(peer.project), text(&counter).as_str()).await;
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "chat counter update failed");
            // The frame was fine; the server could not record it. Not a refusal of the client's.
            Some(Some(text(&ServerFrame::Unavailable {
                detail: "the action could not be recorded right now; retry".to_owned(),
            })))
        }
    }
}

/// The assistant's answer to `label`, to the sender's session: the assistant may take its time,
/// and the socket does not wait for it.
fn echo_later(state: &AppState, peer: &Peer, label: String) {
    let (state, peer) = (state.clone(), peer.clone());
    tokio::spawn(async move {
        let reply = state.assistant.reply(&label).await;
        let echo = ServerFrame::Echo {
            session: peer.session,
            action: label,
            assistant: if reply.is_some() { "available" } else { "unavailable" },
            reply: Some(
                reply.unwrap_or_else(|| "The assistant is unavailable right now; your action was counted.".to_owned()),
            ),
            sent_at_us: protocol::now_us(),
        };
        hub::publish(
            &state.redis,
            Topic::Session {
                project: peer.project,
                session: peer.session,
            },
            text(&echo).as_str(),
        )
        .await;
        tracing::debug!(user = %peer.user_key, "chat action handled");
    });
}
