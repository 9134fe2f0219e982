# "May this person see this camera's footage of this moment, now?" (R8), as serve and
# authorize ask the embedded engine: the question is input {principal, camera, at, now}, where
# now comes from the machine's clock (serve) or from --now for a replay (authorize). The
# decision itself is data.cctv.access.decision. OPA servers of the fleet do not serve this
# package (the bundle leaves it out): they answer data.cctv.fleet, on their own clock.
package cctv.authz

import rego.v1

import data.cctv.access
import data.cctv.lib

default allow := false

allow if decision.allow

decision := access.decision(input, input.principal, lib.now_ns)

# The viewing point (GET /v1/forward-auth): all of a span of footage, {principal, camera, from,
# to, now}, or a listing of a camera, {principal, camera, listing: true, now}.
coverage := access.covers(input, input.principal, lib.now_ns)
