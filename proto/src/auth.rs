//! Who may call what. Two mechanisms, both keyed by the cluster's one shared secret:
//!
//! - **The member credential**: servers calling each other (datanodes registering and
//!   heartbeating, a primary datanode driving block recovery, namenode members replicating the
//!   log) send `x-hdfs-member`, an HMAC of the secret that only holders of the secret can
//!   compute; the receiving server checks it before anything else ([`ClusterSecret::check`]).
//! - **Block access tokens** (HDFS's): the namenode signs, for each block it hands out, which
//!   block (id and generation stamp), what may be done with it (read, write, copy), for whom and
//!   until when; a datanode checks the token on every data call ([`BlockTokens::check`]) and
//!   serves nothing without one. The signing keys rotate every [`KEY_INTERVAL`] and are derived
//!   from the secret and the key's epoch, so every member of a namenode group signs with the
//!   same key after a failover and a datanode verifies without a key exchange. A token lives
//!   [`TOKEN_LIFETIME`] (HDFS's defaults: keys updated every 600 minutes, tokens valid 600).
//!
//! The secret is 32 random bytes, written as 64 hex digits: created by a namenode in its data
//! directory (`cluster-secret`, mode 0600) when none is given, and given to datanodes and other
//! members by flag, environment or file. Without TLS the credential and tokens cross the network
//! in the clear, as HDFS's do without SASL and wire encryption.

use std::fmt;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tonic::metadata::{AsciiMetadataValue, MetadataMap};
use tonic::service::{Interceptor, interceptor::InterceptedService};
use tonic::transport::Channel;
use tonic::{Request, Status};

use crate::BlockRef;
use crate::pb::datanode::BlockToken;

/// The metadata carrying the member credential.
pub const MEMBER_HEADER: &str = "x-hdfs-member";
/// How often the block key changes.
pub const KEY_INTERVAL: Duration = Duration::from_secs(600 * 60);
/// How long a block token is accepted after it is issued.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(600 * 60);
/// The file a namenode keeps the secret in, in its data directory.
pub const SECRET_FILE: &str = "cluster-secret";

type HmacSha256 = Hmac<Sha256>;

/// The cluster's shared secret. Its `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct ClusterSecret(Arc<[u8; 32]>);

impl fmt::Debug for ClusterSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClusterSecret(..)")
    }
}

impl ClusterSecret {
    /// A new random secret.
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the OS random source");
        Self(Arc::new(key))
    }

    /// A secret from its 64 hex digits (whitespace around them ignored).
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let bad = || {
            format!(
                "cluster secret: expected 64 hex digits (as a namenode's {SECRET_FILE} file holds), got {} characters",
                s.len()
            )
        };
        if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let mut key = [0u8; 32];
        for (i, b) in key.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(Self(Arc::new(key)))
    }

    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The secret in the file at `path`.
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cluster secret file {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The secret in the file at `path`, created (random, mode 0600, synced) if there is none.
    pub fn read_or_create(path: &Path) -> Result<Self, String> {
        if path.exists() {
            return Self::read(path);
        }
        let secret = Self::generate();
        let write = || -> std::io::Result<()> {
            use std::os::unix::fs::OpenOptionsExt;
            let tmp = path.with_extension("tmp");
            let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
            writeln!(f, "{}", secret.to_hex())?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)?;
            if let Some(dir) = path.parent() {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok(())
        };
        write().map_err(|e| format!("creating cluster secret file {}: {e}", path.display()))?;
        Ok(secret)
    }

    /// The secret given by value or by file, if either is.
    pub fn given(value: Option<&ClusterSecret>, file: Option<&Path>) -> Result<Option<Self>, String> {
        match (value, file) {
            (Some(v), _) => Ok(Some(v.clone())),
            (None, Some(f)) => Self::read(f).map(Some),
            (None, None) => Ok(None),
        }
    }

    fn mac(&self, parts: &[&[u8]]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0[..]).expect("HMAC takes any key length");
        for p in parts {
            mac.update(p);
        }
        mac
    }

    fn credential_mac(&self) -> HmacSha256 {
        self.mac(&[b"hdfs-member-v1"])
    }

    fn credential(&self) -> AsciiMetadataValue {
        let hex: String = self.credential_mac().finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        hex.parse().expect("hex is ASCII")
    }

    /// Adds the member credential to a request.
    pub fn sign<T>(&self, req: &mut Request<T>) {
        req.metadata_mut().insert(MEMBER_HEADER, self.credential());
    }

    /// `msg` as a request with the member credential.
    pub fn request<T>(&self, msg: T) -> Request<T> {
        let mut r = Request::new(msg);
        self.sign(&mut r);
        r
    }

    /// Wraps a channel so that every call on it carries the member credential.
    pub fn member_channel(&self, channel: Channel) -> MemberChannel {
        InterceptedService::new(channel, MemberCredential(self.credential()))
    }

    /// Refuses a `call` whose metadata lacks the member credential (PermissionDenied, nothing
    /// done).
    pub fn check(&self, md: &MetadataMap, call: &str) -> Result<(), Status> {
        let presented = md.get(MEMBER_HEADER).and_then(|v| v.to_str().ok()).and_then(unhex);
        match presented {
            Some(p) if self.credential_mac().verify_slice(&p).is_ok() => Ok(()),
            Some(_) => Err(Status::permission_denied(format!(
                "{call} refused: the caller's cluster credential does not match this cluster's secret"
            ))),
            None => Err(Status::permission_denied(format!(
                "{call} refused: only members of the cluster (holding its secret) may call it"
            ))),
        }
    }

    /// The block key of `epoch`.
    fn block_key(&self, epoch: u64) -> [u8; 32] {
        self.mac(&[b"hdfs-block-key-v1", &epoch.to_le_bytes()]).finalize().into_bytes().into()
    }
}

/// Adds the member credential to every call ([`ClusterSecret::member_channel`]).
#[derive(Clone)]
pub struct MemberCredential(AsciiMetadataValue);

impl Interceptor for MemberCredential {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        req.metadata_mut().insert(MEMBER_HEADER, self.0.clone());
        Ok(req)
    }
}

/// A channel whose calls carry the member credential.
pub type MemberChannel = InterceptedService<Channel, MemberCredential>;

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

/// What a block token allows, as HDFS's `AccessMode`s (bits, combinable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockAccess(pub u32);

impl BlockAccess {
    pub const READ: BlockAccess = BlockAccess(1);
    pub const WRITE: BlockAccess = BlockAccess(2);
    /// Writing a copy of a finalized replica to another node (re-replication).
    pub const COPY: BlockAccess = BlockAccess(4);
    pub const REPLACE: BlockAccess = BlockAccess(8);

    fn names(self) -> String {
        let names = [(Self::READ, "read"), (Self::WRITE, "write"), (Self::COPY, "copy"), (Self::REPLACE, "replace")];
        let v: Vec<_> = names.iter().filter(|(a, _)| self.0 & a.0 != 0).map(|(_, n)| *n).collect();
        if v.is_empty() { "nothing".into() } else { v.join("+") }
    }
}

impl std::ops::BitOr for BlockAccess {
    type Output = BlockAccess;
    fn bitor(self, o: BlockAccess) -> BlockAccess {
        BlockAccess(self.0 | o.0)
    }
}

/// Issues and checks block access tokens with the keys derived from the cluster secret.
#[derive(Debug, Clone)]
pub struct BlockTokens {
    secret: ClusterSecret,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

fn epoch_of(ms: u64) -> u64 {
    ms / KEY_INTERVAL.as_millis() as u64
}

impl BlockTokens {
    pub fn new(secret: ClusterSecret) -> Self {
        Self { secret }
    }

    /// A token allowing `access` to `block` for `user`, valid from now for [`TOKEN_LIFETIME`].
    pub fn issue(&self, block: BlockRef, access: BlockAccess, user: &str) -> BlockToken {
        self.issue_at(now_ms(), block, access, user)
    }

    /// As [`issue`](Self::issue), as if issued at `now_ms` (Unix milliseconds).
    pub fn issue_at(&self, now_ms: u64, block: BlockRef, access: BlockAccess, user: &str) -> BlockToken {
        let mut t = BlockToken {
            key_id: epoch_of(now_ms),
            expiry_ms: now_ms.saturating_add(TOKEN_LIFETIME.as_millis() as u64),
            user: user.to_string(),
            block_id: block.id.0,
            generation_stamp: block.gen_stamp.0,
            access: access.0,
            mac: Default::default(),
        };
        t.mac = self.mac(&t).finalize().into_bytes().to_vec().into();
        t
    }

    fn mac(&self, t: &BlockToken) -> HmacSha256 {
        let key = self.secret.block_key(t.key_id);
        let mut mac = HmacSha256::new_from_slice(&key).expect("HMAC takes any key length");
        mac.update(b"hdfs-block-token-v1");
        for n in [t.key_id, t.expiry_ms, t.block_id, t.generation_stamp, t.access as u64, t.user.len() as u64] {
            mac.update(&n.to_le_bytes());
        }
        mac.update(t.user.as_bytes());
        mac
    }

    /// Checks that `token` grants one of `allowed` on `block`; returns what it grants. Refused
    /// (PermissionDenied): no token, one not signed with this cluster's keys, one expired or
    /// from a key not yet in use, or one for another block or generation.
    pub fn check(
        &self,
        token: Option<&BlockToken>,
        block: BlockRef,
        allowed: BlockAccess,
    ) -> Result<BlockAccess, Status> {
        let deny = |why: String| Err(Status::permission_denied(format!("block {}: {why}", block.id)));
        let Some(t) = token else {
            return deny(
                "no block access token (a client gets one with the block's locations from the namenode)".into(),
            );
        };
        if self.mac(t).verify_slice(&t.mac).is_err() {
            return deny("block access token refused: not signed by this cluster's namenode".into());
        }
        let now = now_ms();
        if t.expiry_ms <= now {
            return deny(format!("block access token expired {} s ago", (now - t.expiry_ms) / 1000));
        }
        if t.key_id > epoch_of(now) + 1 {
            return deny("block access token signed with a key not yet in use (is this node's clock behind?)".into());
        }
        if (t.block_id, t.generation_stamp) != (block.id.0, block.gen_stamp.0) {
            return deny(format!(
                "block access token is for block {} generation {}, not generation {} of this one",
                t.block_id, t.generation_stamp, block.gen_stamp
            ));
        }
        if t.access & allowed.0 == 0 {
            return deny(format!(
                "block access token allows {}, this call needs {}",
                BlockAccess(t.access).names(),
                allowed.names()
            ));
        }
        Ok(BlockAccess(t.access))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(id: u64, gs: u64) -> BlockRef {
        BlockRef::new(id, gs)
    }

    #[test]
    fn a_token_grants_what_it_says_on_its_block_only() {
        let tokens = BlockTokens::new(ClusterSecret::generate());
        let t = tokens.issue(block(7, 2), BlockAccess::READ, "alice");
        assert_eq!(tokens.check(Some(&t), block(7, 2), BlockAccess::READ).unwrap(), BlockAccess::READ);
        let denied = |r: Result<BlockAccess, Status>| r.unwrap_err().code() == tonic::Code::PermissionDenied;
        assert!(denied(tokens.check(Some(&t), block(7, 2), BlockAccess::WRITE)), "read does not allow write");
        assert!(denied(tokens.check(Some(&t), block(8, 2), BlockAccess::READ)), "another block");
        assert!(denied(tokens.check(Some(&t), block(7, 3), BlockAccess::READ)), "another generation");
        assert!(denied(tokens.check(None, block(7, 2), BlockAccess::READ)), "no token");
        let mut forged = t.clone();
        forged.access = (BlockAccess::READ | BlockAccess::WRITE).0;
        assert!(denied(tokens.check(Some(&forged), block(7, 2), BlockAccess::WRITE)), "fields changed after signing");
        let other = BlockTokens::new(ClusterSecret::generate());
        assert!(denied(other.check(Some(&t), block(7, 2), BlockAccess::READ)), "another cluster's keys");
    }

    #[test]
    fn expired_tokens_and_future_keys_are_refused() {
        let tokens = BlockTokens::new(ClusterSecret::generate());
        let lifetime = TOKEN_LIFETIME.as_millis() as u64;
        let old = tokens.issue_at(now_ms() - lifetime - 1000, block(1, 1), BlockAccess::READ, "u");
        let e = tokens.check(Some(&old), block(1, 1), BlockAccess::READ).unwrap_err();
        assert!(e.message().contains("expired"), "{e}");
        let future =
            tokens.issue_at(now_ms() + 3 * KEY_INTERVAL.as_millis() as u64, block(1, 1), BlockAccess::READ, "u");
        let e = tokens.check(Some(&future), block(1, 1), BlockAccess::READ).unwrap_err();
        assert!(e.message().contains("not yet in use"), "{e}");
        // Issued a minute short of its lifetime ago: by the previous key (or this one, in the
        // last minute of an epoch), still accepted.
        let recent = tokens.issue_at(now_ms() - lifetime + 60_000, block(1, 1), BlockAccess::READ, "u");
        assert!(tokens.check(Some(&recent), block(1, 1), BlockAccess::READ).is_ok(), "an older key still verifies");
    }

    #[test]
    fn the_member_credential_is_checked() {
        let secret = ClusterSecret::generate();
        let signed = secret.request(());
        assert!(secret.check(signed.metadata(), "Register").is_ok());
        let e = secret.check(Request::new(()).metadata(), "Register").unwrap_err();
        assert_eq!(e.code(), tonic::Code::PermissionDenied);
        assert!(e.message().contains("Register refused"), "{e}");
        let e = ClusterSecret::generate().check(signed.metadata(), "Register").unwrap_err();
        assert!(e.message().contains("does not match"), "{e}");
    }

    #[test]
    fn secrets_parse_from_hex_and_files() {
        let s = ClusterSecret::generate();
        assert_eq!(ClusterSecret::parse(&format!(" {}\n", s.to_hex())).unwrap(), s);
        assert!(ClusterSecret::parse("abc").unwrap_err().contains("64 hex digits"));
        assert!(ClusterSecret::parse(&"zz".repeat(32)).is_err());
        assert!(ClusterSecret::parse(&format!("+a{}", "0".repeat(62))).is_err(), "a sign is not a digit");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SECRET_FILE);
        let made = ClusterSecret::read_or_create(&path).unwrap();
        assert_eq!(ClusterSecret::read_or_create(&path).unwrap(), made, "created once, then read");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(format!("{made:?}"), "ClusterSecret(..)");
    }
}
