//! The outside clients the HTTP tests drive against real processes, as `tests/setup-clients.sh`
//! installs them: Python (with HdfsCLI, fsspec and prometheus_client) in a virtual environment,
//! headless chromium, and the scripts in `tests/clients/`. A missing one fails the test with a
//! message naming the script, never skips it.

use std::path::PathBuf;

/// The virtual environment's Python: `$HDFS_TEST_VENV`, else `target/clients-venv`.
pub fn python() -> PathBuf {
    let venv = std::env::var_os("HDFS_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/clients-venv"));
    let py = venv.join("bin/python");
    assert!(py.exists(), "{} missing: run tests/setup-clients.sh first", py.display());
    py
}

/// A script of `tests/clients/`.
pub fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("clients").join(name)
}

/// The chromium binary on `PATH`.
pub fn chromium() -> PathBuf {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("chromium"))
        .find(|p| p.is_file());
    found.unwrap_or_else(|| panic!("chromium is not installed: run tests/setup-clients.sh first"))
}

/// Where tests leave what a person may want to look at (screenshots): `$HDFS_TEST_LOGS`, else
/// `target/test-logs/`.
pub fn log_dir() -> PathBuf {
    let dir = std::env::var_os("HDFS_TEST_LOGS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/test-logs"));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}
