package config

import _ "embed"

//go:embed example.yaml
var example []byte

// Example returns the annotated example gateway.yaml that ships with the
// gateway (packaging installs it as /etc/tanglegate/gateway.yaml). It passes
// [Load] unchanged.
func Example() []byte {
	return append([]byte(nil), example...)
}
