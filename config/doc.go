// Package config is the schema of /etc/tanglegate/gateway.yaml: plain structs
// with defaults ([Default]), strict decoding (unknown keys are errors) and
// Validate methods that report every problem at once with its field path.
// [Load] adds file:line:col to each problem from the YAML document.
//
// Adapters, the node, the rules engine and the rest take the parts of [Config]
// they need; only cmd/gateway reads files.
package config
