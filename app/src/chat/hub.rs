//! This replica's chat connections and the Redis fan-out between replicas. Every frame is
//! published once on Redis; each replica's subscriber encodes it once and writes it into each of
//! its own connections (see [`super::outbox`]). A connection that falls more than [`super::outbox::LIMIT`]
//! behind is a slow consumer: it is disconnected (the client reconnects and gets a snapshot), so
//! it never grows this replica's memory or holds up the others.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use dashmap::DashMap;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::watch;
use uuid::Uuid;

use super::outbox::{Outbox, Pushed};
use super::topic::{CloseReason, Topic};
use crate::auth::denylist::Held;

/// Whose a socket is: the tenant, the chat, and the token it was opened with.
#[derive(Debug, Clone)]
pub struct Owner {
    pub org: Uuid,
    pub project: Uuid,
    pub session: Uuid,
    /// The token, which names the user.
    pub token: Held,
}

/// One open socket, as the fan-out sees it.
#[derive(Debug)]
pub struct Conn {
    pub owner: Owner,
    pub outbox: Outbox,
    close: watch::Sender<Option<CloseReason>>,
}

/// What the socket task keeps of its registration.
#[derive(Debug)]
pub struct Registered {
    pub id: u64,
    pub conn: Arc<Conn>,
    pub close: watch::Receiver<Option<CloseReason>>,
}

#[derive(Debug)]
pub struct Hub {
    by_project: DashMap<Uuid, HashMap<u64, Arc<Conn>>>,
    next: AtomicU64,
    /// Sockets one user may hold on this replica (set from the settings at start-up).
    max_sockets_per_user: AtomicUsize,
    /// Sockets reserved per user, from the handshake's first check until the socket closes:
    /// what the caps count, so handshakes in flight count as much as open sockets.
    reserved: DashMap<Uuid, usize>,
    reserved_total: AtomicUsize,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            by_project: DashMap::new(),
            next: AtomicU64::new(0),
            max_sockets_per_user: AtomicUsize::new(crate::limits::MAX_SOCKETS_PER_USER),
            reserved: DashMap::new(),
            reserved_total: AtomicUsize::new(0),
        }
    }
}

/// Why a socket could not be reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// The user holds (or is opening) [`Hub::max_sockets_per_user`] sockets on this replica.
    User(usize),
    /// This replica holds (or is opening) [`crate::limits::MAX_SOCKETS`].
    Server,
}

/// A socket's place under the caps, held from the handshake until the socket is gone; dropping
/// it gives the place back.
#[derive(Debug)]
pub struct Slot {
    hub: Arc<Hub>,
    user: Uuid,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.hub.reserved_total.fetch_sub(1, Ordering::AcqRel);
        self.hub.reserved.remove_if_mut(&self.user, |_, n| {
            *n -= 1;
            *n == 0
        });
    }
}

/// Takes a place for one more socket of `user`, or says which cap is reached. The user's count
/// is compared and raised under its map entry's lock, and the replica's total by one atomic
/// add, so concurrent handshakes cannot pass a cap together.
pub fn reserve(hub: &Arc<Hub>, user: Uuid) -> Result<Slot, Full> {
    let per_user = hub.max_sockets_per_user();
    {
        let mut held = hub.reserved.entry(user).or_insert(0);
        if *held >= per_user {
            return Err(Full::User(per_user));
        }
        *held += 1;
    }
    let slot = Slot {
        hub: Arc::clone(hub),
        user,
    };
    if hub.reserved_total.fetch_add(1, Ordering::AcqRel) >= crate::limits::MAX_SOCKETS {
        return Err(Full::Server);
    }
    Ok(slot)
}

impl Hub {
    pub fn max_sockets_per_user(&self) -> usize {
        self.max_sockets_per_user.load(Ordering::Relaxed)
    }

    pub fn set_max_sockets_per_user(&self, max: usize) {
        self.max_sockets_per_user.store(max, Ordering::Relaxed);
    }

    /// Adds `owner`'s socket, whose writes go to `socket` from now on.
    pub fn register(&self, owner: Owner, socket: OwnedWriteHalf) -> Registered {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (close_tx, close) = watch::channel(None);
        let project = owner.project;
        let conn = Arc::new(Conn {
            owner,
            outbox: Outbox::new(socket),
            close: close_tx,
        });
        self.by_project
            .entry(project)
            .or_default()
            .insert(id, Arc::clone(&conn));
        Registered { id, conn, close }
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

    /// Writes `frame` (encoded by [`super::outbox::text_frame`]) to the project's connections (only
    /// those of chat `session` when given); returns how many took it and how many were dropped
    /// as slow consumers. Registering on the project waits meanwhile; nothing here waits.
    pub fn deliver(&self, project: Uuid, session: Option<Uuid>, frame: &[u8]) -> (u64, u64) {
        let Some(conns) = self.by_project.get(&project) else {
            return (0, 0);
        };
        let (mut taken, mut slow) = (0, 0);
        // A socket being closed (its session closed, its user removed) gets nothing more.
        for conn in conns
            .values()
            .filter(|c| session.is_none_or(|s| c.owner.session == s) && c.close.borrow().is_none())
        {
            match conn.outbox.push(frame) {
                Pushed::Taken => taken += 1,
                Pushed::Slow => {
                    if conn.close.send_replace(Some(CloseReason::Slow)).is_none() {
                        slow += 1;
                    }
                }
                Pushed::Closed => {}
            }
        }
        (taken, slow)
    }

    /// The open sockets' sessions, by tenant (org, project).
    pub fn sessions(&self) -> HashMap<(Uuid, Uuid), Vec<Uuid>> {
        let mut sessions: HashMap<(Uuid, Uuid), Vec<Uuid>> = HashMap::new();
        for conns in &self.by_project {
            for conn in conns.values() {
                let owner = &conn.owner;
                sessions
                    .entry((owner.org, owner.project))
                    .or_default()
                    .push(owner.session);
            }
        }
        sessions
    }

    /// The open sockets' tokens, each once.
    pub fn tokens(&self) -> Vec<Held> {
        let mut tokens = std::collections::HashSet::new();
        for conns in &self.by_project {
            for conn in conns.values() {
                tokens.insert(conn.owner.token.clone());
            }
        }
        tokens.into_iter().collect()
    }

    /// Closes every socket whose owner matches `which` with `why`.
    pub fn close_where(&self, why: CloseReason, which: impl Fn(&Owner) -> bool) -> usize {
        let mut closed = 0;
        for conns in &self.by_project {
            for conn in conns.values().filter(|c| which(&c.owner)) {
                conn.close.send_replace(Some(why));
                closed += 1;
            }
        }
        closed
    }
}

/// Publishes a message (a frame, already JSON, or what the topic says) on `topic`. A lost
/// publish loses one live update; the client sees the sequence gap and asks for a snapshot.
pub async fn publish(redis: &ConnectionManager, topic: Topic, payload: &str) {
    let mut conn = redis.clone();
    let channel = topic.channel();
    let sent: redis::RedisResult<i64> = conn.publish(&channel, payload).await;
    if let Err(e) = sent {
        tracing::warn!(channel, error = %e, "chat frame not published");
    }
}
