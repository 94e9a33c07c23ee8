//! The recent output of a terminal, bounded: replayed to a browser that (re)attaches so the
//! learner sees where they were.

use std::collections::VecDeque;

/// One ring of bytes, not a queue of the chunks as they came: typing arrives a byte or two at a
/// time, and a chunk each would cost some fifty bytes of bookkeeping per byte kept (a class of 60
/// typing for ten minutes grew the server by 15 MiB that way). Memory is `limit`, whatever the
/// chunk sizes. The ring is allocated whole at the start: growing it by doubling left each smaller
/// copy behind as a hole in the allocator's heap (see `allocator::settle`), and a block of this
/// size is a mapping of its own whose pages become resident only as output fills them.
pub struct Scrollback {
    bytes: VecDeque<u8>,
    limit: usize,
}

impl Scrollback {
    pub fn new(limit: usize) -> Self {
        Self { bytes: VecDeque::with_capacity(limit), limit }
    }

    pub fn push(&mut self, chunk: &[u8]) {
        let chunk = &chunk[chunk.len().saturating_sub(self.limit)..];
        let excess = (self.bytes.len() + chunk.len()).saturating_sub(self.limit);
        self.bytes.drain(..excess);
        self.bytes.extend(chunk);
    }

    pub fn contents(&self) -> Vec<u8> {
        let (front, back) = self.bytes.as_slices();
        [front, back].concat()
    }

    /// Bytes kept: they grow with the output up to `limit`, and stay there.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_bytes_only() {
        let mut s = Scrollback::new(10);
        s.push(b"hello ");
        s.push(b"world, ");
        s.push(b"again");
        assert_eq!(s.len(), 10);
        assert_eq!(s.contents(), b"rld, again");
        s.push(&[b'x'; 25]);
        assert_eq!(s.contents(), vec![b'x'; 10]);
    }

    #[test]
    fn keystrokes_one_byte_at_a_time_cost_no_more_than_the_limit() {
        let mut s = Scrollback::new(1000);
        for i in 0..100_000u32 {
            s.push(&[b'a' + (i % 26) as u8]);
        }
        assert_eq!(s.len(), 1000);
        assert!(s.bytes.capacity() <= 2048, "capacity {}", s.bytes.capacity());
        let tail = s.contents();
        assert_eq!(tail[999], b'a' + (99_999 % 26) as u8);
    }
}
