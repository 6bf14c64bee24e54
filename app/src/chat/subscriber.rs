//! The Redis subscriber of this replica: hands every chat frame any replica publishes to this
//! replica's sockets (through [`Hub`]), and closes the sockets of sessions and tokens that were
//! closed or revoked elsewhere, including while it was not subscribed.

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::{FutureExt, StreamExt};
use tokio::sync::watch;
use tokio::time::Instant;
use uuid::Uuid;

use super::batch::{self, Batch};
use super::hub::{CLOSED_CHANNEL, REMOVED_CHANNEL, REVOKED_CHANNEL, REVOKED_USER_CHANNEL, reason};
use super::store;
use crate::state::AppState;

/// Runs until `shutdown`: hands every chat frame published by any replica to this replica's sockets.
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
        // Closes and removals published while this replica was not subscribed passed it by: ask
        // PostgreSQL before anything published since is handed out (Redis holds it meanwhile),
        // so a removed member's sockets get nothing more; then every SESSION_RECHECK (a close
        // whose publish failed reaches nobody). Revocations are re-checked by every socket on a
        // timer of its own, see `socket::RECHECK`.
        close_closed_sessions(state.clone()).await;
        let mut recheck = tokio::time::interval_at(tokio::time::Instant::now() + SESSION_RECHECK, SESSION_RECHECK);
        let mut batch = Batch::default();
        // The first frame goes out at once; each later one waits for others in proportion to
        // how long the last write took (`batch::gather_after`).
        let mut last_flush = Instant::now().checked_sub(batch::INTERVAL).unwrap_or_else(Instant::now);
        let mut gather = batch::INTERVAL;
        loop {
            let due = last_flush + gather;
            tokio::select! {
                biased;
                _ = shutdown.changed() => return,
                () = tokio::time::sleep_until(due), if !batch.is_empty() => {
                    (last_flush, gather) = timed_flush(&state, &mut batch);
                }
                _ = recheck.tick() => {
                    tokio::spawn(close_closed_sessions(state.clone()));
                }
                message = stream.next() => match message {
                    Some(message) => {
                        dispatch(&state, &mut batch, &message);
                        // What Redis has handed over already joins the batch.
                        while !batch.is_full() {
                            let Some(Some(message)) = stream.next().now_or_never() else { break };
                            dispatch(&state, &mut batch, &message);
                        }
                        if batch.is_full() || (!batch.is_empty() && Instant::now() >= due) {
                            (last_flush, gather) = timed_flush(&state, &mut batch);
                        }
                    }
                    None => {
                        flush(&state, &mut batch);
                        state.chat_events.store(false, Ordering::Release);
                        tracing::warn!("chat subscription lost; resubscribing");
                        break;
                    }
                },
            }
        }
    }
}

/// How often a replica asks PostgreSQL which of its sockets' sessions were closed: the longest
/// a socket outlives its session when the close event is lost (one query per project it holds
/// sockets of).
pub const SESSION_RECHECK: Duration = Duration::from_secs(10);

/// Closes the sockets of sessions PostgreSQL says are closed (a newer chat replaced them, or
/// they were closed) or whose user left the project, while the event could not reach this replica.
async fn close_closed_sessions(state: AppState) {
    for ((org, project), sessions) in state.hub.sessions() {
        match store::live_sessions(&state.db, org, project, &sessions).await {
            Ok(live) => {
                let removed = state.hub.close_where(reason::REMOVED, |c| {
                    c.project == project && live.removed.contains(&c.session)
                });
                let closed = state.hub.close_where(reason::SESSION_CLOSED, |c| {
                    c.project == project
                        && sessions.contains(&c.session)
                        && !live.open.contains(&c.session)
                        && !live.removed.contains(&c.session)
                });
                if closed + removed > 0 {
                    tracing::info!(%project, closed, removed, "closed the sockets of sessions closed or members removed unheard");
                }
            }
            Err(e) => tracing::warn!(%project, error = %e, "cannot re-check the chat sessions of open sockets"),
        }
    }
}

/// [`flush`], then when it ended and how long the next batch gathers.
fn timed_flush(state: &AppState, batch: &mut Batch) -> (Instant, Duration) {
    let started = Instant::now();
    flush(state, batch);
    let ended = Instant::now();
    (ended, batch::gather_after(ended - started))
}

/// Writes the batch's frames to this replica's sockets.
fn flush(state: &AppState, batch: &mut Batch) {
    if batch.is_empty() {
        return;
    }
    let flushed = batch.flush(&state.hub);
    state.metrics.chat_delivered(flushed.delivered);
    state.metrics.chat_slow_consumers(flushed.slow);
    for seconds in flushed.latencies {
        state.metrics.chat_delivery(seconds);
    }
}

/// Adds a chat frame to the batch; a close or revocation is acted on at once, after the frames
/// published before it are written.
fn dispatch(state: &AppState, batch: &mut Batch, message: &redis::Msg) {
    let channel = message.get_channel_name();
    let Ok(payload) = std::str::from_utf8(message.get_payload_bytes()) else {
        return;
    };
    if !channel.starts_with("chat:p:") && !channel.starts_with("chat:s:") {
        flush(state, batch);
    }
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
    } else if let Some(rest) = channel.strip_prefix("chat:s:") {
        rest.split_once(':')
            .and_then(|(p, s)| Some((p.parse().ok()?, Some(s.parse().ok()?))))
    } else {
        None
    };
    let Some((project, session)) = target else { return };
    batch.push(project, session, payload);
}
