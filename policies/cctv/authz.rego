# "May this person see this camera's footage of this moment, now?" (R8), for VMS integrations.
# The registry is data (loaded once: data.cctv_registry, with data.cctv_registry.by_recipient
# an index person -> request ids); the question is input: {principal, camera, at, now}.
package cctv.authz

import rego.v1

import data.cctv.lib

reg := data.cctv_registry

default allow := false

allow if decision.allow

decision := {"allow": true, "request": id, "reason": reason} if {
	some id in allowing
	reason := sprintf("approved request %s grants %s %s footage from %s to %s until %s", [
		id, input.principal, input.camera, scope(id).from, scope(id).to, scope(id).ends,
	])
} else := {"allow": false, "reason": denial}

# Candidate requests come from the recipient index, so a call costs what one person's
# requests cost, not what the whole registry costs.
allowing contains id if {
	some id in object.get(reg.by_recipient, input.principal, [])
	reg.decisions[id].decision == "approved"
	s := scope(id)
	input.camera in s.cameras
	at := lib.ns(input.at)
	lib.ns(s.from) <= at
	at < lib.ns(s.to)
	now := lib.ns(input.now)
	lib.ns(s.starts) <= now
	now < lib.ns(s.ends)
}

scope(id) := {
	"cameras": object.get(reg.decisions[id], ["scope", "cameras"], reg.requests[id].footage.cameras),
	"from": object.get(reg.decisions[id], ["scope", "from"], reg.requests[id].footage.from),
	"to": object.get(reg.decisions[id], ["scope", "to"], reg.requests[id].footage.to),
	"starts": object.get(reg.decisions[id], ["scope", "starts"], reg.requests[id].use.starts),
	"ends": object.get(reg.decisions[id], ["scope", "ends"], reg.requests[id].use.ends),
}

denial := "no approved request of this person covers this camera at that time during its use period" if {
	count(object.get(reg.by_recipient, input.principal, [])) > 0
} else := sprintf("%s is not a recipient of any request", [input.principal])
