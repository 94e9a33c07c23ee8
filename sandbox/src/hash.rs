//! FNV-1a, 64 bits: short, stable names and cache keys derived from text. Not a security
//! boundary (anyone can make two inputs collide); used where a name must be the same in every
//! process and release.

#[derive(Clone, Copy, Debug)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf29ce484222325)
    }
}

impl Fnv {
    pub fn eat(&mut self, bytes: &[u8]) -> &mut Self {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x100000001b3);
        }
        self
    }

    pub fn finish(&self) -> u64 {
        self.0
    }
}

/// The hash of `text`.
pub fn fnv(text: &str) -> u64 {
    Fnv::default().eat(text.as_bytes()).finish()
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_values() {
        // The FNV-1a reference values.
        assert_eq!(super::fnv(""), 0xcbf29ce484222325);
        assert_eq!(super::fnv("a"), 0xaf63dc4c8601ec8c);
    }
}
