//! Who a request comes from, for per-client limits: the connection's address, or the one a
//! trusted proxy names.

use std::fmt;
use std::net::IpAddr;

/// Who a limited action (a guest creation, a password attempt) is charged to: an IPv4 address, or the /64 of an IPv6 address (one
/// subscriber usually holds a whole /64, so counting single IPv6 addresses would be no limit).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientKey(String);

impl ClientKey {
    /// The key of a client address: `ip4:203.0.113.7` or `ip6:2001:db8:1:2::/64`. An
    /// IPv4-mapped IPv6 address (`::ffff:203.0.113.7`) counts as its IPv4 address.
    ///
    /// ```
    /// use auth_runtime::rate_limit::ClientKey;
    ///
    /// let a = ClientKey::from_ip("2001:db8:1:2::1".parse().unwrap());
    /// let b = ClientKey::from_ip("2001:db8:1:2:ffff::9".parse().unwrap());
    /// assert_eq!(a, b);
    /// assert_eq!(a.as_str(), "ip6:2001:db8:1:2::/64");
    /// ```
    pub fn from_ip(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => ClientKey(format!("ip4:{v4}")),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey(format!("ip4:{v4}")),
                None => {
                    let s = v6.segments();
                    ClientKey(format!(
                        "ip6:{:x}:{:x}:{:x}:{:x}::/64",
                        s[0], s[1], s[2], s[3]
                    ))
                }
            },
        }
    }

    /// A key of the application's choosing (a device id, an API client), prefixed `app:` so it
    /// never collides with an address.
    pub fn custom(key: &str) -> Self {
        ClientKey(format!("app:{key}"))
    }

    /// The key as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which address is the client's: the connection's, unless the app runs behind a proxy it
/// trusts to say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TrustedProxy {
    /// No proxy: the connection's peer address (the default). Forwarded headers are ignored,
    /// since any client can send them.
    #[default]
    None,
    /// A proxy that puts the client address alone in this header (`X-Real-IP`,
    /// `CF-Connecting-IP`, `Fly-Client-IP`).
    Header(http::HeaderName),
    /// `hops` proxies that each append to `X-Forwarded-For`: the client is the entry `hops`
    /// from the right (1: the one our nearest proxy wrote). Entries further left are the
    /// client's own words and are ignored.
    XForwardedFor {
        /// How many trusted proxies are in front of the app (at least 1).
        hops: usize,
    },
}

impl TrustedProxy {
    /// The client's address, from `peer` (the connection) or the trusted header; the peer when
    /// the header is missing or malformed.
    ///
    /// ```
    /// use auth_runtime::rate_limit::TrustedProxy;
    ///
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("x-forwarded-for", "6.6.6.6, 198.51.100.4".parse().unwrap());
    /// let peer = "10.0.0.2".parse().unwrap();
    /// assert_eq!(TrustedProxy::None.client_ip(peer, &headers), peer);
    /// let one_proxy = TrustedProxy::XForwardedFor { hops: 1 };
    /// assert_eq!(one_proxy.client_ip(peer, &headers).to_string(), "198.51.100.4");
    /// ```
    pub fn client_ip(&self, peer: IpAddr, headers: &http::HeaderMap) -> IpAddr {
        let found = match self {
            TrustedProxy::None => None,
            TrustedProxy::Header(name) => headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok()),
            TrustedProxy::XForwardedFor { hops } => {
                let entries: Vec<&str> = headers
                    .get_all("x-forwarded-for")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(','))
                    .map(str::trim)
                    .collect();
                entries
                    .len()
                    .checked_sub((*hops).max(1))
                    .and_then(|i| entries[i].parse().ok())
            }
        };
        found.unwrap_or(peer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_mapped_addresses_count_as_ipv4() {
        let mapped = ClientKey::from_ip("::ffff:203.0.113.7".parse().unwrap());
        assert_eq!(mapped, ClientKey::from_ip("203.0.113.7".parse().unwrap()));
        let other = ClientKey::from_ip("2001:db8:1:3::1".parse().unwrap());
        assert_ne!(
            other,
            ClientKey::from_ip("2001:db8:1:2::1".parse().unwrap())
        );
    }

    #[test]
    fn trusted_headers() {
        let mut headers = http::HeaderMap::new();
        headers.insert("x-real-ip", "198.51.100.9".parse().unwrap());
        headers.insert(
            "x-forwarded-for",
            "1.1.1.1, 2.2.2.2, 3.3.3.3".parse().unwrap(),
        );
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        let real = TrustedProxy::Header(http::HeaderName::from_static("x-real-ip"));
        assert_eq!(real.client_ip(peer, &headers).to_string(), "198.51.100.9");
        let two = TrustedProxy::XForwardedFor { hops: 2 };
        assert_eq!(two.client_ip(peer, &headers).to_string(), "2.2.2.2");
        let too_many = TrustedProxy::XForwardedFor { hops: 9 };
        assert_eq!(too_many.client_ip(peer, &headers), peer);
    }
}
