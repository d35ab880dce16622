// Package serial reads instruments that write frames on a serial line
// (scales, meters, barcode readers) with github.com/tarm/serial.
//
// A [Framer] splits the byte stream at a delimiter or into fixed-length
// frames; a [Parser] turns each frame into named fields (regex named groups,
// a JSON object, key=value pairs, or the whole frame). Frames that cannot be
// parsed, and runs of bytes longer than max_frame without a delimiter, are
// garbage: counted, logged, recorded in the device's health and skipped.
//
// # Caveats
//
// When a USB adapter disappears, Run returns and [adapters.Supervise] reopens
// the port when it is back. Frames in flight at that moment are lost.
package serial
