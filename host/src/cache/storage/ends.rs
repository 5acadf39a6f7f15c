//! An object of which only its two ends were fetched, read as if it were whole: what a
//! footer read needs of object storage (the format's magic at the start, the footer at the
//! end) without downloading the rows between. A read anywhere else fails; the callers of
//! footer reads then read the object whole.

use std::io::{self, Read, Seek, SeekFrom};

/// Bytes `0..head.len()` and `tail_start..len` of an object of `len` bytes.
pub(crate) struct Ends {
    len: u64,
    head: Vec<u8>,
    tail_start: u64,
    tail: Vec<u8>,
    pos: u64,
}

impl Ends {
    /// `tail` must run to the end: `tail_start + tail.len() == len`.
    pub(crate) fn new(len: u64, head: Vec<u8>, tail_start: u64, tail: Vec<u8>) -> Ends {
        debug_assert_eq!(tail_start + tail.len() as u64, len);
        Ends {
            len,
            head,
            tail_start,
            tail,
            pos: 0,
        }
    }

    /// What is held from the position on, if it is held.
    fn held(&self) -> Option<&[u8]> {
        if self.pos >= self.tail_start {
            return self.tail.get((self.pos - self.tail_start) as usize..);
        }
        let at = usize::try_from(self.pos).ok()?;
        self.head.get(at..).filter(|rest| !rest.is_empty())
    }
}

impl Read for Ends {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.len || buf.is_empty() {
            return Ok(0);
        }
        let held = self.held().ok_or_else(|| {
            io::Error::other(format!(
                "byte {} of the object was not fetched (only its first {} and last {} bytes)",
                self.pos,
                self.head.len(),
                self.tail.len()
            ))
        })?;
        let n = held.len().min(buf.len());
        buf[..n].copy_from_slice(&held[..n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Ends {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let pos = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = pos.ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "a seek before the start")
        })?;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An object of 100 bytes (byte i = i) with its first 8 and last 20 held.
    fn ends() -> Ends {
        let all: Vec<u8> = (0..100).collect();
        Ends::new(100, all[..8].to_vec(), 80, all[80..].to_vec())
    }

    #[test]
    fn the_ends_read_as_the_object_and_the_middle_fails() {
        let mut e = ends();
        let mut head = [0u8; 6];
        e.read_exact(&mut head).unwrap();
        assert_eq!(head, [0, 1, 2, 3, 4, 5]);
        assert_eq!(e.seek(SeekFrom::End(-10)).unwrap(), 90);
        let mut tail = Vec::new();
        e.read_to_end(&mut tail).unwrap();
        assert_eq!(tail, (90..100).collect::<Vec<u8>>());
        // A read running from the head into the middle stops where the head ends, then fails.
        e.seek(SeekFrom::Start(4)).unwrap();
        let mut over = [0u8; 10];
        let err = e.read_exact(&mut over).unwrap_err();
        assert!(
            err.to_string()
                .contains("byte 8 of the object was not fetched"),
            "{err}"
        );
        e.seek(SeekFrom::Start(50)).unwrap();
        assert!(e.read(&mut over).is_err());
        assert!(e.seek(SeekFrom::Current(-51)).is_err());
        assert_eq!(e.seek(SeekFrom::Start(100)).unwrap(), 100);
        assert_eq!(e.read(&mut over).unwrap(), 0);
    }

    #[test]
    fn a_small_object_is_held_whole_in_its_tail() {
        let all: Vec<u8> = (0..10).collect();
        let mut e = Ends::new(10, Vec::new(), 0, all.clone());
        let mut back = Vec::new();
        e.read_to_end(&mut back).unwrap();
        assert_eq!(back, all);
    }
}
