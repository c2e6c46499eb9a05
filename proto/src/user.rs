//! Who is calling, as Hadoop's "simple" authentication names it: `HADOOP_USER_NAME`, else the
//! operating system's user (the login name, else the password database's name for this
//! process's uid, as Hadoop's `UnixLoginModule` asks the OS). Clients send it with every call;
//! a namenode's own is its superuser.

/// The metadata every `ClientProtocol` call carries the caller's user name in.
pub const USER_HEADER: &str = "x-hdfs-user";

/// The user a call without [`USER_HEADER`] is taken to be (Hadoop's anonymous web user).
pub const ANONYMOUS: &str = "dr.who";

/// Adds [`USER_HEADER`] to every call of a generated client (`ClientProtocolClient::
/// with_interceptor`), for programs that speak the protocol without the client library.
#[derive(Clone)]
pub struct AsUser(tonic::metadata::MetadataValue<tonic::metadata::Ascii>);

impl AsUser {
    /// Calls as `user`; a name that cannot be metadata (not visible ASCII) is anonymous.
    pub fn new(user: &str) -> AsUser {
        AsUser(user.parse().unwrap_or_else(|_| tonic::metadata::MetadataValue::from_static(ANONYMOUS)))
    }
}

impl tonic::service::Interceptor for AsUser {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        req.metadata_mut().insert(USER_HEADER, self.0.clone());
        Ok(req)
    }
}

/// A raw `ClientProtocol` client calling as one user.
pub type NamenodeClient = crate::pb::namenode::client_protocol_client::ClientProtocolClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, AsUser>,
>;

/// A raw client on `channel` calling as `user`, with the protocol's message size limit.
pub fn namenode_client(channel: tonic::transport::Channel, user: &str) -> NamenodeClient {
    crate::pb::namenode::client_protocol_client::ClientProtocolClient::with_interceptor(channel, AsUser::new(user))
        .max_decoding_message_size(crate::grpc::MAX_MESSAGE_SIZE)
        .max_encoding_message_size(crate::grpc::MAX_MESSAGE_SIZE)
}

/// The calling user's name.
pub fn current_user() -> String {
    ["HADOOP_USER_NAME", "USER", "LOGNAME"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|u| !u.is_empty())
        .or_else(os_user)
        .unwrap_or_else(|| ANONYMOUS.to_string())
}

/// The name of this process's real uid in `/etc/passwd`, or the uid itself if it has none.
fn os_user() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status.lines().find_map(|l| l.strip_prefix("Uid:"))?.split_whitespace().next()?.to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let name = passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        (f.nth(1)? == uid).then(|| name.to_string())
    });
    Some(name.unwrap_or(uid))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_os_user_is_found_without_the_environment() {
        let name = super::os_user().expect("a uid in /proc/self/status");
        assert!(!name.is_empty() && !name.contains(':'), "{name}");
    }
}
