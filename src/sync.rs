//! Locking the in-process caches. A panic in one request while it held a cache's lock poisons the
//! mutex; the caches hold no invariant such a panic could break (each entry is written whole), so
//! the lock is taken anyway and the service goes on answering instead of failing every later
//! request.

use std::sync::{Mutex, MutexGuard};

/// `mutex`'s guard, poisoned or not.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poisoned_cache_still_answers() {
        let cache = std::sync::Arc::new(Mutex::new(vec![1]));
        let held = cache.clone();
        let _ = std::thread::spawn(move || {
            let _guard = held.lock().unwrap();
            panic!("a request failed while it held the lock");
        })
        .join();
        assert!(cache.is_poisoned());
        lock(&cache).push(2);
        assert_eq!(*lock(&cache), vec![1, 2]);
    }
}
