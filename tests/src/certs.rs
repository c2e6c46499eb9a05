//! A cluster's certificates for TLS, made by `deploy/make-certs.sh`.

use std::path::{Path, PathBuf};

/// A node certificate and key, and the CA that signed it.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
}

impl TlsFiles {
    /// Makes a CA and a node certificate for 127.0.0.1 in `dir` with `deploy/make-certs.sh`.
    pub fn make(dir: &Path) -> anyhow::Result<Self> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/make-certs.sh");
        let out = std::process::Command::new("bash").arg(script).arg(dir).output()?;
        anyhow::ensure!(out.status.success(), "make-certs.sh: {}", String::from_utf8_lossy(&out.stderr));
        Ok(Self { cert: dir.join("node.pem"), key: dir.join("node.key"), ca: dir.join("ca.pem") })
    }
}
