//! The HTTP server: an accept loop over hyper's HTTP/1 connections, with the
//! limits that keep a few hostile clients from holding the service:
//!
//! - **header timeout**: a request's headers must arrive in full within this
//!   time of the connection being ready for them (just opened, or the previous
//!   answer sent), so a client trickling header bytes (slowloris) is cut, and an
//!   idle keep-alive connection is closed after the same time;
//! - **idle timeout**: a connection on which no byte moves either way for this
//!   long is closed (a body trickled, an answer nobody reads);
//! - **maximum connections**: over the cap, new connections wait in the
//!   kernel's backlog until one closes; nothing past the cap is read.
//!
//! hyper's `http1::Builder::header_read_timeout` does the header part; the cap
//! is a semaphore around `accept`; the idle cut wraps the socket. Each request
//! carries its connection's peer address (`limits::Peer`), for the limits per
//! client.
//!
//! A request hyper cannot parse (a bad method, header or URI; headers or URI
//! too long) is answered by hyper itself, `400`, `431` or `414` with no body,
//! before any service sees it: hyper 1 writes that head from its parser's
//! error path (`role::Server::on_error`, an empty `MessageHead`) and offers no
//! hook to add headers, so these answers carry no security headers. They have
//! no body for a browser to render or sniff, and the connection closes after
//! them; every answer the application makes (408 and 413 included) has them.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

use crate::limits::Peer;

/// The server's limits. The defaults are the product's (see the README).
#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    /// Time for a request's headers, from the connection being ready for them.
    pub header_timeout: Duration,
    /// A connection with no byte in either direction for this long is closed.
    /// Longer than the status long-poll (25 s).
    pub idle_timeout: Duration,
    /// Connections served at once; more wait to be accepted.
    pub max_connections: usize,
    /// A request not answered within this time gets `408`.
    pub request_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 512,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// How long a stopping server waits for the answers under way.
const DRAIN: Duration = Duration::from_secs(30);

/// Accept and serve connections until `shutdown` resolves, then let the
/// connections under way finish (for at most 30 s).
pub(crate) async fn run(
    listener: TcpListener,
    app: axum::Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors or a connection aborted before accept: go on.
                    tracing::debug!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let io = hyper_util::rt::TokioIo::new(IdleCut::new(stream, limits.idle_timeout));
        let app =
            app.clone()
                .map_request(move |mut request: hyper::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(Peer(peer));
                    request
                });
        let service = hyper_util::service::TowerToHyperService::new(app);
        let connection = graceful.watch(http.serve_connection(io, service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection closed");
            }
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN, graceful.shutdown()).await;
    Ok(())
}

/// A socket closed when no byte has moved either way for `idle`.
struct IdleCut {
    io: TcpStream,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl IdleCut {
    fn new(io: TcpStream, idle: Duration) -> Self {
        IdleCut {
            io,
            idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
        }
    }

    fn moved(&mut self) {
        let next = Instant::now() + self.idle;
        self.deadline.as_mut().reset(next);
    }

    /// Pending I/O: an error once the connection has been idle too long.
    fn pending<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "connection idle too long",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for IdleCut {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.moved();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => this.pending(cx),
            done => done,
        }
    }
}

impl AsyncWrite for IdleCut {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write(cx, data) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    this.moved();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Pending => this.pending(cx),
            done => done,
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write_vectored(cx, data) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    this.moved();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Pending => this.pending(cx),
            done => done,
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}
