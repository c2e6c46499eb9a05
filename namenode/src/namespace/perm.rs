//! Owners, groups and modes as the namespace keeps them: one `u64` an inode ([`Perm`]: user and
//! group as 24-bit ids into the namespace's [`Names`], and the 16 mode bits, HDFS's
//! `PermissionStatusFormat`), so a million files cost 8 MB for their permissions, not a string
//! pair each.
//!
//! Id 0 is neither a user nor a group of its own: as owner it is the superuser (whoever runs
//! the namenode) and as group the superuser group. The root, and everything created before
//! owners were kept, has it: every member of a group agrees on the state whatever user it runs
//! as.

use std::collections::HashMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Owner, group and mode of an inode, packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Perm(u64);

/// The id of the superuser as owner, and of the superuser group as group.
pub const SUPER: u32 = 0;
const ID_BITS: u32 = 24;
/// Ids above this are refused (16 million distinct names).
pub const MAX_ID: u32 = (1 << ID_BITS) - 1;

impl Perm {
    pub fn new(owner: u32, group: u32, mode: u16) -> Perm {
        debug_assert!(owner <= MAX_ID && group <= MAX_ID);
        Perm((u64::from(owner) << 40) | (u64::from(group) << 16) | u64::from(mode & hdfs_proto::perm::MODE_MASK))
    }

    /// What the root, and whatever was created before owners were kept, has.
    pub fn legacy(is_dir: bool) -> Perm {
        Perm::new(SUPER, SUPER, if is_dir { 0o755 } else { 0o644 })
    }

    pub fn owner(self) -> u32 {
        (self.0 >> 40) as u32
    }

    pub fn group(self) -> u32 {
        ((self.0 >> 16) as u32) & MAX_ID
    }

    pub fn mode(self) -> u16 {
        self.0 as u16
    }

    pub fn with_mode(self, mode: u16) -> Perm {
        Perm::new(self.owner(), self.group(), mode)
    }

    pub fn with_owner(self, owner: u32) -> Perm {
        Perm::new(owner, self.group(), self.mode())
    }

    pub fn with_group(self, group: u32) -> Perm {
        Perm::new(self.owner(), group, self.mode())
    }
}

/// The user and group names inodes refer to by id (HDFS's `SerialNumberManager`): interned in
/// the order ops first name them, so every member gives a name the same id.
#[derive(Debug, Clone)]
pub struct Names {
    names: Vec<Box<str>>,
    ids: HashMap<Box<str>, u32>,
}

impl Default for Names {
    fn default() -> Self {
        // Id 0: the superuser / superuser group, named by each namenode's own settings.
        Names { names: vec!["".into()], ids: HashMap::new() }
    }
}

impl Names {
    /// The id of `name`, if some inode was ever given it.
    pub fn id(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    /// The id of `name`, giving it the next one if it has none. `None` once [`MAX_ID`] names
    /// exist (the op that would add one more is refused).
    pub fn intern(&mut self, name: &str) -> Option<u32> {
        if let Some(id) = self.id(name) {
            return Some(id);
        }
        let id = u32::try_from(self.names.len()).ok().filter(|&id| id <= MAX_ID)?;
        self.names.push(name.into());
        self.ids.insert(name.into(), id);
        Some(id)
    }

    /// The name of `id` ("" for [`SUPER`], which its reader names).
    pub fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", |n| n)
    }

    /// Whether one more name can be interned.
    pub fn has_room(&self) -> bool {
        self.names.len() <= MAX_ID as usize
    }
}

/// Kept as the list of names; the index is rebuilt on load.
impl Serialize for Names {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.names[1..].serialize(s)
    }
}

impl<'de> Deserialize<'de> for Names {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let list = Vec::<Box<str>>::deserialize(d)?;
        let mut names = Names::default();
        for n in list {
            if names.id(&n).is_some() || n.is_empty() {
                return Err(serde::de::Error::custom(format!("user or group name {n:?} listed twice or empty")));
            }
            names.intern(&n);
        }
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perm_packs_owner_group_and_mode() {
        let p = Perm::new(MAX_ID, 7, 0o1755);
        assert_eq!((p.owner(), p.group(), p.mode()), (MAX_ID, 7, 0o1755));
        assert_eq!(p.with_mode(0o700).mode(), 0o700);
        assert_eq!(p.with_owner(3).owner(), 3);
        assert_eq!(p.with_group(MAX_ID).group(), MAX_ID);
        assert_eq!(p.with_group(MAX_ID).owner(), MAX_ID);
    }

    #[test]
    fn names_keep_their_ids_through_an_image() {
        let mut n = Names::default();
        assert_eq!(n.intern("alice"), Some(1));
        assert_eq!(n.intern("staff"), Some(2));
        assert_eq!(n.intern("alice"), Some(1));
        let back: Names = bincode::deserialize(&bincode::serialize(&n).unwrap()).unwrap();
        assert_eq!(
            (back.id("alice"), back.id("staff"), back.name(2), back.name(SUPER)),
            (Some(1), Some(2), "staff", "")
        );
    }
}
