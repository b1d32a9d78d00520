//! Which hosts and IP addresses are on the public internet: the pure half of the callback
//! guard (`callback::address`), used by settings validation on the URL and by the callback
//! resolver on every resolved address. Pure.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// True for addresses on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier-grade NAT)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240)
}

/// IPv6 outside the ranges that are local, or that embed an IPv4 address a gateway would reach
/// on Handoff's behalf (NAT64, 6to4, Teredo, IPv4-compatible): those are refused whole rather
/// than judged by the IPv4 inside, since which gateway translates them is not ours to know.
fn is_public_v6(ip: Ipv6Addr) -> bool {
    let [first, second, third, fourth, fifth, sixth, ..] = ip.segments();
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (first & 0xffc0) == 0xfe80 // link local fe80::/10
        || (first & 0xffc0) == 0xfec0 // site local fec0::/10 (deprecated, still routed inside some networks)
        || (first == 0x2001 && second == 0x0db8) // documentation 2001:db8::/32
        || (first == 0x2001 && second == 0) // Teredo 2001::/32
        || first == 0x2002 // 6to4 2002::/16
        || (first == 0x0064 && second == 0xff9b && third == 0 && fourth == 0 && fifth == 0 && sixth == 0) // NAT64 64:ff9b::/96
        || (first == 0x0064 && second == 0xff9b && third == 1) // local-use NAT64 64:ff9b:1::/48
        || (first == 0x0100 && second == 0 && third == 0 && fourth == 0) // discard-only 100::/64
        || (first == 0 && second == 0 && third == 0 && fourth == 0 && fifth == 0 && sixth == 0) // IPv4-compatible ::/96
        || (first == 0 && second == 0 && third == 0 && fourth == 0 && fifth == 0xffff && sixth == 0)) // IPv4-translated ::ffff:0:0/96
}

/// A host as written in a URL: an IP literal that is not public, or `localhost`.
pub fn is_local_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Ipv4(ip) => !is_public(IpAddr::V4(*ip)),
        url::Host::Ipv6(ip) => !is_public(IpAddr::V6(*ip)),
        url::Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
    }
}

/// A URL served over HTTPS, or over plain HTTP from this machine itself (`localhost`, a loopback
/// address): where keys or tokens may be fetched from, or sent to, without TLS.
pub fn is_https_or_loopback(url: &url::Url) -> bool {
    let loopback = match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    url.scheme() == "https" || (url.scheme() == "http" && loopback)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_link_local_and_metadata_addresses_are_not_public() {
        for local in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(local.parse().unwrap()), "{local}");
        }
        for public in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
        let local = |s: &str| is_local_host(&url::Url::parse(s).unwrap().host().unwrap());
        assert!(local("https://[64:ff9b::a9fe:a9fe]/x"));
        assert!(local("https://[::ffff:127.0.0.1]/x"));
        assert!(local("https://169.254.169.254/latest"));
        assert!(local("https://LOCALHOST/x"));
        assert!(local("https://[::1]/x"));
        assert!(!local("https://bot.example.com/x"));
    }

    /// IPv6 ranges that carry an IPv4 address or are obsolete local ones: each would let a
    /// callback reach an address the IPv4 checks refuse (NAT64 to 169.254.169.254, 6to4 to 10/8).
    #[test]
    fn ipv6_ranges_that_reach_local_networks_are_not_public() {
        for (range, local) in [
            ("NAT64 64:ff9b::/96", "64:ff9b::a9fe:a9fe"),
            ("NAT64 64:ff9b::/96, a public IPv4", "64:ff9b::808:808"),
            ("NAT64 local-use 64:ff9b:1::/48", "64:ff9b:1::a00:1"),
            ("IPv4-compatible ::/96", "::a9fe:a9fe"),
            ("IPv4-compatible ::/96, a public IPv4", "::808:808"),
            ("6to4 2002::/16", "2002:a00:1::1"),
            ("6to4 2002::/16, a public IPv4", "2002:808:808::1"),
            ("site-local fec0::/10", "fec0::1"),
            ("site-local fec0::/10, upper end", "feff:ffff::1"),
            ("Teredo 2001::/32", "2001:0:4136:e378:8000:63bf:3fff:fdd2"),
            ("discard-only 100::/64", "100::1"),
            ("IPv4-translated ::ffff:0:0/96", "::ffff:0:a9fe:a9fe"),
        ] {
            assert!(!is_public(local.parse().unwrap()), "{range}: {local}");
        }
        assert!(is_public("2a00:1450:4001::200e".parse().unwrap()), "an ordinary global address");
    }

    /// An IPv4-mapped address (`::ffff:a.b.c.d`) is judged as its IPv4 address, both ways.
    #[test]
    fn ipv4_mapped_addresses_are_judged_by_their_ipv4() {
        for (mapped, v4) in [
            ("::ffff:127.0.0.1", "127.0.0.1"),
            ("::ffff:169.254.169.254", "169.254.169.254"),
            ("::ffff:10.0.0.1", "10.0.0.1"),
            ("::ffff:100.64.0.1", "100.64.0.1"),
            ("::ffff:8.8.8.8", "8.8.8.8"),
            ("::ffff:1.1.1.1", "1.1.1.1"),
        ] {
            assert_eq!(is_public(mapped.parse().unwrap()), is_public(v4.parse().unwrap()), "{mapped}");
        }
    }

    #[test]
    fn https_anywhere_but_plain_http_only_from_this_machine() {
        let verdict = |url: &str| is_https_or_loopback(&url::Url::parse(url).unwrap());
        for yes in ["https://login.example.com", "http://localhost:8080/x", "http://127.0.0.1:9", "http://[::1]:9"] {
            assert!(verdict(yes), "{yes}");
        }
        for no in ["http://login.example.com", "http://10.0.0.1", "http://localhost.example.com", "ftp://127.0.0.1"] {
            assert!(!verdict(no), "{no}");
        }
    }
}
