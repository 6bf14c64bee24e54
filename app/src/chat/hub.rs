//! This replica's chat connections and the Redis fan-out between replicas. Every frame is
//! published once on Redis; each replica's subscriber hands it to its own connections through a
//! bounded queue per connection. A connection whose queue is full is a slow consumer: it is
//! disconnected (the client reconnects and gets a snapshot), so it never grows this replica's
//! memory or holds up the others.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use dashmap::DashMap;
use futures_util::StreamExt;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use crate::state::AppState;

/// Frames a connection may have waiting before it counts as a slow consumer.
pub const QUEUE_DEPTH: usize = 64;

/// Why the server closes a chat socket (sent as the close frame's reason).
pub mod reason {
    pub const SESSION_CLOSED: &str = "session closed: a newer chat replaced it, or it was closed";
    pub const REVOKED: &str = "token revoked: sign in again";
    pub const SLOW: &str = "too far behind: reconnect to resync";
    pub const REMOVED: &str = "removed from the project: ask its owner to add you again";
    pub const SHUTTING_DOWN: &str = "server shutting down: reconnect";
}

/// One open socket, as the fan-out sees it.
#[derive(Debug)]
pub struct Conn {
    pub org: Uuid,
    pub project: Uuid,
    pub user: Uuid,
    pub session: Uuid,
    pub jti: String,
    frames: mpsc::Sender<Utf8Bytes>,
    close: watch::Sender<Option<&'static str>>,
}

/// What the socket task keeps of its registration.
#[derive(Debug)]
pub struct Registered {
    pub id: u64,
    pub frames: mpsc::Receiver<Utf8Bytes>,
    pub close: watch::Receiver<Option<&'static str>>,
}

#[derive(Debug)]
pub struct Hub {
    by_project: DashMap<Uuid, HashMap<u64, Arc<Conn>>>,
    next: AtomicU64,
    /// Sockets one user may hold on this replica (set from the settings at start-up).
    max_sockets_per_user: AtomicUsize,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            by_project: DashMap::new(),
            next: AtomicU64::new(0),
            max_sockets_per_user: AtomicUsize::new(crate::chat::socket::MAX_SOCKETS_PER_USER),
        }
    }
}

/// Redis channels: everyone on a project, one user's sockets on a project, closed sessions,
/// revoked tokens.
pub fn project_channel(project: Uuid) -> String {
    format!("chat:p:{project}")
}
pub fn user_channel(project: Uuid, user: Uuid) -> String {
    format!("chat:u:{project}:{user}")
}
pub const CLOSED_CHANNEL: &str = "chat:closed";
pub const REVOKED_CHANNEL: &str = "chat:revoked";
/// Every token of a user revoked: the user's id.
pub const REVOKED_USER_CHANNEL: &str = "chat:revoked-user";
/// A member removed from a project: `<project>:<user>` (see [`removal`]).
pub const REMOVED_CHANNEL: &str = "chat:removed";

/// The [`REMOVED_CHANNEL`] message for `user` leaving `project`.
pub fn removal(project: Uuid, user: Uuid) -> String {
    format!("{project}:{user}")
}

impl Hub {
    pub fn max_sockets_per_user(&self) -> usize {
        self.max_sockets_per_user.load(Ordering::Relaxed)
    }

    pub fn set_max_sockets_per_user(&self, max: usize) {
        self.max_sockets_per_user.store(max, Ordering::Relaxed);
    }

    pub fn register(&self, org: Uuid, project: Uuid, user: Uuid, session: Uuid, jti: String) -> Registered {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (frames_tx, frames) = mpsc::channel(QUEUE_DEPTH);
        let (close_tx, close) = watch::channel(None);
        let conn = Arc::new(Conn {
            org,
            project,
            user,
            session,
            jti,
            frames: frames_tx,
            close: close_tx,
        });
        self.by_project.entry(project).or_default().insert(id, conn);
        Registered { id, frames, close }
    }

    pub fn unregister(&self, project: Uuid, id: u64) {
        if let Some(mut conns) = self.by_project.get_mut(&project) {
            conns.remove(&id);
        }
        self.by_project.remove_if(&project, |_, conns| conns.is_empty());
    }

    pub fn connections(&self) -> usize {
        self.by_project.iter().map(|e| e.value().len()).sum()
    }

    /// `user`'s sockets on this replica, over all projects.
    pub fn user_connections(&self, user: Uuid) -> usize {
        self.by_project
            .iter()
            .map(|e| e.value().values().filter(|c| c.user == user).count())
            .sum()
    }

    /// Queues `frame` for the project's connections (only `user`'s when given); returns how many
    /// were queued and how many were dropped as slow consumers.
    pub fn deliver(&self, project: Uuid, user: Option<Uuid>, frame: &Utf8Bytes) -> (u64, u64) {
        let Some(conns) = self.by_project.get(&project) else {
            return (0, 0);
        };
        let (mut queued, mut slow) = (0, 0);
        for conn in conns.values().filter(|c| user.is_none_or(|u| c.user == u)) {
            match conn.frames.try_send(frame.clone()) {
                Ok(()) => queued += 1,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    if conn.close.send_replace(Some(reason::SLOW)).is_none() {
                        slow += 1;
                    }
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
        (queued, slow)
    }

    /// The open sockets' sessions, by tenant (org, project).
    pub fn sessions(&self) -> HashMap<(Uuid, Uuid), Vec<Uuid>> {
        let mut sessions: HashMap<(Uuid, Uuid), Vec<Uuid>> = HashMap::new();
        for conns in &self.by_project {
            for conn in conns.values() {
                sessions.entry((conn.org, conn.project)).or_default().push(conn.session);
            }
        }
        sessions
    }

    /// Closes every socket matching `which` with `why`.
    pub fn close_where(&self, why: &'static str, which: impl Fn(&Conn) -> bool) -> usize {
        let mut closed = 0;
        for conns in &self.by_project {
            for conn in conns.values().filter(|c| which(c)) {
                conn.close.send_replace(Some(why));
                closed += 1;
            }
        }
        closed
    }
}

/// Publishes a frame (already JSON) on a channel. A lost publish loses one live update; the
/// client sees the sequence gap and asks for a snapshot.
pub async fn publish(redis: &ConnectionManager, channel: &str, payload: &str) {
    let mut conn = redis.clone();
    let sent: redis::RedisResult<i64> = conn.publish(channel, payload).await;
    if let Err(e) = sent {
        tracing::warn!(channel, error = %e, "chat frame not published");
    }
}

/// The subscriber: hands every chat frame published by any replica to this replica's sockets.
pub async fn run(state: AppState, client: redis::Client, mut shutdown: watch::Receiver<bool>) {
    let mut backoff = Duration::from_millis(50);
    loop {
        let subscribed = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.psubscribe("chat:*").await?;
            redis::RedisResult::Ok(pubsub)
        };
        let pubsub = tokio::select! {
            result = tokio::time::timeout(Duration::from_secs(5), subscribed) => result,
            _ = shutdown.changed() => return,
        };
        let Ok(Ok(pubsub)) = pubsub else {
            tracing::warn!(?backoff, "chat subscriber cannot subscribe; retrying");
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                _ = shutdown.changed() => return,
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
            continue;
        };
        backoff = Duration::from_millis(50);
        let mut stream = pubsub.into_on_message();
        state.chat_events.store(true, Ordering::Release);
        // Closes published while this replica was not subscribed passed it by: ask PostgreSQL,
        // now and every SESSION_RECHECK (a close whose publish failed reaches nobody). Revocations
        // are re-checked by every socket on a timer of its own, see `socket::RECHECK`.
        tokio::spawn(close_closed_sessions(state.clone()));
        let mut recheck = tokio::time::interval_at(tokio::time::Instant::now() + SESSION_RECHECK, SESSION_RECHECK);
        loop {
            tokio::select! {
                _ = recheck.tick() => {
                    tokio::spawn(close_closed_sessions(state.clone()));
                }
                message = stream.next() => match message {
                    Some(message) => dispatch(&state, message.get_channel_name(), message.get_payload_bytes()),
                    None => {
                        state.chat_events.store(false, Ordering::Release);
                        tracing::warn!("chat subscription lost; resubscribing");
                        break;
                    }
                },
                _ = shutdown.changed() => return,
            }
        }
    }
}

/// How often a replica asks PostgreSQL which of its sockets' sessions were closed: the longest
/// a socket outlives its session when the close event is lost (one query per project it holds
/// sockets of).
pub const SESSION_RECHECK: Duration = Duration::from_secs(10);

/// Closes the sockets of sessions PostgreSQL says are closed (a newer chat replaced them, or
/// they were closed, while the close event could not reach this replica).
async fn close_closed_sessions(state: AppState) {
    for ((org, project), sessions) in state.hub.sessions() {
        match super::store::open_sessions(&state.db, org, project, &sessions).await {
            Ok(open) => {
                let closed = state.hub.close_where(reason::SESSION_CLOSED, |c| {
                    c.project == project && sessions.contains(&c.session) && !open.contains(&c.session)
                });
                if closed > 0 {
                    tracing::info!(%project, closed, "closed the sockets of sessions closed while unsubscribed");
                }
            }
            Err(e) => tracing::warn!(%project, error = %e, "cannot re-check the chat sessions of open sockets"),
        }
    }
}

/// A frame's publish time: `sent_at_us` is its last field, so no full parse is needed.
fn sent_at_us(payload: &str) -> Option<i64> {
    let at = payload.rfind("\"sent_at_us\":")?;
    payload[at + 13..].trim_end_matches('}').trim().parse().ok()
}

fn dispatch(state: &AppState, channel: &str, payload: &[u8]) {
    let Ok(payload) = std::str::from_utf8(payload) else {
        return;
    };
    if channel == CLOSED_CHANNEL {
        if let Ok(session) = payload.parse::<Uuid>() {
            state.hub.close_where(reason::SESSION_CLOSED, |c| c.session == session);
        }
        return;
    }
    if channel == REVOKED_CHANNEL {
        state.hub.close_where(reason::REVOKED, |c| c.jti == payload);
        return;
    }
    if channel == REVOKED_USER_CHANNEL {
        if let Ok(user) = payload.parse::<Uuid>() {
            state.hub.close_where(reason::REVOKED, |c| c.user == user);
        }
        return;
    }
    if channel == REMOVED_CHANNEL {
        if let Some((project, user)) = payload
            .split_once(':')
            .and_then(|(p, u)| Some((p.parse::<Uuid>().ok()?, u.parse::<Uuid>().ok()?)))
        {
            state
                .hub
                .close_where(reason::REMOVED, |c| c.project == project && c.user == user);
        }
        return;
    }
    let target = if let Some(project) = channel.strip_prefix("chat:p:") {
        project.parse().ok().map(|p| (p, None))
    } else if let Some(rest) = channel.strip_prefix("chat:u:") {
        rest.split_once(':')
            .and_then(|(p, u)| Some((p.parse().ok()?, Some(u.parse().ok()?))))
    } else {
        None
    };
    let Some((project, user)) = target else { return };
    if let Some(sent) = sent_at_us(payload) {
        let now = super::socket::now_us();
        state.metrics.chat_delivery((now - sent).max(0) as f64 / 1e6);
    }
    let frame = Utf8Bytes::from(payload);
    let (_, slow) = state.hub.deliver(project, user, &frame);
    state.metrics.chat_slow_consumers(slow);
}
