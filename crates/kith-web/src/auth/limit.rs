//! Slows down repeated sign-in attempts, per email address and per client address.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::num::NonZeroU32;
use std::time::Duration;

/// Attempts for one email from one address: a burst of 5, then one every 20 seconds.
const EMAIL_BURST: u32 = 5;
const EMAIL_PERIOD: Duration = Duration::from_secs(20);
/// Attempts for one email from anywhere: looser, so that someone guessing from another address
/// cannot lock the real user out, yet a spread-out attack is still slowed.
const EMAIL_ANYWHERE_BURST: u32 = 30;
const EMAIL_ANYWHERE_PERIOD: Duration = Duration::from_secs(4);
/// Attempts from one address: a burst of 20, then one every 3 seconds.
const ADDRESS_BURST: u32 = 20;
const ADDRESS_PERIOD: Duration = Duration::from_secs(3);

/// Keyed limiters for sign-in. Kept in memory per instance: with several instances behind a
/// load balancer each one limits on its own, which still bounds guessing.
pub struct LoginLimiter {
    by_email: DefaultKeyedRateLimiter<String>,
    by_email_anywhere: DefaultKeyedRateLimiter<String>,
    by_address: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

fn quota(period: Duration, burst: u32) -> Quota {
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_minute(burst))
        .allow_burst(burst)
}

impl LoginLimiter {
    pub fn new() -> Self {
        Self {
            by_email: DefaultKeyedRateLimiter::keyed(quota(EMAIL_PERIOD, EMAIL_BURST)),
            by_email_anywhere: DefaultKeyedRateLimiter::keyed(quota(
                EMAIL_ANYWHERE_PERIOD,
                EMAIL_ANYWHERE_BURST,
            )),
            by_address: DefaultKeyedRateLimiter::keyed(quota(ADDRESS_PERIOD, ADDRESS_BURST)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one attempt. `Err(seconds)` says how long to wait before the next is allowed.
    pub fn attempt(&self, email: &str, address: Option<&str>) -> Result<(), u64> {
        if self.by_email.len() > 100_000 {
            self.by_email.retain_recent();
            self.by_email_anywhere.retain_recent();
            self.by_address.retain_recent();
        }
        let now = self.clock.now();
        let email = email.trim().to_lowercase();
        let keyed = [
            (
                &self.by_email,
                format!("{email} {}", address.unwrap_or("-")),
            ),
            (&self.by_email_anywhere, email.clone()),
        ];
        for (limiter, key) in keyed {
            if let Err(not_until) = limiter.check_key(&key) {
                return Err(not_until.wait_time_from(now).as_secs().max(1));
            }
        }
        if let Some(address) = address
            && let Err(not_until) = self.by_address.check_key(&address.to_owned())
        {
            return Err(not_until.wait_time_from(now).as_secs().max(1));
        }
        Ok(())
    }
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sixth_quick_attempt_for_one_email_waits() {
        let limiter = LoginLimiter::new();
        for _ in 0..EMAIL_BURST {
            assert_eq!(limiter.attempt("ana@example.com", None), Ok(()));
        }
        let wait = limiter
            .attempt("ANA@example.com ", None)
            .expect_err("limited");
        assert!((1..=20).contains(&wait), "waits {wait}s");
        assert_eq!(limiter.attempt("ben@example.com", None), Ok(()));
    }

    #[test]
    fn guessing_from_elsewhere_does_not_lock_out_the_owner() {
        let limiter = LoginLimiter::new();
        for _ in 0..EMAIL_BURST {
            assert_eq!(
                limiter.attempt("ana@example.com", Some("203.0.113.9")),
                Ok(())
            );
        }
        assert!(
            limiter
                .attempt("ana@example.com", Some("203.0.113.9"))
                .is_err()
        );
        assert_eq!(
            limiter.attempt("ana@example.com", Some("198.51.100.4")),
            Ok(())
        );
    }
}
