package cctv.fleet_test

import rego.v1

import data.cctv.approvals
import data.cctv.fixtures as fx
import data.cctv.fleet

# The fleet's data as `cctv-policy bundle` writes it: only the valid approvals, person ids as
# their SHA-256, and the bundle's validity.
app := crypto.sha256("app")

scope := s if {
	s := approvals.scope_of("REQ-1") with input as fx.base
}

registry := {
	"approved_scopes": {"REQ-1": scope},
	"valid_approvals": {"REQ-1": true},
	"decisions": {"REQ-1": {"decision": "approved"}},
	"by_recipient": {app: ["REQ-1"]},
	"by_recipient_camera": {app: {"CAM-1": ["REQ-1"]}},
	"bundle": {"valid_until": "2026-11-23T00:00:00Z", "valid_until_ns": time.parse_rfc3339_ns("2026-11-23T00:00:00Z")},
}

question := {"principal": "app", "camera": "CAM-1", "at": "2026-11-18T07:00:00Z"}

server_clock := time.parse_rfc3339_ns("2026-11-22T00:00:00Z")

ask(change, clock) := d if {
	d := fleet.decision with data.cctv_registry as registry
		with input as object.union(question, change)
		with time.now_ns as clock
}

test_allowed_on_the_servers_clock_inside_the_use_period if {
	d := ask({}, server_clock)
	d.allow == true
	d.request == "REQ-1"
	fleet.allow with data.cctv_registry as registry with input as question with time.now_ns as server_clock
}

# The use period starts on 11-21; a caller sending a "now" inside it, while the server's clock
# says 11-20, is not heard.
test_a_callers_now_is_ignored if {
	d := ask({"now": "2026-11-22T00:00:00Z"}, time.parse_rfc3339_ns("2026-11-20T23:00:00Z"))
	d.allow == false
}

test_before_the_use_period_denied if ask({}, time.parse_rfc3339_ns("2026-11-20T23:00:00Z")).allow == false

test_other_camera_denied if {
	d := ask({"camera": "CAM-2"}, server_clock)
	not d.allow
	contains(d.reason, "no valid approval")
}

test_unknown_person_denied if {
	d := ask({"principal": "app2"}, server_clock)
	not d.allow
	d.reason == "app2 is not a recipient of any approved request"
}

test_an_expired_bundle_grants_nothing if {
	d := ask({}, time.parse_rfc3339_ns("2026-11-23T00:00:00Z"))
	not d.allow
	contains(d.reason, "expired at 2026-11-23T00:00:00Z")
	not fleet.allow with data.cctv_registry as registry with input as question
		with time.now_ns as time.parse_rfc3339_ns("2026-11-23T00:00:00Z")
}

test_a_bundle_without_validity_grants_nothing if {
	d := fleet.decision with data.cctv_registry as json.remove(registry, ["bundle"])
		with input as question
		with time.now_ns as server_clock
	not d.allow
	contains(d.reason, "no validity period")
}
