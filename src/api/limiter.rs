//! Who is asking, and how often they got it wrong: the client address behind trusted proxies,
//! the failed-authentication limiter, and the throttle that keeps refused requests from
//! filling the audit log.
//!
//! Only a presented token that is wrong counts as a failure (a missing one is a page loading
//! before its token, not a guess). Failures are counted per client address and per token
//! prefix (the first characters after `dm_`: a guesser rotating addresses still repeats its
//! own prefixes less than an address does, and one noisy address cannot lock out a desk
//! behind the same proxy). A valid token is checked before any limit and is never refused for
//! someone else's failures; with 256 random bits it cannot be guessed, so the limiter is about
//! load and log noise, not about guessing.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// How long failures are remembered, and the unit of the audit throttle.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Characters of a wrong token (after `dm_`) that name its prefix bucket.
const PREFIX_CHARS: usize = 8;
/// The longest request target an audit record keeps (a refused request can carry 64 KB).
pub const AUDIT_TARGET_MAX: usize = 256;
/// Addresses and prefixes remembered at most; the oldest windows are dropped beyond it.
const MAX_ENTRIES: usize = 10_000;

/// The client's address: the peer, or, when the peer is a trusted proxy, the nearest address
/// in X-Forwarded-For that is not one (the rightmost untrusted hop: anything left of it the
/// client could have written itself).
pub fn client_addr(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.ip();
    if !trusted.iter().any(|n| n.contains(&peer)) {
        return peer;
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|h| h.trim().parse().ok())
        .collect();
    hops.into_iter()
        .rev()
        .find(|ip| !trusted.iter().any(|n| n.contains(ip)))
        .unwrap_or(peer)
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Addr(IpAddr),
    Prefix(String),
}

fn prefix_of(token: &str) -> String {
    let t = token.strip_prefix("dm_").unwrap_or(token);
    t.chars().take(PREFIX_CHARS).collect()
}

/// Failed authentications per address and per token prefix, per window.
pub struct Limiter {
    allowed: u32,
    failures: Mutex<HashMap<Key, (u32, Instant)>>,
}

impl Limiter {
    pub fn new(allowed: u32) -> Limiter {
        Limiter {
            allowed,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// How long a wrong token from `ip` must wait, if its address or prefix used up the window.
    pub fn retry_after(&self, ip: IpAddr, token: &str) -> Option<Duration> {
        let f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        [Key::Addr(ip), Key::Prefix(prefix_of(token))]
            .iter()
            .filter_map(|k| f.get(k))
            .filter(|(n, since)| *n >= self.allowed && since.elapsed() < WINDOW)
            .map(|(_, since)| WINDOW.saturating_sub(since.elapsed()))
            .max()
    }

    /// Count a wrong token from `ip`.
    pub fn failed(&self, ip: IpAddr, token: &str) {
        let mut f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if f.len() >= MAX_ENTRIES {
            f.retain(|_, (_, since)| since.elapsed() < WINDOW);
        }
        for key in [Key::Addr(ip), Key::Prefix(prefix_of(token))] {
            let e = f.entry(key).or_insert((0, Instant::now()));
            if e.1.elapsed() >= WINDOW {
                *e = (0, Instant::now());
            }
            e.0 += 1;
        }
    }
}

/// What to write to the audit log about a refused request.
#[derive(Debug, PartialEq, Eq)]
pub enum RefusalRecord {
    /// Write it; `earlier` refusals from the same address in its previous window went unrecorded.
    Write { earlier: u32 },
    /// Counted into the next record from this address.
    Counted,
}

/// One audit record per address per window for refused requests; the rest are counted and the
/// count rides on the address's next record.
pub struct AuditThrottle {
    seen: Mutex<HashMap<IpAddr, Seen>>,
}

struct Seen {
    since: Instant,
    unrecorded: u32,
}

impl Default for AuditThrottle {
    fn default() -> Self {
        AuditThrottle {
            seen: Mutex::new(HashMap::new()),
        }
    }
}

impl AuditThrottle {
    pub fn refused(&self, ip: IpAddr) -> RefusalRecord {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= MAX_ENTRIES {
            seen.retain(|_, s| s.since.elapsed() < WINDOW || s.unrecorded > 0);
        }
        match seen.get_mut(&ip) {
            Some(s) if s.since.elapsed() < WINDOW => {
                s.unrecorded += 1;
                RefusalRecord::Counted
            }
            Some(s) => {
                let earlier = std::mem::take(&mut s.unrecorded);
                s.since = Instant::now();
                RefusalRecord::Write { earlier }
            }
            None => {
                seen.insert(
                    ip,
                    Seen {
                        since: Instant::now(),
                        unrecorded: 0,
                    },
                );
                RefusalRecord::Write { earlier: 0 }
            }
        }
    }
}

/// A request target cut to what an audit record keeps, on a character boundary.
pub fn bounded_target(target: &str) -> String {
    if target.len() <= AUDIT_TARGET_MAX {
        return target.to_string();
    }
    let mut end = AUDIT_TARGET_MAX;
    while !target.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &target[..end], target.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_a_trusted_proxy_may_name_the_client() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "6.6.6.6, 203.0.113.7, 10.1.1.1".parse().unwrap(),
        );
        // From the proxy: the rightmost hop that is not a proxy.
        let via_proxy = client_addr("10.0.0.2:5000".parse().unwrap(), &h, &trusted);
        assert_eq!(via_proxy, ip("203.0.113.7"));
        // From anyone else the header is the client's own words.
        let direct = client_addr("198.51.100.1:5000".parse().unwrap(), &h, &trusted);
        assert_eq!(direct, ip("198.51.100.1"));
        // No header: the proxy itself.
        let bare = client_addr(
            "10.0.0.2:5000".parse().unwrap(),
            &HeaderMap::new(),
            &trusted,
        );
        assert_eq!(bare, ip("10.0.0.2"));
    }

    #[test]
    fn an_address_or_a_prefix_over_the_limit_waits_and_others_do_not() {
        let l = Limiter::new(3);
        for i in 0..3 {
            assert!(
                l.retry_after(ip("192.0.2.1"), &format!("dm_{i}guess"))
                    .is_none()
            );
            l.failed(ip("192.0.2.1"), &format!("dm_{i}guess"));
        }
        let wait = l.retry_after(ip("192.0.2.1"), "dm_other").unwrap();
        assert!(wait > Duration::from_secs(50) && wait <= WINDOW);
        assert!(l.retry_after(ip("192.0.2.2"), "dm_fresh").is_none());
        // One prefix guessed from many addresses.
        for n in 10..13 {
            l.failed(ip(&format!("192.0.2.{n}")), "dm_samepfx_x");
        }
        assert!(l.retry_after(ip("192.0.2.99"), "dm_samepfx_y").is_some());
    }

    #[test]
    fn refusals_are_recorded_once_per_window_with_the_count_of_the_rest() {
        let t = AuditThrottle::default();
        let a = ip("192.0.2.1");
        assert_eq!(t.refused(a), RefusalRecord::Write { earlier: 0 });
        assert_eq!(t.refused(a), RefusalRecord::Counted);
        assert_eq!(t.refused(a), RefusalRecord::Counted);
        assert_eq!(
            t.refused(ip("192.0.2.2")),
            RefusalRecord::Write { earlier: 0 }
        );
        t.seen.lock().unwrap().get_mut(&a).unwrap().since -= WINDOW;
        assert_eq!(t.refused(a), RefusalRecord::Write { earlier: 2 });
    }

    #[test]
    fn a_long_target_is_cut_on_a_character_boundary() {
        let long = "é".repeat(400);
        let cut = bounded_target(&long);
        assert!(cut.len() < AUDIT_TARGET_MAX + 40, "{}", cut.len());
        assert!(cut.ends_with("(800 bytes)"));
        assert_eq!(bounded_target("/api/stats"), "/api/stats");
    }
}
