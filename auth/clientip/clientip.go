// Package clientip names the client of a request that reached the
// application through reverse proxies, for auth.Config.ClientKey, which
// throttles failed logins and sign-ups per client.
//
// Behind a proxy, every request arrives from the proxy's address: without
// this package all clients share one throttle record, and a single
// attacker locks everyone out. The address of the client is in the
// X-Forwarded-For (or RFC 7239 Forwarded) header, which each proxy
// appends the address of its peer to. Only the entries your own proxies
// added can be believed: a client can send the header with anything in
// it, and a proxy appends to what it received. So the client is the
// rightmost address in the header that is not one of your proxies, and a
// request whose peer is not one of your proxies (one that reached the
// application directly) is named by its connection's address, whatever
// its headers say.
//
//	clientKey, err := clientip.TrustedProxies("X-Forwarded-For", "10.0.0.0/8", "192.0.2.7")
//	...
//	a, err := auth.New[Profile](adapter, auth.Config{ClientKey: clientKey})
//
// Where the proxies' addresses are not known in advance (a cloud load
// balancer), TrustedHops counts them instead; it must then be impossible
// to reach the application other than through them.
//
// The parsing is github.com/realclientip/realclientip-go's, kept out of
// package auth so that applications that do not use it do not import it.
// Keys are made as auth.ClientAddress makes them: IPv4 addresses as they
// are, IPv6 addresses cut to their /64 network.
package clientip

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/realclientip/realclientip-go"

	"github.com/luciago/mongoauth/auth"
)

// TrustedProxies returns a ClientKey for an application behind proxies at
// the given addresses and CIDR ranges ("10.0.0.0/8", "2001:db8::/32",
// "192.0.2.7"), which append to header ("X-Forwarded-For" or "Forwarded"):
//
//   - a request whose peer is not one of them is named by its
//     connection's address: its forwarding headers are ignored;
//   - otherwise, by the rightmost address in header that is not one of
//     them;
//   - when there is none (no header, or only proxies in it: a request the
//     proxies made themselves), or the entry there is not an address, by
//     the peer's address.
//
// It never returns "" (which would exempt the request from throttling).
func TrustedProxies(header string, proxies ...string) (func(*http.Request) string, error) {
	if len(proxies) == 0 {
		return nil, errors.New("clientip: no trusted proxies")
	}
	ranges, err := realclientip.AddressesAndRangesToIPNets(proxies...)
	if err != nil {
		return nil, fmt.Errorf("clientip: trusted proxies: %w", err)
	}
	strategy, err := realclientip.NewRightmostTrustedRangeStrategy(header, ranges)
	if err != nil {
		return nil, fmt.Errorf("clientip: %w", err)
	}
	trusted := func(remoteAddr string) bool {
		ip := net.ParseIP(peerHost(remoteAddr))
		for _, r := range ranges {
			if ip != nil && r.Contains(ip) {
				return true
			}
		}
		return false
	}
	return func(r *http.Request) string {
		if !trusted(r.RemoteAddr) {
			return auth.ClientIP(r)
		}
		return key(strategy.ClientIP(r.Header, r.RemoteAddr), r)
	}, nil
}

// TrustedHops returns a ClientKey for an application that can be reached
// only through n proxies in a row, each appending to header
// ("X-Forwarded-For" or "Forwarded"): the client is the nth address from
// the right, the one the outermost proxy added. The peer cannot be
// checked, so a client that reaches the application without the proxies
// can name itself anything: prefer TrustedProxies where the proxies'
// addresses are known. A header with fewer than n addresses, or not an
// address there, gives the peer's address.
func TrustedHops(header string, n int) (func(*http.Request) string, error) {
	strategy, err := realclientip.NewRightmostTrustedCountStrategy(header, n)
	if err != nil {
		return nil, fmt.Errorf("clientip: %w", err)
	}
	return func(r *http.Request) string { return key(strategy.ClientIP(r.Header, r.RemoteAddr), r) }, nil
}

// Parse makes a ClientKey from a setting such as a command-line flag:
// a comma-separated list of proxy addresses and ranges (TrustedProxies),
// or "hops:N" (TrustedHops); "" means no proxy, auth.ClientIP.
func Parse(header, setting string) (func(*http.Request) string, error) {
	setting = strings.TrimSpace(setting)
	switch {
	case setting == "":
		return auth.ClientIP, nil
	case strings.HasPrefix(setting, "hops:"):
		n, err := strconv.Atoi(strings.TrimPrefix(setting, "hops:"))
		if err != nil {
			return nil, fmt.Errorf("clientip: %q: want hops:N", setting)
		}
		return TrustedHops(header, n)
	}
	var proxies []string
	for _, p := range strings.Split(setting, ",") {
		if p = strings.TrimSpace(p); p != "" {
			proxies = append(proxies, p)
		}
	}
	return TrustedProxies(header, proxies...)
}

// key turns the address a strategy found into a client key, or falls back
// to the peer's address.
func key(ip string, r *http.Request) string {
	if ip == "" {
		return auth.ClientIP(r)
	}
	host, _ := realclientip.SplitHostZone(ip)
	return auth.ClientAddress(host)
}

// peerHost is the host part of a RemoteAddr.
func peerHost(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	host, _ = realclientip.SplitHostZone(host)
	return host
}
