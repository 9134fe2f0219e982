# The decision OPA servers of the fleet serve (data.cctv.fleet.decision), from the bundle that
# `cctv-policy bundle` builds: the same decision as serve's (data.cctv.access), asked on the
# OPA server's own clock.
#
# This is the one policy that reads the clock (time.now_ns()), on purpose: an OPA server
# answers whoever can reach its Data API, and a caller who could send "now" could replay an
# ended use period (SPEC §4: a network caller never chooses now). The bundle ships this package
# and data.cctv.access only, so no path it offers reads input.now.
#
# The bundle is valid for a short time (data.cctv_registry.bundle.valid_until_ns, set by the
# publisher): an older bundle put back in place of a newer one, which may still hold an
# approval revoked since, grants nothing once its validity is over. Everything is denied
# then, until a fresh bundle is published.
#
# In the bundle, person ids are keyed by their SHA-256 (the Data API serves the data to
# whoever may read it); input.principal is the person id.
package cctv.fleet

import rego.v1

import data.cctv.access

default allow := false

allow if decision.allow

decision := access.decision(input, crypto.sha256(input.principal), time.now_ns()) if fresh

decision := {"allow": false, "reason": stale_reason} if not fresh

# time.now_ns() is the same for the whole of one query.
fresh if time.now_ns() < data.cctv_registry.bundle.valid_until_ns

stale_reason := sprintf("the policy bundle expired at %s: nothing is granted until a fresh bundle is published", [data.cctv_registry.bundle.valid_until]) if {
	data.cctv_registry.bundle.valid_until
} else := "the policy bundle carries no validity period: nothing is granted"
