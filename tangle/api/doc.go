// Package api is the IRI-compatible HTTP JSON API of the local node
// (POST / on 127.0.0.1:14265 by default), and a Go [Client] for it.
//
// # Access control
//
// Every request needs the X-IOTA-API-Version header (any value). A client
// that is not on a loopback address must present the API token, as
// "Authorization: Bearer <token>" or, for unmodified @iota/core, HTTP Basic
// auth with user "token" and the token as password; otherwise it gets 401.
// Anonymous loopback callers may use the commands of Config.Allow (the
// read/store/broadcast set plus attachToTangle for legacy clients on the
// gateway itself); other commands get 403 "COMMAND x is not available on
// this node". Neighbor commands always need the token. A wrong token is
// always 401.
//
// # Errors
//
// As IRI: 400 {"error": ...} for bad input and state, 401/403 for access,
// 500 {"error": ..., "exception": ...} for internal faults, 503 for tip
// selection while not synced. Every response carries "duration" (ms).
// Bodies over Config.MaxBodyBytes get 400 "Request too long".
//
// # Caveats
//
// getBalances answers from the node's [node.Ledger] (zeros without a
// coordinator) and ignores tips and threshold; getInclusionStates ignores
// tips. attachToTangle runs one job at a time; interruptAttachingToTangle
// (and iota.go's interruptAttachToTangle) cancel only the caller's own job.
package api
