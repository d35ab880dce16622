// Package mqtt reads devices that publish to an MQTT broker. One [Adapter]
// holds one broker connection (TLS with a CA and client certificates,
// username/password from a file) and subscribes to topic filters with + and #
// wildcards. Each filter maps matching topics to devices and points through
// templates ({1} is the first wildcard's level) and reads payloads as JSON
// with paths ($.env.t), plain numbers or key=value lists.
//
// Malformed payloads are counted ([Adapter.Malformed]) and logged with their
// topic; they never stop the adapter. When the connection drops, Run returns
// and [adapters.Supervise] calls it again: every Run starts a clean session
// and subscribes to every filter anew, so a broker restart resubscribes.
//
// # Caveats
//
//   - QoS 1 gives at-least-once delivery from the broker to the gateway while
//     connected; messages published while the gateway is disconnected are lost
//     (clean sessions). The gateway's durable outbox starts after the adapter.
//   - JSON strings that parse as numbers are read as numbers.
package mqtt
