//! Locks by name: one sandbox's start and stop, one owner's layer. A start holds its sandbox's
//! and its owner's while the next learner's start prepares beside it; the map forgets a key
//! nobody holds or waits for, so a class's thousand learners leave no thousand mutexes behind.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

#[derive(Default)]
pub struct KeyedLocks(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

pub struct KeyGuard<'a> {
    locks: &'a KeyedLocks,
    key: String,
    guard: Option<OwnedMutexGuard<()>>,
}

impl KeyedLocks {
    pub async fn lock(&self, key: &str) -> KeyGuard<'_> {
        let mutex = self.0.lock().unwrap_or_else(|p| p.into_inner()).entry(key.to_string()).or_default().clone();
        KeyGuard { locks: self, key: key.to_string(), guard: Some(mutex.lock_owned().await) }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

impl Drop for KeyGuard<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut map = self.locks.0.lock().unwrap_or_else(|p| p.into_inner());
        // Only the map's own reference left: nobody holds or waits for this key.
        if map.get(&self.key).is_some_and(|m| Arc::strong_count(m) == 1) {
            map.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn one_key_at_a_time_other_keys_beside_it() {
        let locks = Arc::new(KeyedLocks::default());
        let a = locks.lock("a").await;
        // Another key is free.
        tokio::time::timeout(Duration::from_secs(5), locks.lock("b")).await.expect("b is not a's");
        let waiter = {
            let locks = locks.clone();
            tokio::spawn(async move {
                let _a = locks.lock("a").await;
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "a is held");
        drop(a);
        tokio::time::timeout(Duration::from_secs(5), waiter).await.expect("a freed").unwrap();
        assert_eq!(locks.len(), 0, "keys nobody holds are forgotten");
    }
}
