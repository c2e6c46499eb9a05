//! [`IdMap`]: a map from sequential ids to values, stored in pages indexed by the id itself.
//!
//! Inode and block ids are handed out in increasing order, so most of a range of ids is live at
//! once. A hash map pays for that with a key per entry and, after each doubling, up to half its
//! buckets empty (at one million entries a `HashMap<u64, T>` of 48-byte values had 2^21 buckets,
//! about 100 bytes an entry). Here an entry costs its value's size and nothing more, lookups are
//! an index and a shift, and a page whose every id is gone is freed. What it gives up: a page
//! with a single survivor stays whole, so a namespace where a few old files outlive millions of
//! deleted ones keeps their pages (at most `PAGE` slots per survivor).

use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeSeq, Serializer};

const PAGE_BITS: u32 = 10;
/// Slots per page.
pub const PAGE: usize = 1 << PAGE_BITS;

struct Page<T> {
    live: u32,
    slots: Box<[Option<T>]>,
}

pub struct IdMap<T> {
    pages: Vec<Option<Page<T>>>,
    len: usize,
}

impl<T> Default for IdMap<T> {
    fn default() -> Self {
        Self { pages: Vec::new(), len: 0 }
    }
}

/// The largest id a decoded map may hold: 68 billion ids handed out, a page index of 1.6 GB. A
/// larger one is damage, whose page index could not be allocated.
const MAX_DECODED_ID: u64 = 1 << 36;

fn split(id: u64) -> (usize, usize) {
    ((id >> PAGE_BITS) as usize, (id as usize) & (PAGE - 1))
}

impl<T> IdMap<T> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn get(&self, id: u64) -> Option<&T> {
        let (p, s) = split(id);
        self.pages.get(p)?.as_ref()?.slots[s].as_ref()
    }

    pub fn get_mut(&mut self, id: u64) -> Option<&mut T> {
        let (p, s) = split(id);
        self.pages.get_mut(p)?.as_mut()?.slots[s].as_mut()
    }

    pub fn contains(&self, id: u64) -> bool {
        self.get(id).is_some()
    }

    /// Inserts `value` at `id`, returning what was there.
    pub fn insert(&mut self, id: u64, value: T) -> Option<T> {
        let (p, s) = split(id);
        if self.pages.len() <= p {
            self.pages.resize_with(p + 1, || None);
        }
        let page = self.pages[p].get_or_insert_with(|| Page { live: 0, slots: (0..PAGE).map(|_| None).collect() });
        let old = page.slots[s].replace(value);
        if old.is_none() {
            page.live += 1;
            self.len += 1;
        }
        old
    }

    pub fn remove(&mut self, id: u64) -> Option<T> {
        let (p, s) = split(id);
        let page = self.pages.get_mut(p)?.as_mut()?;
        let old = page.slots[s].take()?;
        page.live -= 1;
        self.len -= 1;
        if page.live == 0 {
            self.pages[p] = None;
        }
        Some(old)
    }

    /// Inserts a value read from an image at `id`, which may be damaged: refused past
    /// [`MAX_DECODED_ID`], or when its page index cannot be allocated.
    pub fn insert_decoded(&mut self, id: u64, value: T) -> Result<(), String> {
        let more = (split(id).0 + 1).saturating_sub(self.pages.len());
        if id > MAX_DECODED_ID || self.pages.try_reserve(more).is_err() {
            return Err(format!("id {id} out of range"));
        }
        self.insert(id, value);
        Ok(())
    }

    /// Entries in id order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &T)> {
        self.pages.iter().enumerate().filter_map(|(p, page)| page.as_ref().map(|page| (p, page))).flat_map(
            |(p, page)| {
                page.slots
                    .iter()
                    .enumerate()
                    .filter_map(move |(s, v)| v.as_ref().map(|v| (((p as u64) << PAGE_BITS) | s as u64, v)))
            },
        )
    }

    pub fn ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.iter().map(|(id, _)| id)
    }
}

impl<T> std::ops::Index<u64> for IdMap<T> {
    type Output = T;

    /// Panics if `id` is absent: for ids the caller has just resolved.
    fn index(&self, id: u64) -> &T {
        self.get(id).unwrap_or_else(|| panic!("id {id} not in the map"))
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for IdMap<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<T: Clone> Clone for IdMap<T> {
    fn clone(&self) -> Self {
        let pages =
            self.pages.iter().map(|p| p.as_ref().map(|p| Page { live: p.live, slots: p.slots.clone() })).collect();
        Self { pages, len: self.len }
    }
}

/// As a sequence of `(id, value)` in id order.
impl<T: Serialize> Serialize for IdMap<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len))?;
        for entry in self.iter() {
            seq.serialize_element(&entry)?;
        }
        seq.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for IdMap<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Entries<T> {
            type Value = IdMap<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sequence of (id, value)")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<IdMap<T>, A::Error> {
                let mut map = IdMap::default();
                let mut last = None;
                while let Some((id, value)) = seq.next_element::<(u64, T)>()? {
                    // Written in id order: an id out of order is damage.
                    if last.is_some_and(|last| id <= last) {
                        return Err(serde::de::Error::custom(format!("id {id} out of order")));
                    }
                    map.insert_decoded(id, value).map_err(serde::de::Error::custom)?;
                    last = Some(id);
                }
                Ok(map)
            }
        }
        deserializer.deserialize_seq(Entries(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_gets_removes_and_frees_empty_pages() {
        let mut m = IdMap::default();
        for id in 1..3000u64 {
            assert!(m.insert(id, id * 2).is_none());
        }
        assert_eq!(m.len(), 2999);
        assert_eq!(m.get(1500), Some(&3000));
        assert_eq!(m.insert(1500, 7), Some(3000));
        assert_eq!(m.get(5000), None);
        for id in 1..PAGE as u64 {
            m.remove(id);
        }
        assert!(m.pages[0].is_none(), "a page with no live id is freed");
        assert_eq!(m.iter().next(), Some((PAGE as u64, &(PAGE as u64 * 2))));
        assert_eq!(m.remove(1), None);
    }

    /// Found by the damaged-image property: one flipped bit in an id made decoding allocate its
    /// page index (hundreds of petabytes: the process aborted).
    #[test]
    fn a_decoded_id_out_of_range_or_order_is_refused() {
        let decode = |entries: &[(u64, u8)]| bincode::deserialize::<IdMap<u8>>(&bincode::serialize(entries).unwrap());
        assert!(decode(&[(1, 1), (1 << 56, 2)]).unwrap_err().to_string().contains("out of range"));
        assert!(decode(&[(5, 1), (3, 2)]).is_err());
        assert!(decode(&[(5, 1), (5, 2)]).is_err());
        assert_eq!(decode(&[(1, 1), (1 << 20, 2)]).unwrap().ids().collect::<Vec<_>>(), [1, 1 << 20]);
    }

    #[test]
    fn round_trips_through_bincode_in_id_order() {
        let mut m = IdMap::default();
        for id in [9u64, 1, 70_000, 3] {
            m.insert(id, format!("v{id}"));
        }
        let bytes = bincode::serialize(&m).unwrap();
        let back: IdMap<String> = bincode::deserialize(&bytes).unwrap();
        let ids: Vec<u64> = back.ids().collect();
        assert_eq!(ids, [1, 3, 9, 70_000]);
        assert_eq!(back.get(70_000).map(String::as_str), Some("v70000"));
    }
}
