// Package identity gives every field device a stable tangle identity
// (Identity of Things).
//
// A device is known by its [Key] (adapter, bus address, unit). Its seed is
// derived from the gateway seed and the key ([DeviceSeed]), so the same
// device on the same gateway always gets the same identity, across restarts
// and reinstalls that keep the seed. The identity's ID is the root of the
// first tree of the device's public MAM channel: anyone holding the ID can
// follow the channel from there and read the identity document and every
// state update, each one signed.
//
// The derivation and the message formats are pure ([DeviceSeed], [ID],
// [Document], [Update], [Encode]); the [Registry] keeps what was published
// in the "identity" bucket of the gateway database and publishes through a
// crash-safe MAM channel store.
//
// # Caveats
//
// Changing the gateway seed changes every device identity. Back the seed up
// (`tanglegate seed backup`) before replacing a gateway's storage.
package identity
