// Package north publishes the gateway's readings and rule events to a
// northbound MQTT broker (paho.mqtt.golang v1.5.1): QoS 1 by default, TLS
// with a CA and client certificates, username and password from a file.
//
// Every message is first stored in the "northbound" bucket of the gateway
// database, then sent from there in order, so that nothing is lost while the
// broker is down: messages wait in bbolt and go out, oldest first, once it is
// back. A message leaves the store only when the broker acknowledged it
// (PUBACK for QoS 1).
//
// Reading payloads are JSON objects:
//
//	{"seq":1234,"gw":"plant-1","device":"pump1","point":"temperature",
//	 "value":21.5,"unit":"°C","quality":"good","ts":"2025-11-25T12:00:00.123Z"}
//
// seq increases by one per stored message (readings and events share it), ts
// is the source timestamp, or the gateway's receive time when the bus has
// none. Topics come from a template under the prefix
// ("<prefix>/{device}/{point}" by default; {gateway} too).
//
// # Duplicates
//
// QoS 1 is at-least-once: a message whose PUBACK was lost is sent again. Before
// a window of messages is sent, their attempt counts are saved; a message sent
// again carries "dup":true (readings, and events whose payload is a JSON
// object). A subscriber drops a dup whose seq it has already seen. "dup" means
// "may be a duplicate": a message that was in a window when the connection
// failed is flagged even if the broker never got it.
//
// # Caveats
//
//   - The store is bounded (MaxStored); beyond it the oldest messages are
//     dropped, counted in Stats.Dropped and logged.
//   - Readings handed to [Publisher.Reading] wait in a small in-memory buffer
//     until the next store write (a few milliseconds); Run writes them out on
//     shutdown.
//   - Event payloads that are not JSON objects are sent as they are; their
//     duplicates cannot be flagged.
package north
