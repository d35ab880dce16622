package outbox

// SetHooks makes Run call attached between recording an attachment and
// submitting it, and submitted between submitting it and recording that
// (crash tests).
func SetHooks(o *Options, attached, submitted func()) {
	o.attachHook, o.submitHook = attached, submitted
}
