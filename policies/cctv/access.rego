# "May this person see this camera's footage of this moment?" (R8) as a function of the
# question and of the moment it is asked: decision(q, person, now_ns). It reads no input and no
# clock, so it answers only what its caller passes. Two packages call it:
# - cctv.authz (serve, authorize) with input.now, which the embedded engine sets from the
#   machine's clock, or from --now for a replay;
# - cctv.fleet (OPA servers loading the bundle) with the OPA server's own clock, never a
#   caller's "now".
# q is {principal, camera, at}; person is the key of q.principal in the registry's indexes
# (the id itself for serve, its SHA-256 in the fleet's bundle).
# The registry is data.cctv_registry: by_recipient (person -> request ids), by_recipient_camera
# (person -> camera -> request ids), valid_approvals {request id: true}, approved_scopes
# {request id: scope} (computed once over the registry by data.cctv.approvals) and
# decisions[id].decision.
package cctv.access

import rego.v1

# Every lookup below is a direct reference into data.cctv_registry: binding the whole registry
# (or passing a large part of it to a builtin) would copy it on every call.

# One answer even when several approvals allow: the smallest request id.
decision(q, person, now_ns) := {"allow": true, "request": id, "reason": reason} if {
	ids := allowing(q, person, now_ns)
	count(ids) > 0
	id := min(ids)
	s := data.cctv_registry.approved_scopes[id]
	reason := sprintf("approved request %s grants %s %s footage from %s to %s until %s", [
		id, q.principal, q.camera, s.from, s.to, s.ends,
	])
} else := {"allow": false, "reason": denial(q, person)}

# Candidate requests come from the index of each person's requests by the cameras they ask
# for (a decision may narrow the cameras, never add one), so a call costs what one person's
# requests of this camera cost, not what the whole registry costs. Each candidate's approved
# scope was computed once with the registry; the approval's validity and the decision itself
# are still tested here.
allowing(q, person, now_ns) := {id |
	at_ns := time.parse_rfc3339_ns(q.at)
	some id in data.cctv_registry.by_recipient_camera[person][q.camera]
	data.cctv_registry.valid_approvals[id]
	data.cctv_registry.decisions[id].decision == "approved"
	s := data.cctv_registry.approved_scopes[id]
	q.camera in s.cameras
	s.from_ns <= at_ns
	at_ns < s.to_ns
	s.starts_ns <= now_ns
	now_ns < s.ends_ns
}

denial(q, person) := "no valid approval of a request of this person covers this camera at that time during its use period" if {
	data.cctv_registry.by_recipient[person]
} else := sprintf("%s is not a recipient of any approved request", [q.principal])

# "May this person see ALL of this camera's footage from q.from to q.to, now?" (the viewing
# point: a recording, a clip or a segment spans time). q is {principal, camera, from, to}: one
# approval must cover the whole span [from, to) (never a patchwork of several), for a recipient,
# during its use period. q.listing (no from/to) asks for a listing of what exists of the camera:
# it reveals no footage, only when there is some, so an approval of that camera in use suffices.
covers(q, person, now_ns) := {"allow": true, "request": id, "reason": reason} if {
	ids := covering(q, person, now_ns)
	count(ids) > 0
	id := min(ids)
	s := data.cctv_registry.approved_scopes[id]
	reason := sprintf("approved request %s grants %s %s footage from %s to %s until %s", [
		id, q.principal, q.camera, s.from, s.to, s.ends,
	])
} else := {"allow": false, "reason": span_denial(q, person)}

covering(q, person, now_ns) := {id |
	some id in data.cctv_registry.by_recipient_camera[person][q.camera]
	data.cctv_registry.valid_approvals[id]
	data.cctv_registry.decisions[id].decision == "approved"
	s := data.cctv_registry.approved_scopes[id]
	q.camera in s.cameras
	s.starts_ns <= now_ns
	now_ns < s.ends_ns
	spanned(q, s)
}

# Times are parsed only when they are text: a builtin's type error is an error for a strict
# evaluator (the embedded engine) and undefined for `opa run`; both must deny alike.
spanned(q, s) if {
	is_string(q.from)
	is_string(q.to)
	from_ns := time.parse_rfc3339_ns(q.from)
	to_ns := time.parse_rfc3339_ns(q.to)
	from_ns < to_ns
	s.from_ns <= from_ns
	to_ns <= s.to_ns
}

spanned(q, _) if {
	q.listing == true
	not q.from
	not q.to
}

span_denial(q, person) := "no valid approval of a request of this person covers all of this footage of this camera during its use period" if {
	data.cctv_registry.by_recipient[person]
} else := sprintf("%s is not a recipient of any approved request", [q.principal])
