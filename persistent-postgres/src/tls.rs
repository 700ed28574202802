//! TLS for the connections: rustls with the `ring` provider (no system library), set up
//! after libpq's `sslmode`:
//!
//! * `disable`: no TLS; `prefer` (the default): TLS when offered, certificate not checked;
//! * `require`: TLS always; the certificate is checked against a CA only when one is given
//!   (libpq does the same when a root certificate file exists);
//! * `verify-ca`: the certificate must chain to the CA, whatever name it carries;
//! * `verify-full`: the certificate must chain to the CA and name the host connected to.
//!
//! The CA comes from `PostgresOptions::ca_file`, else the URL's `sslrootcert`, else
//! `~/.postgresql/root.crt` if it exists. Nothing here opens a connection.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use persistent_core::{Error, StorageErrorKind};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::url::SslMode;

/// The TLS connector for `mode`, or `None` for `disable`.
pub(crate) fn connector(
    mode: SslMode,
    ca_file: Option<&Path>,
    redacted_url: &str,
) -> Result<Option<MakeRustlsConnect>, Error> {
    if mode == SslMode::Disable {
        return Ok(None);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let ca_file = ca_file.map(Path::to_path_buf).or_else(default_root_cert);
    let roots = match &ca_file {
        Some(path) => Some(load_roots(path)?),
        None if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) => {
            return Err(Error::storage(
                StorageErrorKind::Invalid,
                format!(
                    "{redacted_url}: sslmode=verify-ca and verify-full need the CA certificate \
                     that signed the server's: give it with sslrootcert=PATH in the URL or \
                     PostgresOptions::with_ca_file"
                ),
            ))
        }
        None => None,
    };
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_setup_error(&e))?;
    let verifier: Arc<dyn ServerCertVerifier> = match roots {
        None => Arc::new(AnyCertificate(provider)),
        Some(roots) => {
            let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| tls_setup_error(&e))?;
            if mode == SslMode::VerifyFull {
                webpki
            } else {
                Arc::new(AnyName(webpki))
            }
        }
    };
    let config =
        builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth();
    Ok(Some(MakeRustlsConnect::new(config)))
}

fn tls_setup_error(error: &dyn std::fmt::Display) -> Error {
    Error::storage(StorageErrorKind::Other, format!("setting up TLS failed: {error}"))
}

/// libpq's default root certificate file, when it exists.
fn default_root_cert() -> Option<PathBuf> {
    let path = PathBuf::from(std::env::var_os("HOME")?).join(".postgresql/root.crt");
    path.exists().then_some(path)
}

/// The certificates of the PEM file at `path`.
fn load_roots(path: &Path) -> Result<RootCertStore, Error> {
    let unreadable = |detail: String| {
        Error::storage(
            StorageErrorKind::Invalid,
            format!(
                "the CA certificate file {} cannot be used ({detail}); give a PEM file of CA \
                 certificates",
                path.display()
            ),
        )
    };
    let mut roots = RootCertStore::empty();
    let certificates =
        CertificateDer::pem_file_iter(path).map_err(|e| unreadable(e.to_string()))?;
    for certificate in certificates {
        let certificate = certificate.map_err(|e| unreadable(e.to_string()))?;
        roots.add(certificate).map_err(|e| unreadable(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(unreadable("it holds no certificate".to_owned()));
    }
    Ok(roots)
}

/// `require` and `prefer` without a CA: any certificate is accepted (the connection is
/// encrypted, not authenticated), but the handshake signatures are still checked.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain is checked as `verify-full` checks it; only a name mismatch is
/// forgiven.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}
