//! The AWS SDK's HTTP client on reqwest, the client the platform calls use.
//! A bootstrap then links one HTTP/1.1 + rustls stack instead of two: the
//! SDK's own client would add a second hyper client and hyper's HTTP/2,
//! which DynamoDB, SNS, SSM and SMS Voice do not need.
//!
//! The SDK keeps the parts that are its job: signing, retries and the
//! operation and attempt timeouts. This client applies the connect and read
//! timeouts it is given and tells the SDK which failures are worth a retry.

use std::error::Error as StdError;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::{Headers, StatusCode};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::ErrorKind;

/// The HTTP client for every AWS SDK client Earshot builds.
pub fn sdk_http_client() -> SharedHttpClient {
    SharedHttpClient::new(ReqwestHttpClient::default())
}

/// The timeouts a connector is built for.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Timeouts {
    connect: Option<Duration>,
    read: Option<Duration>,
}

/// Hands out one connector, so one connection pool, per distinct timeout
/// settings. A function configures one set, so in practice there is one.
#[derive(Debug, Default)]
struct ReqwestHttpClient {
    connectors: Mutex<Vec<(Timeouts, SharedHttpConnector)>>,
}

impl HttpClient for ReqwestHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.connector_for(Timeouts {
            connect: settings.connect_timeout(),
            read: settings.read_timeout(),
        })
    }
}

impl ReqwestHttpClient {
    fn connector_for(&self, timeouts: Timeouts) -> SharedHttpConnector {
        let mut connectors = self
            .connectors
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((_, connector)) = connectors.iter().find(|(t, _)| *t == timeouts) {
            return connector.clone();
        }
        let connector = SharedHttpConnector::new(ReqwestConnector::new(timeouts));
        connectors.push((timeouts, connector.clone()));
        connector
    }
}

#[derive(Debug)]
struct ReqwestConnector {
    /// `Err` when the TLS set-up failed; every call then reports it.
    client: Result<reqwest::Client, String>,
}

impl ReqwestConnector {
    fn new(timeouts: Timeouts) -> Self {
        let client = crate::https::client_builder()
            .and_then(|mut builder| {
                if let Some(connect) = timeouts.connect {
                    builder = builder.connect_timeout(connect);
                }
                if let Some(read) = timeouts.read {
                    builder = builder.read_timeout(read);
                }
                Ok(builder.build()?)
            })
            .map_err(|err| err.to_string());
        Self { client }
    }
}

impl HttpConnector for ReqwestConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = self.client.clone();
        HttpConnectorFuture::new(async move {
            let client = client.map_err(|reason| ConnectorError::other(reason.into(), None))?;
            let request = to_reqwest(&client, request)?;
            let response = client.execute(request).await.map_err(connector_error)?;
            from_reqwest(response).await
        })
    }
}

fn to_reqwest(
    client: &reqwest::Client,
    request: HttpRequest,
) -> Result<reqwest::Request, ConnectorError> {
    let method = reqwest::Method::from_bytes(request.method().as_bytes())
        .map_err(|err| ConnectorError::user(err.into()))?;
    // Every operation Earshot calls sends a body the SDK holds in memory.
    let body = request.body().bytes().map(<[u8]>::to_vec).ok_or_else(|| {
        ConnectorError::user("a streaming request body cannot be sent by this client".into())
    })?;
    let mut builder = client.request(method, request.uri()).body(body);
    for (name, value) in request.headers() {
        builder = builder.header(name, value);
    }
    builder
        .build()
        .map_err(|err| ConnectorError::user(err.into()))
}

async fn from_reqwest(response: reqwest::Response) -> Result<HttpResponse, ConnectorError> {
    let status = StatusCode::try_from(response.status().as_u16())
        .map_err(|err| ConnectorError::other(err.into(), None))?;
    let headers = Headers::try_from(response.headers().clone())
        .map_err(|err| ConnectorError::other(err.into(), None))?;
    let body = response.bytes().await.map_err(connector_error)?;
    let mut answer = HttpResponse::new(status, SdkBody::from(body));
    *answer.headers_mut() = headers;
    Ok(answer)
}

/// Sorts a failure for the SDK's retry policy: a timeout, or a connection
/// that failed, closed or broke mid-answer, is transient and retried;
/// a request that could not be built is the caller's.
fn connector_error(err: reqwest::Error) -> ConnectorError {
    if err.is_timeout() {
        ConnectorError::timeout(err.into())
    } else if err.is_builder() {
        ConnectorError::user(err.into())
    } else if err.is_connect() || has_io_source(&err) {
        ConnectorError::io(err.into())
    } else if err.is_request() || err.is_body() || err.is_decode() {
        // A pooled connection the server had closed, or an answer cut short.
        ConnectorError::other(err.into(), Some(ErrorKind::TransientError))
    } else {
        ConnectorError::other(err.into(), None)
    }
}

fn has_io_source(err: &reqwest::Error) -> bool {
    let mut source = err.source();
    while let Some(cause) = source {
        if cause.is::<std::io::Error>() {
            return true;
        }
        source = cause.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    fn connector() -> ReqwestConnector {
        ReqwestConnector::new(Timeouts {
            connect: Some(Duration::from_secs(5)),
            read: None,
        })
    }

    fn post(uri: &str) -> HttpRequest {
        let mut request = HttpRequest::new(SdkBody::from(r#"{"TableName":"t"}"#));
        request.set_uri(uri).expect("uri");
        request.set_method("POST").expect("method");
        request
            .headers_mut()
            .insert("x-amz-target", "DynamoDB_20120810.GetItem");
        request
    }

    /// A loopback server that reads one request and answers it with
    /// `answer`, returning the request it read.
    async fn serve_once(answer: &'static [u8]) -> (String, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let uri = format!("http://{}/", listener.local_addr().expect("addr"));
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut read = Vec::new();
            let mut buffer = [0u8; 4096];
            while !read.ends_with(br#"{"TableName":"t"}"#) {
                let n = socket.read(&mut buffer).await.expect("read");
                if n == 0 {
                    break;
                }
                read.extend_from_slice(&buffer[..n]);
            }
            socket.write_all(answer).await.expect("write");
            String::from_utf8_lossy(&read).into_owned()
        });
        (uri, server)
    }

    #[tokio::test]
    async fn a_request_goes_out_with_its_headers_and_the_answer_comes_back_whole() {
        let (uri, server) = serve_once(
            b"HTTP/1.1 400 Bad Request\r\nx-amzn-requestid: r1\r\ncontent-length: 2\r\n\r\n{}",
        )
        .await;
        let response = connector().call(post(&uri)).await.expect("answered");
        assert_eq!(response.status().as_u16(), 400);
        assert_eq!(response.headers().get("x-amzn-requestid"), Some("r1"));
        assert_eq!(response.body().bytes(), Some(&b"{}"[..]));
        let request = server.await.expect("server");
        assert!(request.starts_with("POST / HTTP/1.1"), "{request}");
        assert!(
            request.contains("x-amz-target: DynamoDB_20120810.GetItem"),
            "{request}"
        );
    }

    #[tokio::test]
    async fn an_answer_cut_short_is_a_transient_failure_the_sdk_retries() {
        let (uri, server) =
            serve_once(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"Item\":").await;
        let err = connector().call(post(&uri)).await.expect_err("cut short");
        server.await.expect("server");
        assert!(
            err.is_io() || err.as_other() == Some(ErrorKind::TransientError),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_refused_connection_is_an_io_failure_the_sdk_retries() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let uri = format!("http://{}/", listener.local_addr().expect("addr"));
        drop(listener); // Nobody listens there now.
        let err = connector().call(post(&uri)).await.expect_err("refused");
        assert!(err.is_io(), "{err:?}");
    }

    #[tokio::test]
    async fn a_streaming_body_is_refused_as_the_callers_error() {
        let mut request = post("http://127.0.0.1:9/");
        *request.body_mut() = SdkBody::taken();
        let err = connector().call(request).await.expect_err("refused");
        assert!(err.is_user(), "{err:?}");
    }

    #[test]
    fn one_connector_serves_every_client_with_the_same_timeouts() {
        let client = ReqwestHttpClient::default();
        let timeouts = |secs| Timeouts {
            connect: Some(Duration::from_secs(secs)),
            read: None,
        };
        client.connector_for(timeouts(1));
        client.connector_for(timeouts(1));
        client.connector_for(timeouts(2));
        assert_eq!(client.connectors.lock().expect("lock").len(), 2);
    }
}
