//! Every HTTPS client Earshot builds checks the server's certificate
//! against the system's root certificates: the platform clients and the
//! AWS SDK's client share one TLS set-up, and a server no root vouches for
//! is refused before any request is sent.

use std::sync::Arc;

use earshot::platforms::http::Http;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::support;

/// A loopback TLS server with a freshly made self-signed certificate for
/// `localhost`; its task ends with what the handshake came to.
async fn self_signed_server() -> (String, tokio::task::JoinHandle<Result<(), String>>) {
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("cert");
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()));
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![made.cert.der().clone()], key)
        .expect("server config");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.map_err(|e| e.to_string())?;
        acceptor
            .accept(socket)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    (format!("https://localhost:{port}"), server)
}

fn assert_refused_for_its_certificate(handshake: Result<(), String>) {
    let err = handshake.expect_err("the client must not finish the handshake");
    // The client's alert: the certificate chains to no root it trusts.
    assert!(
        err.contains("UnknownCA") || err.contains("BadCertificate"),
        "{err}"
    );
}

#[tokio::test]
async fn a_platform_client_refuses_a_server_no_system_root_vouches_for() {
    let (url, server) = self_signed_server().await;
    let http = Http::new().expect("client");
    let answer = http
        .get(
            &format!("{url}/2/tweets"),
            None,
            std::time::Duration::from_secs(5),
        )
        .await;
    assert!(
        answer.is_err(),
        "an answer came through an untrusted server"
    );
    assert_refused_for_its_certificate(server.await.expect("server task"));
}

#[tokio::test]
async fn the_sdk_client_refuses_a_server_no_system_root_vouches_for() {
    let (url, server) = self_signed_server().await;
    let sdk = support::sdk_config_with(
        &url,
        aws_config::retry::RetryConfig::disabled(),
        aws_config::timeout::TimeoutConfig::builder()
            .operation_timeout(std::time::Duration::from_secs(10))
            .build(),
    )
    .await;
    let tables = aws_sdk_dynamodb::Client::new(&sdk)
        .list_tables()
        .send()
        .await;
    assert!(
        tables.is_err(),
        "an answer came through an untrusted server"
    );
    assert_refused_for_its_certificate(server.await.expect("server task"));
}
