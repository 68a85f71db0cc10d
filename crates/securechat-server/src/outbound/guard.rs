//! The SSRF guard. Push endpoints and outgoing webhooks' URLs are URLs
//! that people hand us, and the server then makes requests to them:
//! without a guard, anyone with an account could make the server call its
//! own admin ports, the cloud metadata service or hosts on the private
//! network. So by default a request goes only to an `https` URL whose host
//! is a public address; the operator names exceptions (`PUSH_ALLOW_HOSTS`,
//! `WEBHOOK_ALLOW_HOSTS`, as `host:port`, where plain `http` is allowed
//! too) for tests and private services.
//!
//! It is checked twice: when a URL is registered ([`check_now`],
//! with a DNS lookup, so a bad endpoint is refused with a clear error), and
//! on every request, where the sender's HTTP client resolves names through
//! [`PublicOnly`]: only the public addresses of a lookup are handed to the
//! connector, so the address that was checked is the address connected to
//! (a name that resolves to a public address once and to a private one
//! next — DNS rebinding — gets nowhere). Address literals never reach a
//! resolver, so [`Target::parse`] checks them itself.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use crate::config::allow_hosts::AllowHosts;

/// Longest URL accepted, in bytes.
pub const MAX_ENDPOINT: usize = 2048;
/// How long a registration's DNS lookup may take.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);

/// Why an endpoint is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not a URL we could send to at all.
    #[error("{0}")]
    Invalid(&'static str),
    /// A URL, but one the guard does not send to.
    #[error("{0}")]
    NotAllowed(String),
}

/// An endpoint that passed the static checks.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: url::Url,
    /// Its `host:port` is in the allowed hosts: any address, `http` too.
    pub allowed: bool,
}

impl Target {
    /// Parses `endpoint` and checks what can be checked without DNS: its
    /// length, an absolute `https` URL with a host (`http` only for allowed
    /// hosts), no credentials or fragment, and, for an address literal that
    /// is not allowed, that the address is public.
    pub fn parse(endpoint: &str, allow: &AllowHosts) -> Result<Self, Refusal> {
        if endpoint.len() > MAX_ENDPOINT {
            return Err(Refusal::Invalid("the URL is longer than 2048 bytes"));
        }
        let url =
            url::Url::parse(endpoint).map_err(|_| Refusal::Invalid("the URL is not absolute"))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(Refusal::Invalid("the URL must be an https URL"));
        }
        if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
            return Err(Refusal::Invalid(
                "the URL must not carry credentials or a fragment",
            ));
        }
        let (Some(host), Some(port)) = (url.host(), url.port_or_known_default()) else {
            return Err(Refusal::Invalid("the URL has no host"));
        };
        let host_str = url.host_str().unwrap_or_default();
        let allowed = allow.contains(host_str, port);
        if allowed {
            return Ok(Self { url, allowed });
        }
        if url.scheme() != "https" {
            return Err(Refusal::NotAllowed(format!(
                "URLs must use https ({host_str}:{port} is not in {})",
                allow.var()
            )));
        }
        let literal = match host {
            url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            url::Host::Domain(_) => None,
        };
        if let Some(ip) = literal.filter(|ip| !is_public(*ip)) {
            return Err(not_public(&ip.to_string(), allow));
        }
        Ok(Self { url, allowed })
    }

    /// `host:port`, for logs (never the path: it identifies the browser).
    pub fn host(&self) -> String {
        format!(
            "{}:{}",
            self.url.host_str().unwrap_or_default(),
            self.url.port_or_known_default().unwrap_or_default()
        )
    }
}

fn not_public(host: &str, allow: &AllowHosts) -> Refusal {
    Refusal::NotAllowed(format!(
        "{host} is not a public address: URLs on loopback, private, link-local or reserved \
         addresses are refused unless the operator lists them in {}",
        allow.var()
    ))
}

/// The registration-time check: the static checks, then, for a name that is
/// not allowed, a DNS lookup whose every address must be public.
pub async fn check_now(endpoint: &str, allow: &AllowHosts) -> Result<Target, Refusal> {
    let target = Target::parse(endpoint, allow)?;
    let name = match target.url.host() {
        Some(url::Host::Domain(name)) if !target.allowed => name.to_owned(),
        _ => return Ok(target),
    };
    let port = target.url.port_or_known_default().unwrap_or(443);
    let lookup = tokio::time::timeout(
        LOOKUP_TIMEOUT,
        tokio::net::lookup_host((name.as_str(), port)),
    )
    .await;
    let addrs: Vec<SocketAddr> = match lookup {
        Ok(Ok(addrs)) => addrs.collect(),
        Ok(Err(_)) | Err(_) => Vec::new(),
    };
    if addrs.is_empty() {
        return Err(Refusal::NotAllowed(format!(
            "the URL's host {name} does not resolve"
        )));
    }
    if let Some(addr) = addrs.iter().find(|a| !is_public(a.ip())) {
        return Err(not_public(&format!("{name} ({})", addr.ip()), allow));
    }
    Ok(target)
}

/// The senders' resolver for URLs that are not allowed hosts: the
/// system's lookup with every non-public address removed, and an error
/// when none is left. The connector then connects only to what this
/// returned.
pub struct PublicOnly;

impl http_client::dns::Resolve for PublicOnly {
    fn resolve(&self, name: http_client::dns::Name) -> http_client::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            let addrs: http_client::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// Whether `ip` is a public unicast address: not unspecified, loopback,
/// private, shared (CGNAT), link-local, multicast, broadcast, reserved,
/// documentation or benchmarking space, nor an IPv6 form of one of these
/// (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let special = a == 0 // "this network"
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168)
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || a >= 224; // multicast, reserved, broadcast
    !special
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    // Forms that carry an IPv4 address: public only if that one is.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        // NAT64 (RFC 6052): the last 32 bits.
        return is_public_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    // Only global unicast (2000::/3) remains, less its special blocks.
    let global_unicast = (s[0] & 0xe000) == 0x2000;
    let special = match s[0] {
        // IETF protocol assignments (Teredo, ORCHID, …), documentation.
        0x2001 => s[1] < 0x0200 || s[1] == 0x0db8,
        0x2002 => true,          // 6to4
        0x3fff => s[1] < 0x1000, // documentation
        _ => false,
    };
    global_unicast && !special
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(list: &[&str]) -> AllowHosts {
        let env = |k: &str| (k == "PUSH_ALLOW_HOSTS").then(|| list.join(","));
        crate::config::push::load(&env, std::path::Path::new("/nonexistent"), None)
            .unwrap()
            .allow_hosts
    }

    #[test]
    fn only_public_unicast_addresses_are_public() {
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "142.250.74.46",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "192.0.1.1",
            "198.20.0.1",
            "223.255.255.254",
            "2a00:1450:4001:82b::200a",
            "2001:4860:4860::8888",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
        for private in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "127.0.0.1",
            "127.255.255.254",
            "100.64.0.1",
            "100.127.255.255",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001::1",
            "2001:db8::1",
            "2001:10::1",
            "2002:7f00:1::1",
            "3fff::1",
            "100::1",
            "4000::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
    }

    #[test]
    fn endpoints_must_be_https_urls_to_public_addresses_unless_allowed() {
        let none = allow(&[]);
        let ok = Target::parse("https://fcm.googleapis.com/fcm/send/abc:def", &none).unwrap();
        assert!(!ok.allowed);
        assert_eq!(ok.host(), "fcm.googleapis.com:443");
        assert!(Target::parse("https://[2606:4700::1111]/x", &none).is_ok());
        for (bad, invalid) in [
            ("", true),
            ("/relative/path", true),
            ("ftp://push.example.com/x", true),
            ("javascript:alert(1)", true),
            ("https://user:pw@push.example.com/x", true),
            ("https://push.example.com/x#frag", true),
            ("http://push.example.com/x", false),
            ("https://127.0.0.1/x", false),
            ("https://[::1]:8443/x", false),
            ("https://169.254.169.254/latest/meta-data", false),
            ("https://[::ffff:127.0.0.1]/x", false),
            ("https://10.0.0.8:9000/x", false),
            ("https://0x7f.1/x", false),
            ("https://2130706433/x", false),
        ] {
            let refused = Target::parse(bad, &none).unwrap_err();
            assert_eq!(
                matches!(refused, Refusal::Invalid(_)),
                invalid,
                "{bad}: {refused}"
            );
        }
        let long = format!("https://push.example.com/{}", "a".repeat(MAX_ENDPOINT));
        assert!(matches!(
            Target::parse(&long, &none),
            Err(Refusal::Invalid(_))
        ));

        let some = allow(&["127.0.0.1:9000", "push.internal:8080"]);
        let local = Target::parse("http://127.0.0.1:9000/push/1", &some).unwrap();
        assert!(local.allowed);
        assert!(
            Target::parse("https://Push.Internal:8080/p", &some)
                .unwrap()
                .allowed
        );
        assert!(Target::parse("http://127.0.0.1:9001/push/1", &some).is_err());
        assert!(Target::parse("http://push.internal/p", &some).is_err());
    }

    #[tokio::test]
    async fn names_that_resolve_to_private_addresses_are_refused() {
        let none = allow(&[]);
        let refused = check_now("https://localhost:8443/push", &none)
            .await
            .unwrap_err();
        assert!(matches!(refused, Refusal::NotAllowed(_)), "{refused}");
        let refused = check_now("https://does-not-exist.invalid/push", &none)
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("does not resolve"),
            "{refused}"
        );
        let some = allow(&["localhost:8443"]);
        assert!(
            check_now("https://localhost:8443/push", &some)
                .await
                .is_ok()
        );
        let resolved = tokio::net::lookup_host(("localhost", 0)).await;
        assert!(resolved.is_ok());
        use http_client::dns::Resolve;
        let name: http_client::dns::Name = "localhost".parse().unwrap();
        let err = PublicOnly.resolve(name).await.err().unwrap();
        assert!(err.to_string().contains("no public address"), "{err}");
    }
}
