package fetch

import (
	"net/netip"
	"testing"
)

// TestPublicAddress walks every block the guard refuses, with an address
// inside it and, where a neighbour is public, one just outside it.
func TestPublicAddress(t *testing.T) {
	tests := []struct {
		block string // the IANA block the row is about
		addr  string
		want  bool
	}{
		// IPv4.
		{"public", "8.8.8.8", true},
		{"public", "1.1.1.1", true},
		{"0.0.0.0/8", "0.0.0.0", false},
		{"0.0.0.0/8", "0.255.255.255", false},
		{"0.0.0.0/8 (just outside)", "1.0.0.0", true},
		{"10.0.0.0/8", "10.0.0.1", false},
		{"10.0.0.0/8", "10.255.255.255", false},
		{"10.0.0.0/8 (just outside)", "11.0.0.0", true},
		{"10.0.0.0/8 (just below)", "9.255.255.255", true},
		{"100.64.0.0/10", "100.64.0.1", false},
		{"100.64.0.0/10", "100.127.255.255", false},
		{"100.64.0.0/10 (just below)", "100.63.255.255", true},
		{"100.64.0.0/10 (just outside)", "100.128.0.0", true},
		{"127.0.0.0/8", "127.0.0.1", false},
		{"127.0.0.0/8", "127.1.2.3", false},
		{"127.0.0.0/8 (just outside)", "128.0.0.0", true},
		{"169.254.0.0/16", "169.254.169.254", false}, // cloud metadata
		{"169.254.0.0/16 (just outside)", "169.255.0.0", true},
		{"172.16.0.0/12", "172.16.5.4", false},
		{"172.16.0.0/12", "172.31.255.255", false},
		{"172.16.0.0/12 (just below)", "172.15.255.255", true},
		{"172.16.0.0/12 (just outside)", "172.32.0.0", true},
		{"192.0.0.0/24", "192.0.0.1", false},
		{"192.0.0.0/24", "192.0.0.170", false}, // NAT64 discovery
		{"192.0.0.0/24 (just outside)", "192.0.1.0", true},
		{"192.0.2.0/24", "192.0.2.1", false},
		{"192.0.2.0/24 (just outside)", "192.0.3.0", true},
		{"192.88.99.0/24", "192.88.99.1", false},
		{"192.88.99.0/24 (just outside)", "192.88.100.0", true},
		{"192.168.0.0/16", "192.168.1.1", false},
		{"192.168.0.0/16 (just outside)", "192.169.0.0", true},
		{"198.18.0.0/15", "198.18.0.1", false},
		{"198.18.0.0/15", "198.19.255.255", false},
		{"198.18.0.0/15 (just below)", "198.17.255.255", true},
		{"198.18.0.0/15 (just outside)", "198.20.0.0", true},
		{"198.51.100.0/24", "198.51.100.7", false},
		{"198.51.100.0/24 (just outside)", "198.51.101.0", true},
		{"203.0.113.0/24", "203.0.113.9", false},
		{"203.0.113.0/24 (just outside)", "203.0.114.1", true},
		{"224.0.0.0/4 multicast", "224.0.0.1", false},
		{"224.0.0.0/4 multicast", "239.255.255.250", false},
		{"224.0.0.0/4 (just below)", "223.255.255.255", true},
		{"240.0.0.0/4", "240.0.0.1", false},
		{"255.255.255.255", "255.255.255.255", false},

		// IPv6 outside 2000::/3.
		{"public", "2606:4700::1111", true},
		{"public", "2404:6800:4006::200e", true},
		{"::/128", "::", false},
		{"::1/128", "::1", false},
		{"::/96 IPv4-compatible", "::7f00:1", false},
		{"::/96 IPv4-compatible of a public IPv4", "::808:808", false},
		{"::ffff:0:0/96 mapped loopback", "::ffff:127.0.0.1", false},
		{"::ffff:0:0/96 mapped metadata", "::ffff:169.254.1.1", false},
		{"::ffff:0:0/96 mapped private", "::ffff:10.1.2.3", false},
		{"::ffff:0:0/96 mapped public", "::ffff:8.8.8.8", true},
		{"64:ff9b::/96 NAT64 of metadata", "64:ff9b::a9fe:a9fe", false},
		{"64:ff9b::/96 NAT64 of loopback", "64:ff9b::127.0.0.1", false},
		{"64:ff9b::/96 NAT64 of a public IPv4", "64:ff9b::8.8.8.8", true},
		{"64:ff9b::/96 (just outside)", "64:ff9b:0:0:0:1::1", false}, // reserved, not global
		{"64:ff9b:1::/48 local-use NAT64", "64:ff9b:1::808:808", false},
		{"64:ff9b:1::/48 local-use NAT64", "64:ff9b:1::7f00:1", false},
		{"100::/64 discard-only", "100::1", false},
		{"100:0:0:1::/64 dummy prefix", "100:0:0:1::1", false},
		{"5f00::/16 SRv6 SIDs", "5f00::1", false},
		{"fc00::/7 ULA", "fc00::1", false},
		{"fc00::/7 ULA", "fd00:ec2::254", false}, // AWS IPv6 metadata
		{"fe80::/10 link-local", "fe80::1", false},
		{"fe80::/10 link-local with zone", "fe80::1%eth0", false},
		{"fec0::/10 site-local", "fec0::1", false},
		{"ff00::/8 multicast", "ff02::1", false},
		{"ff00::/8 multicast", "ff0e::1", false},
		{"2000::/3 (just below)", "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
		{"2000::/3 (just above)", "4000::1", false},
		{"2000::/3 first", "2000::1", true},
		{"2000::/3 last", "3ffe:ffff::1", true},

		// IPv6 inside 2000::/3.
		{"2001::/23 IETF protocol assignments", "2001::1", false},   // Teredo
		{"2001::/23 IETF protocol assignments", "2001:2::1", false}, // benchmarking
		{"2001::/23 IETF protocol assignments", "2001:10::1", false},
		{"2001::/23 IETF protocol assignments", "2001:1ff:ffff::1", false},
		{"2001::/23 (just outside)", "2001:200::1", true},
		{"2001:db8::/32 documentation", "2001:db8::1", false},
		{"2001:db8::/32 (just below)", "2001:db7:ffff::1", true},
		{"2001:db8::/32 (just outside)", "2001:db9::1", true},
		{"2002::/16 6to4 of metadata", "2002:a9fe:a9fe::1", false},
		{"2002::/16 6to4 of loopback", "2002:7f00:1::1", false},
		{"2002::/16 6to4 of private", "2002:c0a8:101::1", false},
		{"2002::/16 6to4 of a public IPv4", "2002:808:808::1", true},
		{"2002::/16 (just outside)", "2003::1", true},
		{"3fff::/20 documentation", "3fff::1", false},
		{"3fff::/20 (just below)", "3ffe:ffff::1", true},
	}
	for _, tc := range tests {
		t.Run(tc.block+" "+tc.addr, func(t *testing.T) {
			if got := PublicAddress(netip.MustParseAddr(tc.addr)); got != tc.want {
				t.Errorf("PublicAddress(%s) = %v, want %v", tc.addr, got, tc.want)
			}
		})
	}
	if PublicAddress(netip.Addr{}) {
		t.Error("the zero Addr is public")
	}
}
