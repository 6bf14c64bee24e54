//! A client socket that knows when its bytes were delivered: the kernel stamps each received
//! segment (`SO_TIMESTAMPNS`) and every read keeps the stamp of the latest segment it took.
//!
//! With 1,000 clients in one process on two cores, the bench's own tasks read a frame some
//! milliseconds after the kernel handed it over; that queue is the harness's, not the server's.
//! The stamp is the moment of delivery whatever the harness is doing. On loopback a segment is
//! received as the server sends it, so the stamp also marks when the server wrote the frame.

use std::io;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::task::{Context, Poll, ready};

use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg, setsockopt, sockopt};
use nix::sys::time::TimeSpec;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

/// A TCP stream whose reads record the kernel's receive time of the bytes they return.
pub struct Stamped {
    inner: TcpStream,
    /// Microseconds since the Unix epoch at which the latest read's last segment arrived.
    delivered_us: Arc<AtomicI64>,
}

impl Stamped {
    /// Asks the kernel to stamp what `stream` receives.
    pub fn new(inner: TcpStream) -> io::Result<Self> {
        setsockopt(&inner, sockopt::ReceiveTimestampns, &true).map_err(io::Error::from)?;
        Ok(Self {
            inner,
            delivered_us: Arc::new(AtomicI64::new(0)),
        })
    }

    /// The receive time of the latest read, shared so it can be read after the stream moves into
    /// the WebSocket.
    pub fn delivered_us(&self) -> Arc<AtomicI64> {
        Arc::clone(&self.delivered_us)
    }
}

/// One `recvmsg` into `into`: the bytes read and the stamp of the last segment among them.
fn receive(fd: i32, into: &mut [u8]) -> io::Result<(usize, Option<i64>)> {
    let mut iov = [io::IoSliceMut::new(into)];
    let mut space = nix::cmsg_space!(TimeSpec);
    let message = recvmsg::<()>(fd, &mut iov, Some(&mut space), MsgFlags::MSG_DONTWAIT).map_err(io::Error::from)?;
    let stamp = message.cmsgs().map_err(io::Error::from)?.find_map(|c| match c {
        ControlMessageOwned::ScmTimestampns(at) => Some(at.tv_sec() * 1_000_000 + at.tv_nsec() / 1_000),
        _ => None,
    });
    Ok((message.bytes, stamp))
}

impl AsyncRead for Stamped {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            ready!(this.inner.poll_read_ready(cx))?;
            let fd = this.inner.as_raw_fd();
            let unfilled = buf.initialize_unfilled();
            match this.inner.try_io(Interest::READABLE, || receive(fd, unfilled)) {
                Ok((n, stamp)) => {
                    buf.advance(n);
                    if let Some(at) = stamp {
                        this.delivered_us.store(at, Ordering::Relaxed);
                    }
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for Stamped {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
