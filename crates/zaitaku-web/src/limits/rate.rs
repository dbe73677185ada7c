//! Requests per client per minute, for the few requests that cost real work
//! (a token's signature and certificate path, a password's argon2 hash): a
//! token bucket per client address, in this process's memory.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Requests one client may make per minute; a full minute's worth may come at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_minute: u32,
}

/// Clients remembered at most. Past it, buckets that have filled up again are
/// forgotten; if that is not enough (a flood from very many addresses), new
/// clients share one bucket until some fill up, so memory stays bounded.
const MAX_CLIENTS: usize = 20_000;

pub struct RateLimiter {
    rate: Rate,
    buckets: Mutex<Buckets>,
}

#[derive(Default)]
struct Buckets {
    by_client: HashMap<IpAddr, Bucket>,
    last_prune: Option<Instant>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    pub fn new(rate: Rate) -> Self {
        RateLimiter {
            rate,
            buckets: Mutex::default(),
        }
    }

    /// Takes one request's place for `client` at `now`, or says how long to wait.
    pub fn take(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let capacity = f64::from(self.rate.per_minute.max(1));
        let per_second = capacity / 60.0;
        // Only map operations run under the lock; a poisoned one still holds whole buckets.
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let mut key = client_key(client);
        if !buckets.by_client.contains_key(&key) && buckets.by_client.len() >= MAX_CLIENTS {
            buckets.prune(now, capacity, per_second);
            if buckets.by_client.len() >= MAX_CLIENTS {
                key = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
            }
        }
        let bucket = buckets.by_client.entry(key).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let refilled = refill(*bucket, now, capacity, per_second);
        if refilled >= 1.0 {
            *bucket = Bucket {
                tokens: refilled - 1.0,
                at: now,
            };
            Ok(())
        } else {
            *bucket = Bucket {
                tokens: refilled,
                at: now,
            };
            Err(Duration::from_secs_f64((1.0 - refilled) / per_second))
        }
    }
}

impl Buckets {
    /// Forgets the clients whose bucket is full again; at most once a second.
    fn prune(&mut self, now: Instant, capacity: f64, per_second: f64) {
        if self
            .last_prune
            .is_some_and(|at| now.duration_since(at) < Duration::from_secs(1))
        {
            return;
        }
        self.last_prune = Some(now);
        self.by_client
            .retain(|_, bucket| refill(*bucket, now, capacity, per_second) < capacity);
    }
}

fn refill(bucket: Bucket, now: Instant, capacity: f64, per_second: f64) -> f64 {
    let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
    (bucket.tokens + elapsed * per_second).min(capacity)
}

/// One client: an IPv4 address, or an IPv6 /64 (what one household or
/// device is usually given); an IPv4 address mapped into IPv6 counts as itself.
fn client_key(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_minutes_worth_at_once_then_one_per_interval() {
        let limiter = RateLimiter::new(Rate { per_minute: 3 });
        let t0 = Instant::now();
        let client = ip("192.0.2.1");
        for _ in 0..3 {
            assert!(limiter.take(client, t0).is_ok());
        }
        let wait = limiter.take(client, t0).unwrap_err();
        assert!(
            wait > Duration::from_secs(19) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(limiter.take(ip("192.0.2.2"), t0).is_ok(), "another client");
        assert!(limiter.take(client, t0 + Duration::from_secs(21)).is_ok());
        assert!(limiter.take(client, t0 + Duration::from_secs(21)).is_err());
    }

    #[test]
    fn an_ipv6_slash_64_is_one_client_and_mapped_ipv4_is_ipv4() {
        let limiter = RateLimiter::new(Rate { per_minute: 1 });
        let t0 = Instant::now();
        assert!(limiter.take(ip("2001:db8:1:2::1"), t0).is_ok());
        assert!(limiter.take(ip("2001:db8:1:2::ffff"), t0).is_err());
        assert!(limiter.take(ip("2001:db8:1:3::1"), t0).is_ok());
        assert!(limiter.take(ip("198.51.100.7"), t0).is_ok());
        assert!(limiter.take(ip("::ffff:198.51.100.7"), t0).is_err());
    }

    #[test]
    fn memory_stays_bounded_under_many_addresses() {
        let limiter = RateLimiter::new(Rate { per_minute: 1 });
        let t0 = Instant::now();
        for n in 0..(MAX_CLIENTS as u32 + 100) {
            let _ = limiter.take(IpAddr::V4(n.into()), t0);
        }
        let remembered = limiter.buckets.lock().unwrap().by_client.len();
        assert!(remembered <= MAX_CLIENTS + 1, "{remembered}");
    }
}
