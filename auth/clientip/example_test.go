package clientip_test

import (
	"log"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/auth/clientip"
)

// Behind load balancers in 10.0.0.0/8, each appending the address of its
// peer to X-Forwarded-For, the throttle counts per client again; a client
// that reaches the application directly is named by its own address.
func ExampleTrustedProxies() {
	clientKey, err := clientip.TrustedProxies("X-Forwarded-For", "10.0.0.0/8")
	if err != nil {
		log.Fatal(err)
	}
	config := auth.Config{ClientKey: clientKey}
	_ = config // auth.New[Profile](adapter, config)
}
