//! The namenode's validated configuration: its flags are its fields (clap derives them here),
//! so a default is written once.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use hdfs_proto::auth::{ClusterSecret, SECRET_FILE};
use hdfs_proto::units::{parse_duration, parse_size};
use hdfs_proto::{MAX_BLOCK_SIZE, MAX_REPLICATION, MIN_BLOCK_SIZE};

pub use crate::raft::Peers;

/// Every setting, with its flag, its environment variable and its default: the one place each
/// is defined. `main` parses them with the rest of the command line; [`Config::new`] gives the
/// defaults to embedders and tests without reading flags or the environment.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Directory of the edit log and the fsimage.
    #[arg(long, env = "NAMENODE_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Replication of files created without an explicit factor.
    #[arg(long = "replication", value_name = "REPLICATION", env = "NAMENODE_REPLICATION", default_value_t = 3)]
    pub default_replication: u32,
    /// Block size of files created without an explicit one (e.g. 128MiB).
    #[arg(long = "block-size", value_name = "BLOCK_SIZE", env = "NAMENODE_BLOCK_SIZE", default_value = "128MiB", value_parser = parse_size)]
    pub default_block_size: u64,
    /// Expected interval between datanode heartbeats.
    #[arg(long, env = "NAMENODE_HEARTBEAT_INTERVAL", default_value = "3s", value_parser = parse_duration)]
    pub heartbeat_interval: Duration,
    /// A datanode silent for this long is declared dead.
    #[arg(long, env = "NAMENODE_DEAD_AFTER", default_value = "30s", value_parser = parse_duration)]
    pub dead_after: Duration,
    /// A writer's lease is lost after this long without renewal.
    #[arg(long, env = "NAMENODE_LEASE_HARD_LIMIT", default_value = "60s", value_parser = parse_duration)]
    pub lease_hard_limit: Duration,
    /// Log records between two fsimage checkpoints (at least; more once the namespace has more
    /// inodes than this, see `EditLog::needs_checkpoint`). Not a flag.
    #[arg(skip = 100_000u64)]
    pub checkpoint_every: u64,
    /// How often the replication monitor looks for work.
    #[arg(long, env = "NAMENODE_REPLICATION_INTERVAL", default_value = "1s", value_parser = parse_duration)]
    pub replication_interval: Duration,
    /// Copies in flight per source datanode (2 more for blocks down to one replica).
    #[arg(long, env = "NAMENODE_MAX_REPLICATION_STREAMS", default_value_t = 2)]
    pub max_replication_streams: u32,
    /// A copy not confirmed within this is scheduled again, elsewhere if need be.
    #[arg(long, env = "NAMENODE_REPLICATION_TIMEOUT", default_value = "60s", value_parser = parse_duration)]
    pub replication_timeout: Duration,
    /// Fraction of blocks that must be reported before safe mode ends by itself.
    #[arg(long, env = "NAMENODE_SAFEMODE_THRESHOLD", default_value_t = 0.999)]
    pub safemode_threshold: f64,
    /// How long the threshold must hold before safe mode ends.
    #[arg(long, env = "NAMENODE_SAFEMODE_EXTENSION", default_value = "5s", value_parser = parse_duration)]
    pub safemode_extension: Duration,
    /// This member's id in the namenode group (a number named in --peers).
    #[arg(long, env = "NAMENODE_ID", default_value_t = 1)]
    pub id: u64,
    /// Every voting member of the namenode group, this one included: `1=HOST:PORT,2=HOST:PORT,...`
    /// (their gRPC addresses, as clients and members reach them). Without it the namenode is a
    /// group of one.
    #[arg(long, env = "NAMENODE_PEERS", value_parser = Peers::parse)]
    pub peers: Option<Peers>,
    /// The `host:port` clients, datanodes and other members reach this namenode at, when it is
    /// not named in --peers (a group of one, or a member started with --join). Default: the
    /// listen address, with this host's name in place of 0.0.0.0.
    #[arg(long, env = "NAMENODE_ADVERTISE_ADDR")]
    pub advertise_addr: Option<String>,
    /// Join a running group instead of forming one: start empty and wait to be added
    /// (`hdfs haadmin -addNameNode ID HOST:PORT` on the group).
    #[arg(long, env = "NAMENODE_JOIN")]
    pub join: bool,
    /// Interval of the leader's heartbeats to the other members.
    #[arg(long, env = "NAMENODE_RAFT_HEARTBEAT", default_value = "100ms", value_parser = parse_duration)]
    pub raft_heartbeat: Duration,
    /// A member that heard a leader calls an election after 2.5 to 3 times this long (at
    /// random) without a heartbeat; the leader serves reads without a round trip to the others
    /// for half of it after they last confirmed it leads.
    #[arg(long, env = "NAMENODE_ELECTION_TIMEOUT", default_value = "400ms", value_parser = parse_duration)]
    pub election_timeout: Duration,
    /// How long a call waits for a majority of the group before it fails with "no quorum".
    #[arg(long, env = "NAMENODE_QUORUM_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    pub quorum_timeout: Duration,
    /// Longest path a new name may have, in characters (HDFS's limit: 8000).
    #[arg(long, env = "NAMENODE_MAX_PATH_LENGTH", default_value_t = 8000)]
    pub max_path_length: usize,
    /// Most components in the path of a new name (HDFS's limit: 1000).
    #[arg(long, env = "NAMENODE_MAX_PATH_DEPTH", default_value_t = 1000)]
    pub max_path_depth: usize,
    /// Longest component of a new name, in bytes, at most 255 (HDFS's
    /// `dfs.namenode.fs-limits.max-component-length`).
    #[arg(long, env = "NAMENODE_MAX_COMPONENT_LENGTH", default_value_t = 255)]
    pub max_component_length: usize,
    /// Most entries one directory may hold (HDFS's `dfs.namenode.fs-limits.max-directory-items`).
    #[arg(long, env = "NAMENODE_MAX_DIRECTORY_ITEMS", default_value_t = 1024 * 1024)]
    pub max_directory_items: usize,
    /// Check permissions (HDFS's `dfs.permissions.enabled`): `--permissions false` lets every
    /// caller do everything, though owners and modes are still kept.
    #[arg(long, env = "NAMENODE_PERMISSIONS", default_value_t = true, action = clap::ArgAction::Set)]
    pub permissions: bool,
    /// Members of this group are superusers, as is whoever runs the namenode
    /// (`dfs.permissions.superusergroup`).
    #[arg(long, env = "NAMENODE_SUPERUSER_GROUP", default_value = "supergroup")]
    pub superuser_group: String,
    /// Taken from the mode of every new file (0666) and directory (0777), in octal
    /// (`fs.permissions.umask-mode`).
    #[arg(long, env = "NAMENODE_UMASK", default_value = "022", value_parser = parse_umask)]
    pub umask: u16,
    /// Groups of users, ahead of this host's user database: `alice=staff,admins;bob=` (Hadoop's
    /// `hadoop.user.group.static.mapping.overrides`; an empty list: no groups).
    #[arg(long, env = "NAMENODE_GROUP_MAPPING", default_value = "", value_parser = parse_group_mapping)]
    pub group_mapping: GroupMapping,
    /// Who a WebHDFS call without `user.name` acts as (Hadoop's `dfs.web.authentication.simple.anonymous`
    /// user, `dr.who`).
    #[arg(long, env = "NAMENODE_HTTP_DEFAULT_USER", default_value = "dr.who")]
    pub http_default_user: String,
    /// Bytes that must stay free on the data directory's volume: below that, writes are refused
    /// with a clear error (reads go on) until space is freed (HDFS's
    /// `dfs.namenode.resource.du.reserved`, whose resource checker does the same with safe mode).
    #[arg(long, env = "NAMENODE_RESERVED", default_value = "100MiB", value_parser = parse_size)]
    pub reserved: u64,
    /// The cluster's secret (64 hex digits), shared by every namenode member and datanode: the
    /// member credential and the block token keys derive from it. Default: the data
    /// directory's `cluster-secret` file, created by a namenode that forms a group of one on
    /// first start; the members of a larger group must all be given the same one.
    #[arg(long, env = "HDFS_CLUSTER_SECRET", hide_env_values = true, value_parser = ClusterSecret::parse)]
    pub cluster_secret: Option<ClusterSecret>,
    /// A file holding the cluster's secret.
    #[arg(long, env = "HDFS_CLUSTER_SECRET_FILE", conflicts_with = "cluster_secret")]
    pub cluster_secret_file: Option<PathBuf>,
    /// TLS on the RPC and HTTP ports: this server's certificate chain (PEM), with --tls-key.
    #[arg(long, env = "NAMENODE_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "NAMENODE_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The CA certificate (PEM) other members and datanodes are checked against; with it, this
    /// namenode reaches them over TLS.
    #[arg(long, env = "HDFS_TLS_CA")]
    pub tls_ca: Option<PathBuf>,
}

/// Users' groups given on the command line (`--group-mapping`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupMapping(pub std::collections::HashMap<String, Vec<String>>);

/// `alice=staff,admins;bob=`: each user's groups, `;`-separated.
pub fn parse_group_mapping(s: &str) -> Result<GroupMapping, String> {
    let mut map = std::collections::HashMap::new();
    for item in s.split(';').map(str::trim).filter(|i| !i.is_empty()) {
        let (user, groups) = item.split_once('=').ok_or_else(|| format!("{item:?} is not USER=GROUP,GROUP,..."))?;
        let user = user.trim();
        if user.is_empty() {
            return Err(format!("{item:?} names no user"));
        }
        let groups = groups.split(',').map(str::trim).filter(|g| !g.is_empty()).map(String::from).collect();
        if map.insert(user.to_string(), groups).is_some() {
            return Err(format!("user {user:?} is mapped twice"));
        }
    }
    Ok(GroupMapping(map))
}

/// An octal umask: `022`, `0077`.
pub fn parse_umask(s: &str) -> Result<u16, String> {
    u16::from_str_radix(s.trim(), 8)
        .ok()
        .filter(|&m| m <= 0o777)
        .ok_or_else(|| format!("umask {s:?} is not an octal mode of at most 777"))
}

impl Config {
    /// The defaults of every flag, with `data_dir`; the environment is not read.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        use clap::{Args, FromArgMatches};
        let command = Self::augment_args(clap::Command::new("namenode")).mut_args(|a| a.env(None::<&str>));
        let argv: [OsString; 3] = ["namenode".into(), "--data-dir".into(), data_dir.into().into_os_string()];
        let matches = command.try_get_matches_from(argv).expect("the flags' defaults parse");
        Self::from_arg_matches(&matches).expect("the flags' defaults parse")
    }

    /// The cluster secret: as given, else the data directory's, created there by a namenode on
    /// its own (a group's members must share one, so one of them cannot make it up).
    pub fn secret(&self) -> Result<ClusterSecret, String> {
        if let Some(s) = ClusterSecret::given(self.cluster_secret.as_ref(), self.cluster_secret_file.as_deref())? {
            return Ok(s);
        }
        let path = self.data_dir.join(SECRET_FILE);
        let alone = self.peers.as_ref().is_none_or(|p| p.0.len() <= 1) && !self.join;
        if alone || path.exists() {
            return ClusterSecret::read_or_create(&path);
        }
        Err(format!(
            "no cluster secret: the members of a namenode group must share one; give each \
             --cluster-secret-file (or HDFS_CLUSTER_SECRET), or put it in {}",
            path.display()
        ))
    }

    /// Checks that the settings make sense together.
    pub fn validate(&self) -> Result<(), String> {
        if self.default_replication == 0 || self.default_replication > MAX_REPLICATION {
            return Err(format!("--replication {} is out of range (1..={MAX_REPLICATION})", self.default_replication));
        }
        if !(MIN_BLOCK_SIZE..=MAX_BLOCK_SIZE).contains(&self.default_block_size) {
            return Err(format!(
                "--block-size {} is out of range ({MIN_BLOCK_SIZE}..={MAX_BLOCK_SIZE} bytes)",
                self.default_block_size
            ));
        }
        if self.heartbeat_interval.is_zero() {
            return Err("--heartbeat-interval must be positive".into());
        }
        if self.dead_after <= self.heartbeat_interval * 2 {
            return Err(format!(
                "--dead-after ({:?}) must be more than two heartbeat intervals ({:?})",
                self.dead_after, self.heartbeat_interval
            ));
        }
        if !(0.0..=1.0).contains(&self.safemode_threshold) {
            return Err(format!("--safemode-threshold {} must be between 0 and 1", self.safemode_threshold));
        }
        if self.max_replication_streams == 0 {
            return Err("--max-replication-streams must be at least 1".into());
        }
        if self.replication_interval.is_zero() || self.replication_timeout <= self.replication_interval {
            return Err("--replication-timeout must be longer than the (positive) replication interval".into());
        }
        if let Some(peers) = &self.peers
            && !peers.0.contains_key(&self.id)
        {
            return Err(format!("--id {} is not one of --peers ({peers})", self.id));
        }
        if self.id == 0 {
            return Err("--id must be at least 1".into());
        }
        if self.election_timeout < self.raft_heartbeat * 3 {
            return Err(format!(
                "--election-timeout ({:?}) must be at least three --raft-heartbeat intervals ({:?})",
                self.election_timeout, self.raft_heartbeat
            ));
        }
        if self.max_path_length == 0 || self.max_path_depth == 0 || self.max_directory_items == 0 {
            return Err("--max-path-length, --max-path-depth and --max-directory-items must be at least 1".into());
        }
        if !(1..=hdfs_proto::path::MAX_COMPONENT_LEN).contains(&self.max_component_length) {
            return Err(format!(
                "--max-component-length {} is out of range (1..={})",
                self.max_component_length,
                hdfs_proto::path::MAX_COMPONENT_LEN
            ));
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err("--tls-cert and --tls-key go together".into());
        }
        if self.checkpoint_every == 0 {
            return Err("checkpoint interval must be positive".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_flags_defaults_and_valid() {
        let c = Config::new("/data");
        assert_eq!(c.data_dir, PathBuf::from("/data"));
        assert_eq!((c.default_replication, c.default_block_size), (3, hdfs_proto::DEFAULT_BLOCK_SIZE));
        assert_eq!((c.heartbeat_interval, c.dead_after), (Duration::from_secs(3), Duration::from_secs(30)));
        assert_eq!(c.checkpoint_every, 100_000);
        c.validate().unwrap();
    }

    #[test]
    fn peers_are_checked_and_must_name_this_member() {
        let p = Peers::parse("1=a:8020, 2=http://b:8020,3=c:8020").unwrap();
        assert_eq!(p.to_string(), "1=a:8020,2=b:8020,3=c:8020");
        for (bad, why) in [
            ("1=a:8020,1=b:8020", "named twice"),
            ("x=a:8020", "not a member id"),
            ("0=a:8020", "start at 1"),
            ("1=a", "not HOST:PORT"),
            ("1:a:8020", "not ID=HOST:PORT"),
            ("", "no members"),
        ] {
            let e = Peers::parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
        let mut c = Config::new("/data");
        c.peers = Some(p);
        c.id = 4;
        assert!(c.validate().unwrap_err().contains("--id 4 is not one of --peers"));
        c.id = 2;
        c.validate().unwrap();
        c.election_timeout = c.raft_heartbeat;
        assert!(c.validate().unwrap_err().contains("--election-timeout"));
    }

    #[test]
    fn permission_flags_parse_as_hadoop_spells_them() {
        let c = Config::new("/data");
        assert!(c.permissions);
        assert_eq!((c.umask, c.superuser_group.as_str()), (0o022, "supergroup"));
        assert_eq!(parse_umask("077"), Ok(0o077));
        assert!(parse_umask("888").is_err() && parse_umask("1777").is_err());
        let m = parse_group_mapping("alice=staff, admins; bob=").unwrap();
        assert_eq!(m.0["alice"], ["staff", "admins"]);
        assert!(m.0["bob"].is_empty());
        assert!(parse_group_mapping("alice").unwrap_err().contains("USER=GROUP"));
        assert!(parse_group_mapping("a=x;a=y").unwrap_err().contains("twice"));
    }
}
