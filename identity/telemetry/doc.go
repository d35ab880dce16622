// Package telemetry puts device readings on the tangle: each stream (one
// device, or a group of devices) has its own MAM channel, derived from the
// gateway seed and the stream name, in public, private or restricted mode.
// Its first root is published in the devices' identity documents.
//
// A [Stream] batches readings into messages by policy — at an interval, on a
// change beyond a deadband, at a maximum message size, at a maximum latency —
// and keeps closed batches in a durable queue (the "telemetry" bucket of the
// gateway database) until they are signed and handed to the node's queue.
// When proof-of-work or the network is slower than the devices the queue does
// not grow: once it holds max_queue batches, each new batch is coalesced into
// the newest queued one, which keeps one aggregate sample per point (last,
// min, max or mean, configurable). [Stats] counts what was coalesced; nothing
// accepted is dropped.
//
// # Message schema (version 1)
//
// A message is a JSON object (encoded to trytes with mam.EncodeJSON, so
// non-ASCII is escaped as \uXXXX). Keys are short because PoW is paid per
// 2187 trytes:
//
//	{
//	  "v": 1,                          schema version
//	  "gw": "plant-1",                 gateway name
//	  "st": "pump1",                   stream name
//	  "seq": 42,                       1, 2, 3, ... per stream, without gaps
//	  "t0": "2025-11-25T12:00:00.123456789Z",   base time (RFC 3339, ns)
//	  "co": 118,                       readings merged into aggregates (omitted when 0)
//	  "d": [                           devices, in order of first reading
//	    {"n": "pump1", "id": "ABC...9",        device name; identity ID (root of its identity channel)
//	     "p": [                                 points, in order of first reading
//	       {"n": "temperature", "u": "°C",      point name; unit (omitted when empty)
//	        "s": [[0, 21.5], [1000000000, 21.6, 1], [2000000000, 22, 0, 120, 1500000000]]}]}]
//	}
//
// Each sample is an array: [dt, value] or [dt, value, flags] or
// [dt, value, flags, n, dt_first].
//
//   - dt: nanoseconds after t0 (may be negative) of the reading's source
//     timestamp, or of the gateway's receive time when the bus has none
//     (flag 4).
//   - value: a JSON number, true/false or a string. Numbers that JSON cannot
//     hold (NaN, ±Inf) are the strings "NaN", "+Inf", "-Inf" with flag 8.
//   - flags: bits 0-1 quality (0 good, 1 uncertain, 2 bad); 4: the time is the
//     gateway's receive time; 8: value is a non-finite number.
//   - n, dt_first: an aggregate of n readings (n >= 2) made by coalescing,
//     from dt_first to dt. Its value follows the stream's policy; its time is
//     that of the last reading (last, mean) or of the extreme one (min, max).
//
// Samples of one point are in the order the gateway received them. Readers
// check "v" and must ignore unknown keys. [Decode] parses and checks a message;
// [Message.Readings] turns it back into readings.
//
// # Ordering and crash safety
//
// A batch is written to the queue (one bbolt transaction, fsynced) before it
// counts as accepted. Publishing takes the oldest batch, commits the
// channel's next key index with mam.Store.Next, removes the batch, then
// enqueues the bundle. If the process dies in between, the next start
// re-enqueues exactly the last signed message (mam.Store.Last), so an index
// is never reused nor skipped and the chain of next roots stays whole.
//
// # Caveats
//
//   - Channels use trees of one leaf (each message has its own root), so that
//     @iota/mam.js mamFetchAll, which reads one message per root, sees every
//     message.
//   - Readings still in the open batch (at most max_latency or
//     max_message_bytes of data) are lost on power loss; Run writes them to the
//     queue on a clean shutdown.
//   - A coalesced batch keeps one sample per point; a stream with more points
//     than fit in max_message_bytes then makes larger messages.
package telemetry
