// Package milestonetest runs small coordinator networks for tests: a
// coordinator seed and its Merkle tree, a seed file, and members that run a
// node, gossip and a milestone [milestone.Tracker] on loopback, one of them
// issuing milestones. Packages that build on the tracker (snapshots, for
// one) add their components to a member with a [Setup].
//
// A [Coordinator] builds its tree once, on first use, and shares it with
// every [Network] made from it; a [Network] writes its own seed file in the
// test's temporary directory. Members stop at the end of the test (or on
// [gossiptest.Running.Stop]) and Start fails the test when a member cannot
// be set up.
//
// # Caveats
//
// Building the tree costs about 2^depth address derivations (seconds at
// depth 10, many more under the race detector), so test packages keep one
// Coordinator in a package-level variable. Production code must not import
// this package.
package milestonetest
