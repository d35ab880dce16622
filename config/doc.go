// Package config is the schema of /etc/tanglegate/gateway.yaml: plain structs
// with defaults ([Default]), strict decoding (unknown keys are errors) and
// Validate methods that report every problem at once with its field path.
// [Load] adds file:line:col to each problem from the YAML document.
//
// Adapters, the node, the rules engine and the rest take the parts of [Config]
// they need; only cmd/gateway reads files. [Example] is the annotated example
// file that packaging installs; the field docs give every default.
//
// # Errors
//
// Every problem is a *[FieldError] printed as
//
//	gateway.yaml:12:7: devices[2].modbus.points[0].type: unknown type "flaot32" (did you mean "float32"?)
//
// The position is that of the value (of the key, for mappings and lists); a
// missing field is reported at its parent. Decoding problems (unknown keys,
// wrong types, bad durations) and Validate problems are reported together,
// sorted by position. Bus sections report theirs from Validate(path) with
// [Errorf], and use [Enum] or [Suggest] for "did you mean" hints.
//
// # The file
//
//   - Unknown keys are errors. Secrets are never inline: a key such as
//     password: where password_file: exists is an error that says so.
//   - Top-level keys starting with "x-" are ignored, so they can hold YAML
//     anchors for reuse with aliases and merge keys (<<: *defaults).
//   - ${NAME} is replaced by the environment variable NAME; an unset variable
//     is an error naming it; $${ is a literal ${. A number or boolean field
//     reads the substituted text as its type (mwm: ${MWM}). In flow mappings
//     ({ ... }) quote such values: "${NAME}".
//   - Relative paths are relative to the file's directory ([Config.Abs]).
//   - Device and point names are identifiers ([CheckIdent]): rules use them
//     in expressions as device.point, so "env-sensors" must be env_sensors.
//     Helper and gateway names may also contain '-' and '.'.
//
// # Caveats
//
// The decoder is this package's own walk over the goccy/go-yaml AST, so that
// it can report every problem at once; types with a goccy UnmarshalYAML
// method are handed to goccy's decoder (yaml.Strict()), which stops at its
// first problem within that value. Files are limited to [MaxFileSize] bytes
// and 100,000 nodes after alias expansion.
package config
