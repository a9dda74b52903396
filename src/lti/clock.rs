//! The service's clock: wall time, plus an offset that only tests move. Everything that decides by
//! time — a login state's expiry, an id_token's `exp` and `iat`, a session's idle and age limits,
//! when a platform's key set is fetched again — reads the application's one `Clock`, so a test
//! moves time forward instead of sleeping.
use std::{
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

/// Wall time as the service sees it. Cloning shares it: advancing one clone advances them all.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// Unix milliseconds now.
    pub fn now_ms(&self) -> i64 {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default();
        wall + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Unix seconds now, the unit of every JWT time claim.
    pub fn now_unix(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Moves this clock (and every clone of it) forward: for tests of what happens once time has
    /// passed.
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as i64, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_one_clone_moves_every_clone() {
        let clock = Clock::default();
        let shared = clock.clone();
        let before = shared.now_unix();
        clock.advance(Duration::from_secs(3600));
        let after = shared.now_unix();
        assert!(
            (3600..3610).contains(&(after - before)),
            "{before} → {after}"
        );
    }
}
