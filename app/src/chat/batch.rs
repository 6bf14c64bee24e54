//! Frames that arrive together are written together. The subscriber gathers what Redis hands
//! it into runs (consecutive frames for the same sockets) and writes each run to each of its
//! sockets with one `send`: under load a socket then gets several frames per write, and its
//! client several per wake-up, where a write per frame would spend both sides' CPU on one
//! system call and one wake-up per frame.

use std::time::Duration;

use uuid::Uuid;

use super::hub::Hub;
use super::outbox;
use super::protocol;

/// The longest a frame waits for others to join it. A frame waits only when frames queued
/// behind the last write (the subscriber is under load); while the writer is idle it goes out at
/// once. Measured (docs/benchmarks.md): at 1,000 sockets, gathers of at most 2 and 5 ms spend
/// more CPU on wake-ups than they save in waiting, and give a worse tail latency under load
/// than 10 ms.
pub const INTERVAL: Duration = Duration::from_millis(10);

/// How long frames that queued behind a write gather, as a multiple of how long that write
/// took: under load, writing then takes at most about a tenth of the subscriber's time.
pub const GATHER_PER_WRITE: u32 = 10;

/// How long frames that queued behind a write that took `last_write` gather: [`GATHER_PER_WRITE`]
/// times as long, at most [`INTERVAL`]. A write to many sockets is slow, and there fewer,
/// larger writes pay for themselves, in the server's CPU and in its clients' wake-ups; a write
/// to a few is quick, and there waiting buys nothing but latency.
pub fn gather_after(last_write: Duration) -> Duration {
    last_write.saturating_mul(GATHER_PER_WRITE).min(INTERVAL)
}

/// Most bytes gathered before the batch is written: half of what a socket may have waiting,
/// so a reader that keeps up is never taken for a slow one.
pub const MAX_BYTES: usize = super::outbox::LIMIT / 2;

/// Consecutive frames for the same sockets: a project's, or one chat session's.
#[derive(Debug)]
struct Run {
    project: Uuid,
    session: Option<Uuid>,
    bytes: Vec<u8>,
    frames: u64,
}

#[derive(Debug, Default)]
pub struct Batch {
    runs: Vec<Run>,
    bytes: usize,
    /// Publish times of the frames that carry one, for the delivery histogram.
    sent_at_us: Vec<i64>,
}

/// What a flush did: frames handed to sockets, sockets dropped as slow consumers, and each
/// frame's publish → write latency in seconds.
#[derive(Debug, Default)]
pub struct Flushed {
    pub delivered: u64,
    pub slow: u64,
    pub latencies: Vec<f64>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.bytes >= MAX_BYTES
    }

    /// Adds a frame (JSON text) for the project's sockets, or only chat `session`'s.
    pub fn push(&mut self, project: Uuid, session: Option<Uuid>, payload: &str) {
        let run = match self.runs.last_mut() {
            Some(run) if run.project == project && run.session == session => run,
            _ => {
                self.runs.push(Run {
                    project,
                    session,
                    bytes: Vec::new(),
                    frames: 0,
                });
                let last = self.runs.len() - 1;
                &mut self.runs[last]
            }
        };
        let before = run.bytes.len();
        outbox::append_text_frame(&mut run.bytes, payload);
        run.frames += 1;
        self.bytes += run.bytes.len() - before;
        if let Some(sent) = sent_at_us(payload) {
            self.sent_at_us.push(sent);
        }
    }

    /// Writes every run to its sockets, in order, and empties the batch.
    pub fn flush(&mut self, hub: &Hub) -> Flushed {
        let mut flushed = Flushed::default();
        for run in self.runs.drain(..) {
            let (taken, slow) = hub.deliver(run.project, run.session, &run.bytes);
            flushed.delivered += taken * run.frames;
            flushed.slow += slow;
        }
        let now = protocol::now_us();
        flushed.latencies = self
            .sent_at_us
            .drain(..)
            .map(|sent| (now - sent).max(0) as f64 / 1e6)
            .collect();
        self.bytes = 0;
        flushed
    }
}

/// A frame's publish time: `sent_at_us` is its last field, so no full parse is needed.
fn sent_at_us(payload: &str) -> Option<i64> {
    let at = payload.rfind("\"sent_at_us\":")?;
    payload[at + 13..].trim_end_matches('}').trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quick_write_gathers_briefly_and_a_slow_one_for_the_whole_interval() {
        assert_eq!(gather_after(Duration::from_micros(40)), Duration::from_micros(400));
        assert_eq!(gather_after(Duration::from_micros(600)), Duration::from_millis(6));
        assert_eq!(gather_after(Duration::from_millis(4)), INTERVAL);
    }
}
