//! The one HTTP client for URLs that came from outside: platforms' configuration, registration,
//! key set, token, AGS and NRPS endpoints, and webhook receivers. A URL in a platform's answer or
//! an administrator's form must not let anyone aim the tool at the machine it runs on or the
//! network behind it, so every call here is https only, every address the client connects to is
//! checked (the resolver drops loopback, private, link-local and other non-public addresses before
//! a connection is tried, and an IP literal is checked before the request is built), redirects are
//! never followed, and answers are read up to a size cap.
//!
//! `allow_loopback` (the `outbound_allow_loopback` setting) is for development, tests and
//! benchmarks, whose platforms run on this machine: it allows http and loopback addresses, and
//! nothing else: private ranges stay refused even then.
use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

/// Largest answer read from another server: key sets, configurations, rosters, line items.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;
/// How much of a refusal's body is kept for the log (never for a page).
pub const LOGGED_BODY_CHARS: usize = 300;

/// Why an outbound call was not made or its answer not read.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// The URL is not one the tool calls: not a URL, not https, or an address inside.
    #[error("{0}")]
    Refused(String),
    /// The server could not be reached or the connection failed.
    #[error("the server could not be reached: {0}")]
    Transport(#[from] reqwest::Error),
    /// The answer was larger than the cap.
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
    /// The answer is not what was asked for.
    #[error("the answer could not be read: {0}")]
    Unreadable(String),
}

/// The guarded client. Cheap to clone.
#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    allow_loopback: bool,
}

impl Outbound {
    /// A client with the tool's User-Agent (Canvas and some Moodle sites refuse requests without
    /// one), `timeout` for connecting and for the whole call, no proxy from the environment (it
    /// would connect for us, past the address check) and no redirects.
    pub fn new(timeout: Duration, allow_loopback: bool) -> reqwest::Result<Self> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("coursebridge/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver { allow_loopback }))
            .build()?;
        Ok(Self {
            client,
            allow_loopback,
        })
    }

    /// Whether loopback and plain http are allowed (development only).
    pub fn allows_loopback(&self) -> bool {
        self.allow_loopback
    }

    /// Checks that the tool may call `value`; `what` names it in the refusal.
    pub fn check(&self, what: &str, value: &str) -> Result<Url, OutboundError> {
        check_url(what, value, self.allow_loopback)
    }

    /// A GET of a checked URL.
    pub fn get(&self, what: &str, url: &str) -> Result<reqwest::RequestBuilder, OutboundError> {
        Ok(self.client.get(self.check(what, url)?))
    }

    /// A POST to a checked URL.
    pub fn post(&self, what: &str, url: &str) -> Result<reqwest::RequestBuilder, OutboundError> {
        Ok(self.client.post(self.check(what, url)?))
    }
}

/// Checks a URL the tool is asked to call: parseable, https (http only on loopback when allowed),
/// no credentials in it, and, when the host is an IP literal, a public address.
pub fn check_url(what: &str, value: &str, allow_loopback: bool) -> Result<Url, OutboundError> {
    let url = Url::parse(value)
        .map_err(|_| OutboundError::Refused(format!("{what} is not a URL: {value:?}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(OutboundError::Refused(format!(
            "{what} must not carry a user name or password"
        )));
    }
    let host = match url.host() {
        Some(host) => host,
        None => {
            return Err(OutboundError::Refused(format!("{what} has no host")));
        }
    };
    let literal = match host {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    };
    let loopback_host = match (literal, &host) {
        (Some(ip), _) => ip.is_loopback(),
        (None, url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        _ => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if allow_loopback && loopback_host => {}
        _ => {
            return Err(OutboundError::Refused(format!(
                "{what} must be an https URL: {value:?}"
            )));
        }
    }
    if let Some(ip) = literal
        && !address_allowed(ip, allow_loopback)
    {
        return Err(OutboundError::Refused(format!(
            "{what} points at an address inside ({ip}), which the tool does not call"
        )));
    }
    Ok(url)
}

/// Whether the tool may connect to `ip`: public unicast only, plus loopback when allowed.
pub fn address_allowed(ip: IpAddr, allow_loopback: bool) -> bool {
    let ip = match ip {
        // IPv4-mapped and IPv4-compatible forms are judged as the IPv4 address they carry.
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    };
    if ip.is_loopback() {
        return allow_loopback;
    }
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => public_v6(v6),
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        // Shared address space (carrier-grade NAT), 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments, 192.0.0.0/24, and benchmarking, 198.18.0.0/15.
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || (a == 198 && (b == 18 || b == 19))
        // Reserved, 240.0.0.0/4.
        || a >= 240)
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_multicast()
        // Unique local, fc00::/7.
        || (first & 0xfe00) == 0xfc00
        // Link-local, fe80::/10.
        || (first & 0xffc0) == 0xfe80
        // Site-local (deprecated), fec0::/10.
        || (first & 0xffc0) == 0xfec0
        // Documentation, 2001:db8::/32.
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        // IPv4-compatible (deprecated) ::a.b.c.d and NAT64 64:ff9b::/96 carry an IPv4 address
        // that could be inside; the tool has no need of either.
        || ip.segments()[..6] == [0, 0, 0, 0, 0, 0]
        || (first == 0x64 && ip.segments()[1] == 0xff9b))
}

/// Resolves names as the system does, then keeps only the addresses the tool may connect to: the
/// connection is made to exactly these, so a name that resolves inside (or is changed to between
/// two lookups) is never reached.
struct GuardedResolver {
    allow_loopback: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_loopback = self.allow_loopback;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|addr| address_allowed(addr.ip(), allow_loopback))
                .collect();
            if allowed.is_empty() {
                tracing::warn!(
                    code = "OUTBOUND_ADDRESS_REFUSED",
                    host = %host,
                    "an outbound call was refused: the name resolves only to addresses inside"
                );
                return Err(Box::new(OutboundError::Refused(format!(
                    "{host} resolves only to addresses the tool does not call"
                )))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Reads at most `limit` bytes of an answer; a longer one is refused as a whole.
pub async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, OutboundError> {
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(OutboundError::TooLarge(limit));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Err(OutboundError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads a JSON answer of at most [`MAX_ANSWER_BYTES`].
pub async fn read_json<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, OutboundError> {
    let body = read_limited(response, MAX_ANSWER_BYTES).await?;
    serde_json::from_slice(&body).map_err(|err| OutboundError::Unreadable(err.to_string()))
}

/// The start of a refusal's body, for the log only: pages show the status and what to do, never
/// another server's words.
pub async fn body_for_log(response: reqwest::Response) -> String {
    match read_limited(response, 64 * 1024).await {
        Ok(body) => String::from_utf8_lossy(&body)
            .chars()
            .take(LOGGED_BODY_CHARS)
            .collect(),
        Err(err) => format!("({err})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn inside_addresses_are_refused_and_public_ones_allowed() {
        for inside in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!address_allowed(ip(inside), false), "{inside}");
        }
        for public in ["193.10.8.5", "2a00:1450:400f:80d::200e", "8.8.8.8"] {
            assert!(address_allowed(ip(public), false), "{public}");
        }
    }

    #[test]
    fn the_development_setting_allows_loopback_but_not_private_ranges() {
        assert!(address_allowed(ip("127.0.0.1"), true));
        assert!(address_allowed(ip("::1"), true));
        assert!(address_allowed(ip("::ffff:127.0.0.1"), true));
        assert!(!address_allowed(ip("10.0.0.1"), true));
        assert!(!address_allowed(ip("169.254.169.254"), true));
        assert!(!address_allowed(ip("fd12::1"), true));
    }

    #[test]
    fn urls_must_be_https_unless_loopback_is_allowed() {
        assert!(check_url("x", "https://moodle.umea.se/c", false).is_ok());
        assert!(check_url("x", "http://moodle.umea.se/c", false).is_err());
        assert!(check_url("x", "http://moodle.umea.se/c", true).is_err());
        assert!(check_url("x", "http://127.0.0.1:8081/c", false).is_err());
        assert!(check_url("x", "http://127.0.0.1:8081/c", true).is_ok());
        assert!(check_url("x", "http://localhost:8081/c", true).is_ok());
        assert!(check_url("x", "https://127.0.0.1/c", false).is_err());
        assert!(check_url("x", "https://[::ffff:7f00:1]/c", false).is_err());
        assert!(check_url("x", "https://10.0.0.1/c", true).is_err());
        assert!(check_url("x", "https://169.254.169.254/latest/meta-data", true).is_err());
        assert!(check_url("x", "ftp://moodle.umea.se/c", true).is_err());
        assert!(check_url("x", "https://user:pw@moodle.umea.se/c", false).is_err());
        assert!(check_url("x", "not a url", true).is_err());
    }
}
