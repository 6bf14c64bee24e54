//! The Redis subscriber of this replica: hands every chat frame any replica publishes to this
//! replica's sockets (through [`Hub`]), and closes the sockets of sessions and tokens that were
//! closed or revoked elsewhere, including while it was not subscribed.

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::{FutureExt, Stream, StreamExt};
use tokio::sync::watch;
use tokio::time::Instant;
use uuid::Uuid;

use super::batch::{self, Batch};
use super::hub::Owner;
use super::store;
use super::topic::{self, CloseReason, EVERY_TOPIC, Topic};
use crate::state::AppState;

/// Runs until `shutdown`: hands every chat frame published by any replica to this replica's sockets.
pub async fn run(state: AppState, client: redis::Client, mut shutdown: watch::Receiver<bool>) {
    let mut backoff = Duration::from_millis(50);
    loop {
        let subscribed = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.psubscribe(EVERY_TOPIC).await?;
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
        // whose publish failed reaches nobody). Revocations are re-checked every TOKEN_RECHECK,
        // for all of this replica's sockets together.
        close_closed_sessions(state.clone()).await;
        let mut recheck = tokio::time::interval_at(tokio::time::Instant::now() + SESSION_RECHECK, SESSION_RECHECK);
        let mut token_recheck = tokio::time::interval_at(tokio::time::Instant::now() + TOKEN_RECHECK, TOKEN_RECHECK);
        let mut batch = Batch::default();
        // When the frames gathered so far are written: none while the writer is idle (a frame
        // goes out at once), later when frames queued behind the last write (`write_and_gather`).
        let mut due: Option<Instant> = None;
        loop {
            tokio::select! {
                biased;
                _ = shutdown.changed() => return,
                () = sleep_until(due), if !batch.is_empty() => {
                    due = write_and_gather(&state, &mut batch, &mut stream);
                }
                _ = recheck.tick() => {
                    tokio::spawn(close_closed_sessions(state.clone()));
                }
                _ = token_recheck.tick() => {
                    tokio::spawn(close_revoked(state.clone()));
                }
                message = stream.next() => match message {
                    Some(message) => {
                        dispatch(&state, &mut batch, &message);
                        take_arrived(&state, &mut batch, &mut stream);
                        if batch.is_full() || due.is_none_or(|due| Instant::now() >= due) {
                            due = write_and_gather(&state, &mut batch, &mut stream);
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

/// How often a replica re-checks its open sockets' tokens, whatever revocation broadcast it
/// missed: the longest a revoked token's socket stays open once Redis answers. One round trip
/// for up to `denylist::CHECK_CHUNK` sockets, not one per socket.
pub const TOKEN_RECHECK: Duration = Duration::from_secs(2);

/// Closes the sockets whose token Redis says is revoked. A check Redis cannot answer keeps
/// them (no fan-out reaches them then either) until the next.
async fn close_revoked(state: AppState) {
    let tokens = state.hub.tokens();
    match state.denylist.revoked_among(&tokens).await {
        Ok(revoked) if !revoked.is_empty() => {
            let closed = state
                .hub
                .close_where(CloseReason::Revoked, |o| revoked.contains(o.token.jti.as_str()));
            tracing::info!(closed, "closed the sockets of tokens revoked unheard");
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot re-check the tokens of open chat sockets"),
    }
}

/// Closes the sockets of sessions PostgreSQL says are closed (a newer chat replaced them, or
/// they were closed) or whose user left the project, while the event could not reach this replica.
async fn close_closed_sessions(state: AppState) {
    for ((org, project), sessions) in state.hub.sessions() {
        match store::sessions::live(&state.db, org, project, &sessions).await {
            Ok(live) => {
                let removed = state.hub.close_where(CloseReason::Removed, |o| {
                    o.project == project && live.removed.contains(&o.session)
                });
                let closed = state.hub.close_where(CloseReason::SessionClosed, |o| {
                    o.project == project
                        && sessions.contains(&o.session)
                        && !live.open.contains(&o.session)
                        && !live.removed.contains(&o.session)
                });
                if closed + removed > 0 {
                    tracing::info!(%project, closed, removed, "closed the sockets of sessions closed or members removed unheard");
                }
            }
            Err(e) => tracing::warn!(%project, error = %e, "cannot re-check the chat sessions of open sockets"),
        }
    }
}

/// Sleeps until `due`; never returns when there is none.
async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

/// What Redis has handed over already joins the batch.
fn take_arrived<S>(state: &AppState, batch: &mut Batch, stream: &mut S)
where
    S: Stream<Item = redis::Msg> + Unpin,
{
    while !batch.is_full() {
        let Some(Some(message)) = stream.next().now_or_never() else {
            break;
        };
        dispatch(state, batch, &message);
    }
}

/// Writes the batch, then takes the frames that arrived while it was written and says when
/// they are written in turn: when none did, the writer is idle and the next frame goes out at
/// once (`None`); when some did, they gather for [`batch::gather_after`] the write, so under
/// load a socket gets fewer, larger writes.
fn write_and_gather<S>(state: &AppState, batch: &mut Batch, stream: &mut S) -> Option<Instant>
where
    S: Stream<Item = redis::Msg> + Unpin,
{
    loop {
        let started = Instant::now();
        flush(state, batch);
        let ended = Instant::now();
        take_arrived(state, batch, stream);
        if batch.is_empty() {
            return None;
        }
        if !batch.is_full() {
            return Some(ended + batch::gather_after(ended - started));
        }
    }
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
    let Some(topic) = Topic::parse(message.get_channel_name()) else {
        return;
    };
    let Ok(payload) = std::str::from_utf8(message.get_payload_bytes()) else {
        return;
    };
    let mut close = |why, which: &dyn Fn(&Owner) -> bool| {
        // The frames published before the close go out first.
        flush(state, batch);
        state.hub.close_where(why, which);
    };
    match topic {
        Topic::Project(project) => batch.push(project, None, payload),
        Topic::Session { project, session } => batch.push(project, Some(session), payload),
        Topic::Closed => {
            if let Ok(session) = payload.parse::<Uuid>() {
                close(CloseReason::SessionClosed, &|o| o.session == session);
            }
        }
        Topic::Revoked => close(CloseReason::Revoked, &|o| o.token.jti == payload),
        Topic::RevokedUser => {
            if let Ok(user) = payload.parse::<Uuid>() {
                close(CloseReason::Revoked, &|o| o.token.user == user);
            }
        }
        Topic::Removed => {
            if let Some((project, user)) = topic::parse_removal(payload) {
                close(CloseReason::Removed, &|o| o.project == project && o.token.user == user);
            }
        }
    }
}
