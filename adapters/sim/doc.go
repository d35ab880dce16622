// Package sim holds simulated Modbus devices for the lab, tests and
// benchmarks: [Bank], a register map any test can fill; [Pump], a pump whose
// temperature and vibration follow its load and cooling; and [Server], which
// serves either over Modbus TCP with github.com/simonvetter/modbus in process.
//
// # Caveats
//
// The server stops accepting and closes client sockets on Close, but its
// per-connection goroutines (inside simonvetter/modbus) end on their own a
// moment later.
package sim
