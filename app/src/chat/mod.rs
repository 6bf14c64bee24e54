//! Project chat of canned actions, never free text (protocol: docs/chat-protocol.md).
//!
//! - [`store`]: the rows, a store each: sessions under the cap of 3 (FIFO), counters, polls.
//! - [`protocol`]: the frames; only canned actions parse, everything else is refused.
//! - [`socket`]: one WebSocket, opened by [`upgrade`], written through its [`outbox`].
//!   [`hub`]: this replica's sockets and publishing to the other replicas; [`subscriber`]: what
//!   the other replicas publish, delivered to this one's sockets in [`batch`]es.
//! - [`assistant`]: the mock AI client. [`routes`]: sessions, polls and the socket route.
//! - [`limit`]: the rate limit, one bucket per user and project shared by every replica.

pub mod assistant;
pub mod batch;
pub mod hub;
pub mod limit;
pub mod outbox;
pub mod protocol;
pub mod routes;
pub mod socket;
pub mod store;
pub mod subscriber;
pub mod topic;
pub mod upgrade;
