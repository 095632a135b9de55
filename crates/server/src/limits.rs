//! Request rates: per token (every authenticated request; past the rate, 429 with
//! `Retry-After`) and, per client address, the store lookups that never-seen tokens
//! cost (past that budget an unknown token from the address gets 429 without one; a
//! token seen valid before is never charged). GCRA buckets from `governor`, keyed by a
//! hash of the token id and by the address (an IPv6 address by its /64, what one
//! client usually holds); keys whose bucket is full again are dropped by
//! [`Limits::housekeeping`], so memory follows the callers active within about a second.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::config::Config;

/// The server's rate limiters (each `None`: unlimited).
#[derive(Debug)]
pub struct Limits {
    per_token: Option<DefaultKeyedRateLimiter<u64>>,
    unknown_per_address: Option<DefaultKeyedRateLimiter<u128>>,
    hasher: RandomState,
    clock: DefaultClock,
}

/// `rate` per second with a bucket of `burst` (0: the rate); `None` for a zero rate.
fn quota(rate: u32, burst: u32) -> Option<Quota> {
    let rate = NonZeroU32::new(rate)?;
    let burst = NonZeroU32::new(burst).unwrap_or(rate);
    Some(Quota::per_second(rate).allow_burst(burst))
}

/// The key of a client address: IPv4 whole, IPv6 by its /64 (IPv4-mapped ones as IPv4).
fn address_key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => u128::from(u32::from(v4)),
            None => u128::from(v6) & !u128::from(u64::MAX),
        },
    }
}

impl Limits {
    /// The limiters `config` asks for.
    pub fn new(config: &Config) -> Self {
        Self {
            per_token: quota(config.rate_limit, config.rate_burst)
                .map(DefaultKeyedRateLimiter::keyed),
            unknown_per_address: quota(config.unknown_token_rate, config.unknown_token_burst)
                .map(DefaultKeyedRateLimiter::keyed),
            hasher: RandomState::new(),
            clock: DefaultClock::default(),
        }
    }

    /// One request of token `id`: `Err(seconds)` to wait when it is over its rate.
    pub fn token(&self, id: &str) -> Result<(), u32> {
        let Some(limiter) = &self.per_token else {
            return Ok(());
        };
        limiter
            .check_key(&self.hasher.hash_one(id))
            .map_err(|not_until| seconds(not_until.wait_time_from(self.clock.now())))
    }

    /// Whether a store lookup of a never-seen token from `ip` is within its address's
    /// budget (no address known: yes).
    pub fn unknown_token_lookup(&self, ip: Option<IpAddr>) -> bool {
        match (&self.unknown_per_address, ip) {
            (Some(limiter), Some(ip)) => limiter.check_key(&address_key(ip)).is_ok(),
            _ => true,
        }
    }

    /// Drops the keys whose bucket is full again (as good as never seen).
    pub fn housekeeping(&self) {
        if let Some(l) = &self.per_token {
            l.retain_recent();
            l.shrink_to_fit();
        }
        if let Some(l) = &self.unknown_per_address {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }

    /// Keys held: per token, per address.
    pub fn keys(&self) -> (usize, usize) {
        (
            self.per_token.as_ref().map_or(0, |l| l.len()),
            self.unknown_per_address.as_ref().map_or(0, |l| l.len()),
        )
    }
}

/// Whole seconds to wait, at least one (`Retry-After` takes whole seconds).
fn seconds(d: Duration) -> u32 {
    u32::try_from(d.as_secs().saturating_add(u64::from(d.subsec_nanos() > 0)))
        .unwrap_or(u32::MAX)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_past_its_burst_waits_and_others_do_not() {
        let config = Config {
            rate_limit: 1,
            rate_burst: 3,
            ..Config::default()
        };
        let l = Limits::new(&config);
        for _ in 0..3 {
            assert_eq!(l.token("tok_a"), Ok(()));
        }
        assert_eq!(l.token("tok_a"), Err(1));
        assert_eq!(l.token("tok_b"), Ok(()));
        let unlimited = Limits::new(&Config {
            rate_limit: 0,
            ..Config::default()
        });
        for _ in 0..100_000 {
            assert_eq!(unlimited.token("tok_a"), Ok(()));
        }
    }

    #[test]
    fn addresses_share_a_budget_by_ipv6_prefix() {
        let l = Limits::new(&Config {
            unknown_token_rate: 1,
            unknown_token_burst: 2,
            ..Config::default()
        });
        let a: IpAddr = "2001:db8::1".parse().unwrap_or(IpAddr::from([0u8; 4]));
        let b: IpAddr = "2001:db8::2".parse().unwrap_or(IpAddr::from([0u8; 4]));
        let c: IpAddr = "10.0.0.1".parse().unwrap_or(IpAddr::from([0u8; 4]));
        assert!(l.unknown_token_lookup(Some(a)));
        assert!(l.unknown_token_lookup(Some(b)));
        assert!(!l.unknown_token_lookup(Some(a)), "same /64");
        assert!(l.unknown_token_lookup(Some(c)));
        assert!(l.unknown_token_lookup(None));
        assert_eq!(seconds(Duration::from_millis(1)), 1);
        assert_eq!(seconds(Duration::from_millis(2500)), 3);
    }
}
