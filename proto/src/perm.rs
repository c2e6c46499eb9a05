//! Permission bits as HDFS keeps them (`FsPermission`): read, write and execute for the owner,
//! the group and others (`0o777`), and the sticky bit (`0o1000`), which on a directory lets only
//! an entry's owner, the directory's owner or a superuser delete or rename the entry. HDFS has no
//! setuid or setgid bits.

/// The bits a mode may have.
pub const MODE_MASK: u16 = 0o1777;
pub const STICKY: u16 = 0o1000;
/// A new directory's mode before the umask (HDFS's `FsPermission.getDirDefault`).
pub const DIR_DEFAULT: u16 = 0o777;
/// A new file's mode before the umask (`FsPermission.getFileDefault`).
pub const FILE_DEFAULT: u16 = 0o666;
/// The umask a namenode applies when none is given (`fs.permissions.umask-mode`).
pub const DEFAULT_UMASK: u16 = 0o022;

/// An access asked for: any of read (4), write (2), execute (1), as in `FsAction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access(pub u8);

impl Access {
    pub const READ: Access = Access(4);
    pub const WRITE: Access = Access(2);
    pub const EXECUTE: Access = Access(1);
    pub const READ_EXECUTE: Access = Access(5);
    pub const ALL: Access = Access(7);

    /// HDFS's name for it, as its permission errors print it (`WRITE`, `READ_EXECUTE`, ...).
    pub fn name(self) -> &'static str {
        ["NONE", "EXECUTE", "WRITE", "WRITE_EXECUTE", "READ", "READ_EXECUTE", "READ_WRITE", "ALL"][self.0 as usize & 7]
    }

    /// Whether `bits` (one class's rwx) allow all of this access.
    pub fn allowed_by(self, bits: u16) -> bool {
        u16::from(self.0) & !bits & 7 == 0
    }
}

/// `rwxr-x---` (9 characters; `t`/`T` in the last place for the sticky bit), as `ls -l` spells it.
pub fn symbolic(mode: u16) -> String {
    let mut s = String::with_capacity(9);
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    if mode & STICKY != 0 {
        let last = if mode & 1 != 0 { 't' } else { 'T' };
        s.replace_range(8..9, &last.to_string());
    }
    s
}

/// `drwxr-xr-x` or `-rw-r--r--`: the type, then [`symbolic`].
pub fn listing(mode: u16, is_dir: bool) -> String {
    format!("{}{}", if is_dir { 'd' } else { '-' }, symbolic(mode))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_spelled_as_ls_does() {
        assert_eq!(listing(0o755, true), "drwxr-xr-x");
        assert_eq!(listing(0o640, false), "-rw-r-----");
        assert_eq!(listing(0o1777, true), "drwxrwxrwt");
        assert_eq!(listing(0o1770, true), "drwxrwx--T");
        assert_eq!(symbolic(0), "---------");
    }

    #[test]
    fn access_is_checked_bit_by_bit() {
        assert!(Access::READ_EXECUTE.allowed_by(0o5));
        assert!(!Access::READ_EXECUTE.allowed_by(0o4));
        assert!(Access::WRITE.allowed_by(0o7));
        assert!(!Access::WRITE.allowed_by(0o5));
        assert_eq!(Access::WRITE.name(), "WRITE");
        assert_eq!(Access::READ_EXECUTE.name(), "READ_EXECUTE");
    }
}
