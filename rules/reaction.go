package rules

import "time"

// Message schemas exchanged with helper devices over MAM.
const (
	ReactionSchema = "tanglegate/reaction/v1" // gateway -> helper
	AnswerSchema   = "tanglegate/answer/v1"   // helper -> gateway
	AuditSchema    = "tanglegate/audit/v1"    // gateway's audit channel
)

// Answer statuses a helper sends.
const (
	AnswerAcknowledged = "acknowledged" // the helper has the reaction and is acting
	AnswerDone         = "done"         // the helper finished its action
	AnswerFailed       = "failed"       // the helper could not act
)

// Reaction is the message a helper receives when a rule fires (or escalates)
// and names it as a target.
type Reaction struct {
	Schema   string            `json:"schema"`
	Reaction string            `json:"reaction"` // "rule#firing": quote it in answers
	Rule     string            `json:"rule"`
	Event    EventKind         `json:"event"`
	Severity Severity          `json:"severity"`
	Gateway  string            `json:"gateway"`
	Devices  map[string]string `json:"devices,omitempty"` // device name -> identity ID
	Values   map[string]any    `json:"values,omitempty"`
	Action   string            `json:"action,omitempty"`
	Params   map[string]any    `json:"params,omitempty"`
	Deadline time.Time         `json:"deadline,omitzero"` // answer before this, or the gateway escalates
	At       time.Time         `json:"at"`
}

// Answer is a helper's reply on its own channel.
type Answer struct {
	Schema   string    `json:"schema"`
	Reaction string    `json:"reaction"`
	Helper   string    `json:"helper"`
	Status   string    `json:"status"` // acknowledged, done or failed
	Detail   string    `json:"detail,omitempty"`
	At       time.Time `json:"at"`
}

// Audit is one entry of the gateway's audit channel: every firing and every
// outcome, in order, signed (tamper-evident history).
type Audit struct {
	Schema   string         `json:"schema"`
	Reaction string         `json:"reaction"`
	Rule     string         `json:"rule"`
	Event    string         `json:"event"` // fired, unacknowledged, escalated, resolved, delivered, acknowledged, done, failed
	Severity Severity       `json:"severity,omitempty"`
	Actions  []string       `json:"actions,omitempty"`
	Helper   string         `json:"helper,omitempty"`
	Detail   string         `json:"detail,omitempty"`
	Values   map[string]any `json:"values,omitempty"`
	At       time.Time      `json:"at"`
}
