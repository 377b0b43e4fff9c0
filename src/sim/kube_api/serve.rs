//! The listener: each connection is TLS (first byte 0x16, a handshake) or
//! plain HTTP/1.1, both on the same port. kubectl only sends bearer tokens
//! over TLS, so its kubeconfig uses `https://`; plain clients may use
//! `http://`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_util::sync::CancellationToken;

/// The CA that signed the server certificate (PEM), for kubeconfigs.
pub const CA_PEM: &str = include_str!("tls/ca.pem");
const CERT_DER: &[u8] = include_bytes!("tls/server-cert.der");
const KEY_DER: &[u8] = include_bytes!("tls/server-key.der");

/// How long open connections get to finish after a shutdown.
const DRAIN: Duration = Duration::from_millis(300);

pub fn tls_acceptor() -> std::io::Result<TlsAcceptor> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(KEY_DER.to_vec()));
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(std::io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(CERT_DER.to_vec())], key)
        .map_err(std::io::Error::other)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

async fn serve_connection(stream: TcpStream, tls: TlsAcceptor, app: Router) {
    let mut first = [0u8; 1];
    let is_tls = matches!(stream.peek(&mut first).await, Ok(1) if first[0] == 0x16);
    let svc = TowerToHyperService::new(app);
    let http = hyper::server::conn::http1::Builder::new();
    let result = if is_tls {
        match tls.accept(stream).await {
            Ok(s) => http.serve_connection(TokioIo::new(s), svc).await,
            Err(e) => {
                tracing::debug!(error = %e, "sim api: TLS handshake failed");
                return;
            }
        }
    } else {
        http.serve_connection(TokioIo::new(stream), svc).await
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "sim api: connection ended");
    }
}

/// Accept until cancelled; then give connections a moment and close them.
pub async fn run(listener: TcpListener, app: Router, tls: TlsAcceptor, cancel: CancellationToken) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    conns.spawn(serve_connection(stream, tls.clone(), app.clone()));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "sim api: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN, async { while conns.join_next().await.is_some() {} }).await;
    conns.abort_all();
    while conns.join_next().await.is_some() {}
}
