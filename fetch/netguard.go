package fetch

import "net/netip"

// The SSRF guard is an allow-list: an address is fetched only when it is
// globally routable unicast and in no IANA special-purpose block that is not
// globally reachable (IPv4: RFC 6890 and the iana-ipv4-special-registry; IPv6:
// the iana-ipv6-special-registry and the IPv6 address space, where only
// 2000::/3 is allocated as global unicast). Anything the tables below do not
// know is refused, so a new kind of address fails closed.

// nonGlobal4 are the IPv4 blocks refused although they are unicast-shaped.
// 192.0.0.0/24 is refused whole, including the globally reachable anycast
// addresses 192.0.0.9 (PCP) and 192.0.0.10 (TURN): none serves a JWKS.
var nonGlobal4 = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),          // "this network"
	netip.MustParsePrefix("10.0.0.0/8"),         // private
	netip.MustParsePrefix("100.64.0.0/10"),      // shared address space (carrier-grade NAT)
	netip.MustParsePrefix("127.0.0.0/8"),        // loopback
	netip.MustParsePrefix("169.254.0.0/16"),     // link-local: cloud metadata lives here
	netip.MustParsePrefix("172.16.0.0/12"),      // private
	netip.MustParsePrefix("192.0.0.0/24"),       // IETF protocol assignments, DS-Lite, NAT64 discovery
	netip.MustParsePrefix("192.0.2.0/24"),       // TEST-NET-1
	netip.MustParsePrefix("192.88.99.0/24"),     // 6to4 relay anycast (deprecated)
	netip.MustParsePrefix("192.168.0.0/16"),     // private
	netip.MustParsePrefix("198.18.0.0/15"),      // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"),    // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),     // TEST-NET-3
	netip.MustParsePrefix("224.0.0.0/4"),        // multicast
	netip.MustParsePrefix("240.0.0.0/4"),        // reserved
	netip.MustParsePrefix("255.255.255.255/32"), // limited broadcast (inside 240/4; listed for the reader)
}

// global6 is the only IPv6 space allocated as global unicast. Everything
// outside it is refused: ::/128, ::1, ::/96 IPv4-compatible, 64:ff9b:1::/48
// local-use NAT64, 100::/64 discard, 5f00::/16 SRv6, fc00::/7 ULA, fe80::/10
// link-local, fec0::/10 site-local, ff00::/8 multicast, and the reserved rest.
// IPv4-mapped and well-known-prefix NAT64 addresses are judged by the IPv4
// address they carry (see PublicAddress).
var global6 = netip.MustParsePrefix("2000::/3")

// nonGlobal6 are the blocks inside 2000::/3 that are not globally reachable.
// 2001::/23 is refused whole, Teredo (2001::/32) included, although a few
// anycast sub-blocks (2001:1::1..3, 2001:3::/32 AMT, 2001:4:112::/48 AS112,
// 2001:20::/28 ORCHIDv2, 2001:30::/28 DRIP) are globally reachable: none
// serves a JWKS, and Teredo embeds an IPv4 address the guard could not check.
var nonGlobal6 = []netip.Prefix{
	netip.MustParsePrefix("2001::/23"),     // IETF protocol assignments
	netip.MustParsePrefix("2001:db8::/32"), // documentation
	netip.MustParsePrefix("3fff::/20"),     // documentation (RFC 9637)
}

var (
	nat64WellKnown = netip.MustParsePrefix("64:ff9b::/96") // RFC 6052: the last 32 bits are IPv4
	sixToFour      = netip.MustParsePrefix("2002::/16")    // RFC 3056: bits 16..47 are IPv4
)

// PublicAddress reports whether addr is a globally routable unicast address
// that the SSRF guard lets outbound fetches reach. Forms that carry an IPv4
// address (IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96, 6to4 2002::/16) are
// public only when the IPv4 address they carry is.
func PublicAddress(addr netip.Addr) bool {
	if !addr.IsValid() || addr.Zone() != "" { // a zone only scopes non-global addresses
		return false
	}
	if addr.Is4In6() {
		return public4(addr.Unmap())
	}
	if addr.Is4() {
		return public4(addr)
	}
	b := addr.As16()
	switch {
	case nat64WellKnown.Contains(addr):
		return public4(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	case sixToFour.Contains(addr):
		return public4(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
	case !global6.Contains(addr):
		return false
	}
	for _, p := range nonGlobal6 {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

func public4(addr netip.Addr) bool {
	for _, p := range nonGlobal4 {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}
