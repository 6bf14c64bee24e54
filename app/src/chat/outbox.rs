//! One chat socket's outgoing bytes. Whoever has a frame for the socket (the Redis subscriber
//! fanning one out, or the socket's own task answering its client) writes it straight into the
//! socket's kernel buffer while the kernel takes it: a fanned-out frame costs one `send` per
//! socket and wakes no task. What the kernel does not take waits here, in order, up to
//! [`LIMIT`] bytes, for the socket's task to write once the socket is writable again
//! ([`Outbox::drain`]); a socket further behind than that is a slow consumer, refused more.

use std::io;
use std::sync::Mutex;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Utf8Bytes;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};

/// Bytes a socket may have waiting beyond what its kernel buffer holds before it counts as a
/// slow consumer (a few hundred frames).
pub const LIMIT: usize = 64 * 1024;

/// What became of a frame handed to [`Outbox::push`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// In the kernel's buffer, or waiting here behind earlier bytes.
    Taken,
    /// Refused: the socket is more than [`LIMIT`] behind.
    Slow,
    /// Refused: the socket is gone, or its close frame was sent.
    Closed,
}

#[derive(Debug)]
struct Waiting {
    bytes: BytesMut,
    /// Until the socket's first frame is out ([`Outbox::release`]), frames wait here.
    held: bool,
    closed: bool,
    /// When the socket last took bytes (or bytes started waiting): a stall is timed from here,
    /// whatever else the socket's task did meanwhile.
    progress: Instant,
}

#[derive(Debug)]
pub struct Outbox {
    socket: OwnedWriteHalf,
    waiting: Mutex<Waiting>,
    /// Woken when bytes start waiting.
    queued: Notify,
}

impl Outbox {
    pub fn new(socket: OwnedWriteHalf) -> Self {
        Self {
            socket,
            waiting: Mutex::new(Waiting {
                bytes: BytesMut::new(),
                held: true,
                closed: false,
                progress: Instant::now(),
            }),
            queued: Notify::new(),
        }
    }

    /// Hands one encoded frame (see [`text_frame`]) to the socket.
    pub fn push(&self, frame: &[u8]) -> Pushed {
        let Ok(mut waiting) = self.waiting.lock() else {
            return Pushed::Closed;
        };
        self.write(&mut waiting, frame, LIMIT)
    }

    /// Sends the socket's first frame, then what was pushed before it.
    pub fn release(&self, first: &[u8]) -> Pushed {
        let Ok(mut waiting) = self.waiting.lock() else {
            return Pushed::Closed;
        };
        let mut bytes = BytesMut::from(first);
        bytes.extend_from_slice(&waiting.bytes);
        waiting.bytes = BytesMut::new();
        waiting.held = false;
        self.write(&mut waiting, &bytes, usize::MAX)
    }

    /// Hands the socket its close frame after what is waiting (over [`LIMIT`] if need be);
    /// nothing is sent after it. A socket whose first frame was never released gets the close
    /// frame alone.
    pub fn push_close(&self, code: u16, reason: &'static str) -> Pushed {
        let Ok(mut waiting) = self.waiting.lock() else {
            return Pushed::Closed;
        };
        if waiting.held {
            waiting.bytes = BytesMut::new();
            waiting.held = false;
        }
        let pushed = self.write(&mut waiting, &close_frame(code, reason), usize::MAX);
        waiting.closed = true;
        pushed
    }

    /// Writes `frame` if nothing waits before it, and keeps what the socket did not take.
    fn write(&self, waiting: &mut Waiting, frame: &[u8], limit: usize) -> Pushed {
        if waiting.closed {
            return Pushed::Closed;
        }
        if waiting.held || !waiting.bytes.is_empty() {
            // Behind earlier bytes: write nothing now, or the frames would interleave.
            if waiting.bytes.len().saturating_add(frame.len()) > limit {
                return Pushed::Slow;
            }
            waiting.bytes.extend_from_slice(frame);
            return Pushed::Taken;
        }
        let rest = match self.socket.try_write(frame) {
            Ok(written) if written == frame.len() => return Pushed::Taken,
            Ok(written) => &frame[written..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => frame,
            Err(_) => {
                waiting.closed = true;
                return Pushed::Closed;
            }
        };
        waiting.bytes.extend_from_slice(rest);
        waiting.progress = Instant::now();
        self.queued.notify_one();
        Pushed::Taken
    }

    /// Returns once bytes are waiting for [`Outbox::drain`].
    pub async fn queued(&self) {
        loop {
            if self.waiting.lock().map_or(true, |w| !w.held && !w.bytes.is_empty()) {
                return;
            }
            self.queued.notified().await;
        }
    }

    /// Writes what is waiting as the socket takes it, until nothing is. Fails when the socket
    /// is gone, or took nothing for `stall` (a client that stopped reading).
    pub async fn drain(&self, stall: Duration) -> io::Result<()> {
        loop {
            let deadline = {
                let mut waiting = self.waiting.lock().map_err(|_| io::Error::other("outbox poisoned"))?;
                if waiting.held || waiting.bytes.is_empty() {
                    return Ok(());
                }
                match self.socket.try_write(&waiting.bytes) {
                    Ok(written) => {
                        waiting.bytes.advance(written);
                        waiting.progress = Instant::now();
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => {
                        waiting.closed = true;
                        return Err(e);
                    }
                }
                if waiting.bytes.is_empty() {
                    // Give the buffer back: an idle socket holds no memory for its writes.
                    waiting.bytes = BytesMut::new();
                    return Ok(());
                }
                waiting.progress + stall
            };
            tokio::time::timeout_at(deadline, self.socket.writable())
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "the client took no bytes"))??;
        }
    }
}

/// `payload` as one unmasked text frame, encoded once for every socket it goes to.
pub fn text_frame(payload: &str) -> Vec<u8> {
    let mut out = Vec::new();
    append_text_frame(&mut out, payload);
    out
}

/// Appends `payload` to `out` as one unmasked text frame.
pub fn append_text_frame(out: &mut Vec<u8>, payload: &str) {
    append(
        out,
        Frame::message(payload.as_bytes().to_vec(), OpCode::Data(Data::Text), true),
    );
}

fn close_frame(code: u16, reason: &'static str) -> Vec<u8> {
    let mut out = Vec::new();
    append(
        &mut out,
        Frame::close(Some(CloseFrame {
            code: CloseCode::from(code),
            reason: Utf8Bytes::from_static(reason),
        })),
    );
    out
}

fn append(out: &mut Vec<u8>, frame: Frame) {
    out.reserve(frame.len());
    // Writing into a Vec cannot fail.
    let _ = frame.format(out);
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    /// A socket's task polls `drain` among other things, and drops it whenever another of them
    /// is ready first; a client that stops reading must still be dropped `stall` after it last
    /// took bytes, not `stall` after the last of those polls.
    #[tokio::test]
    async fn a_stall_counts_from_the_last_progress_however_often_drain_is_dropped() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let client = TcpStream::connect(listener.local_addr().expect("addr"))
            .await
            .expect("connect");
        let (server, _) = listener.accept().await.expect("accept");
        let (_read, write) = server.into_split();
        let outbox = Outbox::new(write);
        assert_eq!(outbox.release(b""), Pushed::Taken);
        // The client reads nothing: fill its buffers until bytes wait here.
        let frame = vec![b'x'; 16 * 1024];
        while tokio::time::timeout(Duration::ZERO, outbox.queued()).await.is_err() {
            assert_eq!(outbox.push(&frame), Pushed::Taken);
        }
        let stall = Duration::from_secs(1);
        // Three drains of 300 ms, each dropped before the stall is up.
        for _ in 0..3 {
            let cut_short = tokio::time::timeout(Duration::from_millis(300), outbox.drain(stall)).await;
            assert!(cut_short.is_err(), "drain returned although the client reads nothing");
        }
        let started = Instant::now();
        let drained = outbox.drain(stall).await;
        assert_eq!(drained.map_err(|e| e.kind()), Err(io::ErrorKind::TimedOut));
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "the stall was timed from the last drain, not the last progress: {:?}",
            started.elapsed()
        );
        drop(client);
    }
}
