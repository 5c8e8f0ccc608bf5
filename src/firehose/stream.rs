//! Where frames come from: a Jetstream WebSocket, or a file of recorded
//! frames for local runs. The runner only sees [`Connector`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use futures_util::StreamExt;
use thiserror::Error;
use tokio_tungstenite::tungstenite::Message;

use crate::platforms::jetstream::{frame_position, subscribe_url};

#[derive(Debug, Error)]
pub enum StreamError {
    #[error("could not connect to {endpoint}: {reason}")]
    Connect { endpoint: String, reason: String },
    #[error("connecting to {0} took too long")]
    ConnectTimeout(String),
    #[error("the connection failed: {0}")]
    Read(String),
    #[error("cannot read the replay file: {0}")]
    Replay(String),
}

/// What the stream gave next.
#[derive(Debug)]
pub enum Next {
    Frame(String),
    /// The server closed the connection; reconnecting may go on.
    Closed,
    /// There is nothing more to read, ever (the end of a replay).
    Exhausted,
}

#[async_trait]
pub trait FrameStream: Send {
    async fn next(&mut self) -> Result<Next, StreamError>;
}

#[async_trait]
pub trait Connector: Send + Sync {
    /// Subscribes to posts at `endpoint`, from `cursor` (unix µs) when
    /// given, else from now.
    async fn connect(
        &self,
        endpoint: &str,
        cursor: Option<i64>,
        timeout: StdDuration,
    ) -> Result<Box<dyn FrameStream>, StreamError>;
}

/// Jetstream over WebSocket (`ws://` or `wss://`, rustls on ring with the
/// system's roots).
pub struct WebSocketConnector;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct WebSocketStream(Socket);

#[async_trait]
impl Connector for WebSocketConnector {
    async fn connect(
        &self,
        endpoint: &str,
        cursor: Option<i64>,
        timeout: StdDuration,
    ) -> Result<Box<dyn FrameStream>, StreamError> {
        let tls = crate::https::tls_config().map_err(|err| StreamError::Connect {
            endpoint: endpoint.to_owned(),
            reason: err.to_string(),
        })?;
        let url = subscribe_url(endpoint, cursor);
        let connecting = tokio_tungstenite::connect_async_tls_with_config(
            url.as_str(),
            None,
            false,
            Some(tokio_tungstenite::Connector::Rustls(Arc::new(tls))),
        );
        match tokio::time::timeout(timeout, connecting).await {
            Err(_) => Err(StreamError::ConnectTimeout(endpoint.to_owned())),
            Ok(Err(err)) => Err(StreamError::Connect {
                endpoint: endpoint.to_owned(),
                reason: err.to_string(),
            }),
            Ok(Ok((socket, _))) => Ok(Box::new(WebSocketStream(socket))),
        }
    }
}

#[async_trait]
impl FrameStream for WebSocketStream {
    async fn next(&mut self) -> Result<Next, StreamError> {
        loop {
            match self.0.next().await {
                None => return Ok(Next::Closed),
                Some(Err(err)) => return Err(StreamError::Read(err.to_string())),
                Some(Ok(Message::Text(text))) => return Ok(Next::Frame(text.as_str().to_owned())),
                Some(Ok(Message::Close(_))) => return Ok(Next::Closed),
                // Pings are answered by the socket itself; compressed
                // (binary) frames are never asked for.
                Some(Ok(_)) => continue,
            }
        }
    }
}

/// Frames recorded one per line, served as Jetstream would: from the
/// cursor on, then the end.
pub struct ReplayConnector {
    pub path: PathBuf,
}

struct ReplayStream(std::vec::IntoIter<String>);

#[async_trait]
impl Connector for ReplayConnector {
    async fn connect(
        &self,
        _endpoint: &str,
        cursor: Option<i64>,
        _timeout: StdDuration,
    ) -> Result<Box<dyn FrameStream>, StreamError> {
        let text = tokio::fs::read_to_string(&self.path)
            .await
            .map_err(|err| StreamError::Replay(format!("{}: {err}", self.path.display())))?;
        let frames: Vec<String> = text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .filter(|line| match (cursor, frame_position(line)) {
                (Some(cursor), Some(at)) => at >= cursor,
                _ => true,
            })
            .map(str::to_owned)
            .collect();
        Ok(Box::new(ReplayStream(frames.into_iter())))
    }
}

#[async_trait]
impl FrameStream for ReplayStream {
    async fn next(&mut self) -> Result<Next, StreamError> {
        Ok(self.0.next().map_or(Next::Exhausted, Next::Frame))
    }
}
