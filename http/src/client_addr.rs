//! The client's address (CONTRACT.md "Deployment", `[connections]
//! trusted_proxies`): the TCP peer's, or, when that peer is a trusted
//! proxy, the right-most address of `X-Forwarded-For` that is not itself
//! a trusted proxy. From any other peer the header is ignored, so a client
//! cannot name itself another address to escape a per-address limit.
//!
//! The server resolves it once per request ([`TrustedProxies::client_of`])
//! and puts it in the request's extensions ([`ClientAddr`]); every
//! consumer (the sign-in, client-authentication and device throttles, the
//! log lines that name an address) reads it from there through
//! [`client_address`].

use std::convert::Infallible;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use warp::Filter;

/// The header a proxy appends the address it was reached from to.
pub const FORWARDED_FOR: &str = "x-forwarded-for";

/// The client's address, as [`TrustedProxies::client_of`] resolved it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// One `trusted_proxies` entry: a CIDR block (`10.0.0.0/8`, `::1/128`),
/// or a single address, the block of that address alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyNet(pub IpNet);

impl FromStr for ProxyNet {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        text.parse::<IpNet>()
            .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
            .map(ProxyNet)
            .map_err(|_| {
                format!(
                    "expected a CIDR block (such as 10.0.0.0/8 or ::1/128) or an IP address, found {text:?}"
                )
            })
    }
}

impl fmt::Display for ProxyNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for ProxyNet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ProxyNet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// The proxies whose `X-Forwarded-For` is believed (default: none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Arc<[IpNet]>);

impl TrustedProxies {
    /// These blocks.
    pub fn new(nets: impl IntoIterator<Item = IpNet>) -> Self {
        TrustedProxies(nets.into_iter().collect())
    }

    /// The blocks.
    pub fn nets(&self) -> impl Iterator<Item = IpNet> + '_ {
        self.0.iter().copied()
    }

    /// Whether `address` is in one of the blocks (an IPv4 address mapped
    /// into IPv6, as a dual-stack listener sees it, as the IPv4 one).
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client's address for a request from `peer` carrying `forwarded`
    /// (every `X-Forwarded-For` value, in the order received): `peer`
    /// unless it is a trusted proxy; else, reading the list from its right
    /// end (each proxy appends the address it was reached from), the first
    /// address that is not a trusted proxy. When every listed address is a
    /// trusted proxy the left-most is the client; an entry that is not an
    /// address stops the reading at the last good one (what lies left of
    /// it was written by whoever the proxies did not vouch for).
    pub fn client_of<'a>(
        &self,
        peer: IpAddr,
        forwarded: impl IntoIterator<Item = &'a str>,
    ) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return peer;
        }
        let listed: Vec<&str> = forwarded
            .into_iter()
            .flat_map(|value| value.split(','))
            .collect();
        let mut client = peer;
        for entry in listed.iter().rev() {
            let Some(address) = parse_forwarded(entry) else {
                break;
            };
            client = address;
            if !self.contains(address) {
                break;
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: an address, perhaps with a port
/// (`192.0.2.1:4711`, `[2001:db8::1]:4711`) as some proxies write it.
fn parse_forwarded(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|addr| addr.ip()))
        .ok()
        .map(|address| address.to_canonical())
}

/// The client's address of the request: the one the server resolved
/// ([`ClientAddr`]), or, under a server that resolved none (warp's own,
/// in tests), the connection's peer.
pub fn client_address() -> impl Filter<Extract = (Option<IpAddr>,), Error = Infallible> + Clone {
    warp::ext::optional::<ClientAddr>()
        .and(warp::addr::remote())
        .map(|ours: Option<ClientAddr>, warps: Option<SocketAddr>| {
            ours.map(|ClientAddr(address)| address)
                .or(warps.map(|addr| addr.ip().to_canonical()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(nets: &[&str]) -> TrustedProxies {
        TrustedProxies::new(nets.iter().map(|net| net.parse::<ProxyNet>().unwrap().0))
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_of(ip("127.0.0.1"), ["203.0.113.7"]),
            ip("127.0.0.1")
        );
        let proxies = trusted(&["10.0.0.0/8"]);
        assert_eq!(
            proxies.client_of(ip("192.0.2.1"), ["203.0.113.7"]),
            ip("192.0.2.1")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client() {
        let proxies = trusted(&["127.0.0.1/32", "10.0.0.0/8"]);
        let peer = ip("127.0.0.1");
        assert_eq!(proxies.client_of(peer, ["203.0.113.7"]), ip("203.0.113.7"));
        // A forged left part is passed over.
        assert_eq!(
            proxies.client_of(peer, ["198.51.100.1, 203.0.113.7"]),
            ip("203.0.113.7")
        );
        // Trusted hops on the right are skipped, over several header lines.
        assert_eq!(
            proxies.client_of(peer, ["198.51.100.1, 203.0.113.7", "10.1.2.3 , 10.0.0.9"]),
            ip("203.0.113.7")
        );
        // Ports and IPv6, and an IPv4 address mapped into IPv6.
        assert_eq!(
            proxies.client_of(ip("::ffff:127.0.0.1"), ["[2001:db8::7]:4711"]),
            ip("2001:db8::7")
        );
        assert_eq!(
            proxies.client_of(peer, ["203.0.113.9:80"]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn without_a_usable_header_the_last_trusted_hop_is_the_client() {
        let proxies = trusted(&["127.0.0.1/32", "10.0.0.0/8"]);
        let peer = ip("127.0.0.1");
        assert_eq!(proxies.client_of(peer, []), peer);
        assert_eq!(proxies.client_of(peer, ["garbage"]), peer);
        assert_eq!(
            proxies.client_of(peer, ["203.0.113.7, garbage, 10.0.0.2"]),
            ip("10.0.0.2")
        );
        assert_eq!(
            proxies.client_of(peer, ["10.0.0.3, 10.0.0.2"]),
            ip("10.0.0.3")
        );
    }

    #[test]
    fn entries_are_cidr_blocks_or_addresses() {
        assert_eq!(
            "127.0.0.1".parse::<ProxyNet>().unwrap().to_string(),
            "127.0.0.1/32"
        );
        assert_eq!("::1".parse::<ProxyNet>().unwrap().to_string(), "::1/128");
        assert!("10.0.0.0/8".parse::<ProxyNet>().is_ok());
        for bad in ["not-a-network", "127.0.0.1/33", "10.0.0.0/", ""] {
            let error = bad.parse::<ProxyNet>().unwrap_err();
            assert!(error.contains("CIDR"), "{error}");
        }
    }
}
