//! How apply trusts a CloverDX Server's HTTPS certificate. CloverDX's marketplace images serve
//! HTTPS with a self-signed certificate by default (CloverDX documentation,
//! `admin/aws-marketplace.md`, HTTPS: "the default HTTPS connector is using a self-signed
//! certificate"), so the system's roots alone cannot reach a stock server. Verification is
//! never switched off; the spec says what to trust instead:
//! - nothing: the system's roots (a certificate from a public CA, e.g. Let's Encrypt);
//! - `ca_file`: a PEM bundle, checked as the system's roots are (chain, validity, host name);
//! - `sha256_fingerprint`: exactly that certificate, whatever host it names or when it expires
//!   (a pin, as SSH's known_hosts), with the handshake's signature still checked against it.
//!
//! Every verifier records the fingerprint of the certificate it was shown, so that a refused
//! handshake can say which certificate the server presented and which spec field trusts it.

use std::sync::{Arc, Mutex};

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use sha2::{Digest, Sha256};

use crate::spec::checked::fingerprint_text;
use crate::spec::model::Trust;

/// The old server's trust (`from.server.tls`) and the new one's (`to.server.tls`).
pub fn for_servers(
    spec: &crate::spec::model::Spec,
    spec_dir: &std::path::Path,
) -> Result<(Tls, Tls), String> {
    Ok((old_trust(spec, spec_dir)?, new_trust(spec, spec_dir)?))
}

pub fn old_trust(
    spec: &crate::spec::model::Spec,
    spec_dir: &std::path::Path,
) -> Result<Tls, String> {
    Tls::new(spec.from.server.tls.as_ref(), spec_dir, "from.server.tls")
}

/// The new server's: `to.server.tls`; with the war strategy the new version runs on the old
/// server, behind its certificate, so `from.server.tls` unless `to.server.tls` says otherwise.
pub fn new_trust(
    spec: &crate::spec::model::Spec,
    spec_dir: &std::path::Path,
) -> Result<Tls, String> {
    let own = spec.to.server.as_ref().and_then(|s| s.tls.as_ref());
    match (own, spec.strategy) {
        (None, crate::spec::model::Strategy::War) => old_trust(spec, spec_dir),
        _ => Tls::new(own, spec_dir, "to.server.tls"),
    }
}

/// The trust a client was built with, and the certificate its last handshake was shown.
#[derive(Clone)]
pub struct Tls {
    pub config: rustls::ClientConfig,
    seen: Arc<Mutex<Option<[u8; 32]>>>,
    /// The spec field that sets this trust, for messages: `from.server.tls`.
    pub field: &'static str,
}

impl Tls {
    /// The rustls configuration for `trust`; `spec_dir` resolves a relative `ca_file`.
    pub fn new(
        trust: Option<&Trust>,
        spec_dir: &std::path::Path,
        field: &'static str,
    ) -> Result<Tls, String> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let inner = match trust {
            None => Inner::Roots(Arc::new(
                rustls_platform_verifier::Verifier::new(provider.clone())
                    .map_err(|e| format!("the system's certificate store: {e}"))?,
            )),
            Some(Trust::CaFile(path)) => {
                let file = spec_dir.join(path.as_str());
                Inner::Roots(ca_verifier(&file, provider.clone(), field)?)
            }
            Some(Trust::Sha256Fingerprint(pin)) => Inner::Pin(pin.bytes()),
        };
        Tls::build(inner, provider, field)
    }

    /// Trust in exactly the certificate whose SHA-256 is `pin` (read from the new server's
    /// console through the cloud's API).
    pub fn pinned(pin: [u8; 32], field: &'static str) -> Result<Tls, String> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        Tls::build(Inner::Pin(pin), provider, field)
    }

    fn build(
        inner: Inner,
        provider: Arc<CryptoProvider>,
        field: &'static str,
    ) -> Result<Tls, String> {
        let seen = Arc::new(Mutex::new(None));
        let verifier = Recording {
            inner,
            provider: provider.clone(),
            seen: seen.clone(),
        };
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(Tls {
            config,
            seen,
            field,
        })
    }

    /// `AB:CD:…` of the certificate the last handshake was shown, if any.
    fn last_seen(&self) -> Option<String> {
        let seen = self.seen.lock().ok()?;
        seen.as_ref().map(|b| fingerprint_text(b))
    }

    /// What to say after a refused handshake: the certificate seen and how to trust it.
    pub fn refusal_hint(&self) -> String {
        match self.last_seen() {
            Some(fp) => format!(
                "; the server presented a certificate with SHA-256 fingerprint {fp}: if that is \
                 your server's, set {field}: {{ sha256_fingerprint: \"{fp}\" }} (or \
                 {field}.ca_file to the CA that signed it)",
                field = self.field
            ),
            None => String::new(),
        }
    }
}

/// A verifier of the system's roots or a CA bundle's, or a pin.
enum Inner {
    Roots(Arc<dyn ServerCertVerifier>),
    Pin([u8; 32]),
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Inner::Roots(_) => f.write_str("Roots"),
            Inner::Pin(p) => write!(f, "Pin({})", fingerprint_text(p)),
        }
    }
}

/// The CA bundle at `file`, as a WebPKI verifier.
fn ca_verifier(
    file: &std::path::Path,
    provider: Arc<CryptoProvider>,
    field: &str,
) -> Result<Arc<dyn ServerCertVerifier>, String> {
    let shown = file.display();
    let bytes = std::fs::read(file).map_err(|e| format!("{field}.ca_file {shown}: {e}"))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&bytes) {
        let cert = cert.map_err(|e| format!("{field}.ca_file {shown}: not PEM ({e})"))?;
        roots
            .add(cert)
            .map_err(|e| format!("{field}.ca_file {shown}: {e}"))?;
    }
    if roots.is_empty() {
        return Err(format!(
            "{field}.ca_file {shown} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
        ));
    }
    rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map(|v| v as Arc<dyn ServerCertVerifier>)
        .map_err(|e| format!("{field}.ca_file {shown}: {e}"))
}

#[derive(Debug)]
struct Recording {
    inner: Inner,
    provider: Arc<CryptoProvider>,
    seen: Arc<Mutex<Option<[u8; 32]>>>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let digest: [u8; 32] = Sha256::digest(end_entity.as_ref()).into();
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(digest);
        }
        match &self.inner {
            Inner::Roots(v) => {
                v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            // A pin trusts one certificate by its bytes: no chain, host name or validity
            // period is consulted, as with a known_hosts entry.
            Inner::Pin(pin) if *pin == digest => Ok(ServerCertVerified::assertion()),
            Inner::Pin(_) => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca_file(dir: &std::path::Path, text: &str) -> Result<Tls, String> {
        std::fs::write(dir.join("ca.pem"), text).expect("write");
        let trust: Trust =
            serde_json::from_value(serde_json::json!({ "ca_file": "ca.pem" })).expect("trust");
        Tls::new(Some(&trust), dir, "from.server.tls")
    }

    #[test]
    fn a_ca_file_that_holds_no_certificate_is_refused_naming_the_field() {
        let dir = tempfile::tempdir().expect("tempdir");
        let none = ca_file(dir.path(), "not a certificate\n")
            .err()
            .expect("refused");
        assert!(none.contains("from.server.tls.ca_file") && none.contains("no PEM certificate"));
        let missing = Tls::new(
            Some(
                &serde_json::from_value(serde_json::json!({ "ca_file": "gone.pem" }))
                    .expect("trust"),
            ),
            dir.path(),
            "to.server.tls",
        )
        .err()
        .expect("refused");
        assert!(missing.contains("to.server.tls.ca_file"), "{missing}");
    }

    #[test]
    fn a_refusal_names_the_certificate_seen_and_the_field() {
        let tls = Tls::pinned([7; 32], "to.server.tls").expect("tls");
        assert_eq!(tls.refusal_hint(), "", "nothing seen yet");
        if let Ok(mut seen) = tls.seen.lock() {
            *seen = Some([0xAB; 32]);
        }
        let hint = tls.refusal_hint();
        assert!(hint.contains("AB:AB:AB") && hint.contains("to.server.tls: { sha256_fingerprint:"));
    }
}
