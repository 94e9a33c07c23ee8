//! The recent output of a terminal, bounded: replayed to a browser that (re)attaches so the
//! learner sees where they were.

use std::collections::VecDeque;

pub struct Scrollback {
    chunks: VecDeque<Vec<u8>>,
    len: usize,
    limit: usize,
}

impl Scrollback {
    pub fn new(limit: usize) -> Self {
        Self { chunks: VecDeque::new(), len: 0, limit }
    }

    pub fn push(&mut self, chunk: &[u8]) {
        self.chunks.push_back(chunk.to_vec());
        self.len += chunk.len();
        while self.len > self.limit {
            let Some(front) = self.chunks.front_mut() else { break };
            let excess = self.len - self.limit;
            if front.len() <= excess {
                self.len -= front.len();
                self.chunks.pop_front();
            } else {
                front.drain(..excess);
                self.len -= excess;
            }
        }
    }

    pub fn contents(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len);
        for chunk in &self.chunks {
            out.extend_from_slice(chunk);
        }
        out
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
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
}
