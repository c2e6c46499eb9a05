//! A mode as `-chmod` takes it (Hadoop's `ChmodParser`): octal, `755` or `1777` (3 digits, or 4
//! whose first, 0 or 1, is the sticky bit; a leading `+` is allowed), or symbolic,
//! `[ugoa]*[+-=]+[rwxXt]*` clauses separated by commas (`u+x,go-w`, `a=rx`, `+t`).
//!
//! As in Hadoop: no `ugoa` means `a`, with no umask applied; `X` is execute only for a
//! directory or a file someone may already execute; `t`, the sticky bit, goes with the others'
//! class, so a clause for `o` with `=` also clears it (`a=rx` leaves no sticky bit). Where
//! Hadoop's parser departs from the shell's `chmod`, the shell is followed: clauses apply in
//! order (Hadoop keeps only the last clause naming each class, so `a+r,u+w` would not give the
//! owner `r`), and a clause may set nothing (`u=` clears the owner's bits; Hadoop refuses it).

use hdfs_proto::perm::{MODE_MASK, STICKY};

/// Who a clause is for: bits of [`OWNER`], [`GROUP`], [`OTHERS`].
const OWNER: u8 = 4;
const GROUP: u8 = 2;
const OTHERS: u8 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Remove,
    Set,
}

/// One `[ugoa]*[+-=][rwxXt]*` clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clause {
    who: u8,
    op: Op,
    /// `rwx` as 4, 2, 1.
    perms: u16,
    /// `X`: execute where it makes sense.
    exec_if_ok: bool,
    sticky: bool,
}

/// A parsed mode: what `-chmod MODE` does to each path's mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModeChange {
    /// The mode itself (3 digits clear the sticky bit).
    Octal(u16),
    /// Clauses applied in order to each path's current mode.
    Symbolic(Vec<Clause>),
}

impl ModeChange {
    /// Parses `-chmod`'s MODE; the error is Hadoop's words.
    pub fn parse(text: &str) -> Result<ModeChange, String> {
        octal(text)
            .map(ModeChange::Octal)
            .or_else(|| symbolic(text).map(ModeChange::Symbolic))
            .ok_or_else(|| format!("chmod : mode '{text}' does not match the expected pattern."))
    }

    /// The new mode of a path whose mode is `mode`.
    pub fn apply(&self, mode: u16, is_dir: bool) -> u16 {
        let clauses = match self {
            ModeChange::Octal(m) => return *m,
            ModeChange::Symbolic(c) => c,
        };
        // As Hadoop: `X` looks at the mode before the change.
        let exec_ok = is_dir || mode & 0o111 != 0;
        let mut mode = mode & MODE_MASK;
        for c in clauses {
            let perms = c.perms | u16::from(c.exec_if_ok && (exec_ok || c.op == Op::Remove));
            for (class, shift) in [(OWNER, 6), (GROUP, 3), (OTHERS, 0)] {
                if c.who & class == 0 {
                    continue;
                }
                let bits = (mode >> shift) & 7;
                let bits = match c.op {
                    Op::Add => bits | perms,
                    Op::Remove => bits & !perms,
                    Op::Set => perms,
                };
                mode = (mode & !(7 << shift)) | (bits << shift);
            }
            if c.who & OTHERS != 0 {
                mode = match (c.op, c.sticky) {
                    (Op::Add | Op::Set, true) => mode | STICKY,
                    (Op::Remove, true) | (Op::Set, false) => mode & !STICKY,
                    (Op::Add | Op::Remove, false) => mode,
                };
            }
        }
        mode
    }
}

/// Java's `\s`.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// `^\s*[+]?([01]?)([0-7]{3})\s*$`.
fn octal(text: &str) -> Option<u16> {
    let t = text.trim_matches(|c: char| c.is_ascii() && is_space(c as u8));
    let t = t.strip_prefix('+').unwrap_or(t);
    let ok = match t.len() {
        3 => true,
        4 => t.starts_with(['0', '1']),
        _ => false,
    };
    if !ok || !t.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    u16::from_str_radix(t, 8).ok()
}

/// Clauses as Hadoop's `\G\s*([ugoa]*)([+=-]+)([rwxXt]*)([,\s]*)\s*` finds them one after the
/// other from the start: each followed by the end, or by a separator with a comma in it.
fn symbolic(text: &str) -> Option<Vec<Clause>> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut clauses = Vec::new();
    loop {
        while i < b.len() && is_space(b[i]) {
            i += 1;
        }
        let mut who = 0;
        while let Some(&c) = b.get(i) {
            who |= match c {
                b'u' => OWNER,
                b'g' => GROUP,
                b'o' => OTHERS,
                b'a' => OWNER | GROUP | OTHERS,
                _ => break,
            };
            i += 1;
        }
        let mut op = None;
        while let Some(&c) = b.get(i) {
            op = Some(match c {
                b'+' => Op::Add,
                b'-' => Op::Remove,
                b'=' => Op::Set,
                _ => break,
            });
            i += 1;
        }
        let mut clause =
            Clause { who: if who == 0 { 7 } else { who }, op: op?, perms: 0, exec_if_ok: false, sticky: false };
        while let Some(&c) = b.get(i) {
            match c {
                b'r' => clause.perms |= 4,
                b'w' => clause.perms |= 2,
                b'x' => clause.perms |= 1,
                b'X' => clause.exec_if_ok = true,
                b't' => clause.sticky = true,
                _ => break,
            }
            i += 1;
        }
        clauses.push(clause);
        let mut comma = false;
        while let Some(&c) = b.get(i).filter(|&&c| c == b',' || is_space(c)) {
            comma |= c == b',';
            i += 1;
        }
        if i == b.len() {
            return Some(clauses);
        }
        if !comma {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chmod(mode: &str, from: u16, is_dir: bool) -> u16 {
        ModeChange::parse(mode).unwrap_or_else(|e| panic!("{e}")).apply(from, is_dir)
    }

    #[test]
    fn octal_modes_are_the_mode_itself() {
        assert_eq!(chmod("755", 0o1600, false), 0o755, "3 digits clear the sticky bit");
        assert_eq!(chmod("1777", 0, true), 0o1777);
        assert_eq!(chmod("0644", 0o777, false), 0o644);
        assert_eq!(chmod(" +640 ", 0o777, false), 0o640);
        assert_eq!(chmod("000", 0o777, false), 0);
    }

    #[test]
    fn symbolic_modes_change_what_they_name() {
        assert_eq!(chmod("u+x,go-w", 0o666, false), 0o744);
        assert_eq!(chmod("a=rx", 0o1777, true), 0o555, "= for others clears the sticky bit");
        assert_eq!(chmod("+t", 0o755, true), 0o1755);
        assert_eq!(chmod("-t", 0o1755, true), 0o755);
        assert_eq!(chmod("u+t", 0o755, true), 0o755, "the sticky bit goes with the others' class");
        assert_eq!(chmod("o-rwx", 0o1777, true), 0o1770);
        assert_eq!(chmod("ug=rw", 0o751, false), 0o661);
        assert_eq!(chmod("u=", 0o750, false), 0o050);
        assert_eq!(chmod("+r", 0o000, false), 0o444, "no who is a, with no umask");
        assert_eq!(chmod("go+rwx", 0o700, false), 0o777);
        assert_eq!(chmod("a+r,u+w", 0o000, false), 0o644, "clauses apply in order");
        assert_eq!(chmod("u+x, g+x ,", 0o600, false), 0o710, "spaces and a trailing comma, as Hadoop");
        assert_eq!(chmod("u=rwx,g=rx,o=r", 0, false), 0o754);
        assert_eq!(chmod("u+-x", 0o700, false), 0o600, "the last operator counts");
    }

    #[test]
    fn big_x_is_execute_for_directories_and_executables_only() {
        assert_eq!(chmod("+X", 0o644, false), 0o644);
        assert_eq!(chmod("+X", 0o644, true), 0o755);
        assert_eq!(chmod("+X", 0o744, false), 0o755, "someone may already execute it");
        assert_eq!(chmod("a=rX", 0o600, false), 0o444);
        assert_eq!(chmod("a=rX", 0o700, false), 0o555);
        assert_eq!(chmod("-X", 0o755, false), 0o644);
    }

    #[test]
    fn bad_modes_are_refused_in_hadoop_words() {
        for bad in ["799", "u+q", "88888", "", "  ", "7777", "2755", "75", "u+x g+w", "q+r", ",u+x", "rwx", "u"] {
            assert_eq!(
                ModeChange::parse(bad),
                Err(format!("chmod : mode '{bad}' does not match the expected pattern.")),
                "{bad:?}"
            );
        }
    }
}
