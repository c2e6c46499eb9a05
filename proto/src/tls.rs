//! TLS (rustls) on every port, when a cluster is given certificates.
//!
//! - A server ([`ServerTls`]) presents the certificate and key of `--tls-cert`/`--tls-key` on its
//!   gRPC port and its HTTP port alike.
//! - Outgoing connections trust the CA of `--tls-ca` (the `hdfs` command: `--tls-ca` or
//!   `HDFS_TLS_CA`; the library: [`trust`]). A process is in a TLS cluster or not, as a Hadoop
//!   process reads one `ssl-client.xml`: once a CA is trusted, every address without a scheme
//!   (datanodes as the namenode names them, members of a group) is reached over `https`, and the
//!   HTTP ports' redirects and links say `https` ([`scheme`]). The server's certificate must name
//!   the host the caller dials (a DNS name or an IP address in its subjectAltName).
//!
//! `deploy/make-certs.sh` makes a private CA and a certificate for the local cluster.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

/// What a server presents: its certificate chain and key, for gRPC (tonic) and HTTP (rustls).
#[derive(Clone)]
pub struct ServerTls {
    pub grpc: ServerTlsConfig,
    pub http: Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerTls(..)")
    }
}

fn read(what: &str, path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{what} {}: {e}", path.display()))
}

impl ServerTls {
    /// The certificate chain (PEM) at `cert` and the private key (PEM) at `key`.
    pub fn load(cert: &Path, key: &Path) -> Result<Self, String> {
        let (cert_pem, key_pem) = (read("--tls-cert", cert)?, read("--tls-key", key)?);
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(&cert_pem)
                .collect::<Result<_, _>>()
                .map_err(|e| format!("--tls-cert {}: not a PEM certificate: {e}", cert.display()))?;
        if chain.is_empty() {
            return Err(format!("--tls-cert {}: no certificate in it", cert.display()));
        }
        let private = PrivateKeyDer::from_pem_slice(&key_pem)
            .map_err(|e| format!("--tls-key {}: not a PEM private key: {e}", key.display()))?;
        let mut http = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(chain, private)
            .map_err(|e| format!("--tls-cert/--tls-key: {e}"))?;
        http.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let grpc = ServerTlsConfig::new().identity(Identity::from_pem(cert_pem, key_pem));
        Ok(Self { grpc, http: Arc::new(http) })
    }

    /// From the three flags: none given, no TLS; a certificate needs its key.
    pub fn from_flags(cert: Option<&Path>, key: Option<&Path>) -> Result<Option<Self>, String> {
        match (cert, key) {
            (None, None) => Ok(None),
            (Some(c), Some(k)) => Self::load(c, k).map(Some),
            _ => Err("--tls-cert and --tls-key go together".into()),
        }
    }
}

/// The CA this process trusts for outgoing connections, once set.
static TRUSTED: OnceLock<(PathBuf, Vec<u8>)> = OnceLock::new();

/// Trusts the CA certificate(s) in the PEM file at `ca` for every outgoing connection of this
/// process, and reaches scheme-less addresses over TLS from now on. Once per process: a second
/// call with another file is refused.
pub fn trust(ca: &Path) -> Result<(), String> {
    let pem = read("--tls-ca", ca)?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("--tls-ca {}: not a PEM certificate: {e}", ca.display()))?;
    if certs.is_empty() {
        return Err(format!("--tls-ca {}: no certificate in it", ca.display()));
    }
    let (first, _) = TRUSTED.get_or_init(|| (ca.to_path_buf(), pem));
    if first != ca {
        return Err(format!("--tls-ca {}: this process already trusts {}", ca.display(), first.display()));
    }
    Ok(())
}

/// Whether this process reaches its peers over TLS.
pub fn enabled() -> bool {
    TRUSTED.get().is_some()
}

/// `https` in a TLS cluster, else `http`: the scheme of every URL made from a bare address.
pub fn scheme() -> &'static str {
    if enabled() { "https" } else { "http" }
}

/// The client side of TLS for `host`, if this process trusts a CA.
pub(crate) fn client_config(host: &str) -> Option<ClientTlsConfig> {
    let (_, pem) = TRUSTED.get()?;
    Some(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem)).domain_name(host))
}
