# "May this person see this camera's footage of this moment, now?" (R8), for VMS integrations.
# The registry is data (loaded once: data.cctv_registry, with data.cctv_registry.by_recipient
# an index person -> request ids, and valid_approvals {request id: true}, the set
# data.cctv.approvals.valid computed once over the registry); the question is input:
# {principal, camera, at, now}.
package cctv.authz

import rego.v1

import data.cctv.lib

# Every lookup below is a direct reference into data.cctv_registry: binding the whole registry
# (or passing a large part of it to a builtin) would copy it on every call.

default allow := false

allow if decision.allow

decision := {"allow": true, "request": id, "reason": reason} if {
	some id in allowing
	reason := sprintf("approved request %s grants %s %s footage from %s to %s until %s", [
		id, input.principal, input.camera, scope(id).from, scope(id).to, scope(id).ends,
	])
} else := {"allow": false, "reason": denial}

# Candidate requests come from the index of each person's requests by the cameras they ask
# for (a decision may narrow the cameras, never add one), so a call costs what one person's
# requests of this camera cost, not what the whole registry costs. The approved cameras are
# still tested, and each time in the question is parsed once per query.
allowing contains id if {
	some id in data.cctv_registry.by_recipient_camera[input.principal][input.camera]
	data.cctv_registry.valid_approvals[id]
	data.cctv_registry.decisions[id].decision == "approved"
	input.camera in object.get(decision_of(id), ["scope", "cameras"], request_of(id).footage.cameras)
	s := scope(id)
	time.parse_rfc3339_ns(s.from) <= at_ns
	at_ns < time.parse_rfc3339_ns(s.to)
	time.parse_rfc3339_ns(s.starts) <= lib.now_ns
	lib.now_ns < time.parse_rfc3339_ns(s.ends)
}

at_ns := time.parse_rfc3339_ns(input.at)

scope(id) := {
	"cameras": object.get(decision_of(id), ["scope", "cameras"], request_of(id).footage.cameras),
	"from": object.get(decision_of(id), ["scope", "from"], request_of(id).footage.from),
	"to": object.get(decision_of(id), ["scope", "to"], request_of(id).footage.to),
	"starts": object.get(decision_of(id), ["scope", "starts"], request_of(id).use.starts),
	"ends": object.get(decision_of(id), ["scope", "ends"], request_of(id).use.ends),
}

decision_of(id) := data.cctv_registry.decisions[id]

request_of(id) := data.cctv_registry.requests[id]

denial := "no valid approval of a request of this person covers this camera at that time during its use period" if {
	data.cctv_registry.by_recipient[input.principal]
} else := sprintf("%s is not a recipient of any request", [input.principal])
