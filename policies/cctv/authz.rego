# "May this person see this camera's footage of this moment, now?" (R8), for VMS integrations.
# The registry is data (loaded once: data.cctv_registry, with data.cctv_registry.by_recipient
# an index person -> request ids, by_recipient_camera person -> camera -> request ids,
# valid_approvals {request id: true} and approved_scopes {request id: scope}, computed once over
# the registry by data.cctv.approvals); the question is input: {principal, camera, at, now}.
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
# requests of this camera cost, not what the whole registry costs. Each candidate's approved
# scope was computed once with the registry (data.cctv.approvals.approved_scopes); the
# approval's validity and the decision itself are still tested here.
allowing contains id if {
	some id in data.cctv_registry.by_recipient_camera[input.principal][input.camera]
	data.cctv_registry.valid_approvals[id]
	data.cctv_registry.decisions[id].decision == "approved"
	s := data.cctv_registry.approved_scopes[id]
	input.camera in s.cameras
	s.from_ns <= at_ns
	at_ns < s.to_ns
	s.starts_ns <= lib.now_ns
	lib.now_ns < s.ends_ns
}

at_ns := time.parse_rfc3339_ns(input.at)

scope(id) := data.cctv_registry.approved_scopes[id]

denial := "no valid approval of a request of this person covers this camera at that time during its use period" if {
	data.cctv_registry.by_recipient[input.principal]
} else := sprintf("%s is not a recipient of any request", [input.principal])
