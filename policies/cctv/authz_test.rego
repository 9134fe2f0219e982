package cctv.authz_test

import rego.v1

import data.cctv.approvals
import data.cctv.authz
import data.cctv.fixtures as fx

# The registry as serve loads it: the approved scope is computed from the registry by
# data.cctv.approvals, as authz.decide.registry_data does.
with_scopes(r) := object.union(r, {"approved_scopes": {"REQ-1": s}}) if {
	s := approvals.scope_of("REQ-1") with input as r
}

registry := with_scopes(object.union(fx.base, {
	"by_recipient": {"app": ["REQ-1"]},
	"by_recipient_camera": {"app": {"CAM-1": ["REQ-1"]}},
	"valid_approvals": {"REQ-1": true},
}))

question := {"principal": "app", "camera": "CAM-1", "at": "2026-11-18T07:00:00Z", "now": "2026-11-22T00:00:00Z"}

ask(change) := d if {
	d := authz.decision with data.cctv_registry as registry with input as object.union(question, change)
}

test_recipient_allowed_inside_scope_and_use_period if {
	d := ask({})
	d.allow == true
	d.request == "REQ-1"
}

test_other_camera_denied if ask({"camera": "CAM-2"}).allow == false

test_footage_outside_window_denied if ask({"at": "2026-11-18T08:00:00Z"}).allow == false

test_before_use_period_denied if ask({"now": "2026-11-20T23:00:00Z"}).allow == false

test_after_use_period_denied if ask({"now": "2026-11-28T00:00:00Z"}).allow == false

test_non_recipient_denied_with_reason if {
	d := ask({"principal": "app2"})
	not d.allow
	contains(d.reason, "not a recipient")
}

test_rejected_request_denied if {
	r := object.union(registry, {"decisions": {"REQ-1": {"decision": "rejected"}}})
	d := authz.decision with data.cctv_registry as r with input as question
	not d.allow
}

test_the_scope_is_the_narrowed_one if {
	registry.approved_scopes["REQ-1"].to == fx.base.requests["REQ-1"].footage.to
	r := with_scopes(object.union(registry, {"decisions": {"REQ-1": {"scope": {"to": "2026-11-18T06:30:00Z"}}}}))
	r.approved_scopes["REQ-1"].to == "2026-11-18T06:30:00Z"
	r.approved_scopes["REQ-1"].to_ns == time.parse_rfc3339_ns("2026-11-18T06:30:00Z")
}

# A stale scope (loaded before the decision was rejected) still allows nothing: the decision
# itself is read on every call.
test_rejected_after_the_scopes_were_computed_denied if {
	r := object.union(registry, {"decisions": {"REQ-1": {"decision": "rejected"}}})
	r.approved_scopes["REQ-1"]
	d := authz.decision with data.cctv_registry as r with input as question
	not d.allow
}

test_approval_that_is_not_valid_denied if {
	r := json.remove(registry, ["valid_approvals/REQ-1"])
	d := authz.decision with data.cctv_registry as r with input as question
	not d.allow
}

test_narrowed_scope_applies if {
	r := with_scopes(object.union(registry, {"decisions": {"REQ-1": {"scope": {"to": "2026-11-18T06:30:00Z"}}}}))
	d := authz.decision with data.cctv_registry as r with input as question
	not d.allow
}

test_allow_is_false_by_default if {
	not authz.allow with data.cctv_registry as registry with input as object.union(question, {"camera": "CAM-2"})
}

# A decision cannot add a camera (DECISION_SCOPE_WIDENED): one that tries is not found through
# the index of the cameras requested, so it allows nothing there.
test_camera_added_by_the_decision_denied if {
	r := with_scopes(object.union(registry, {"decisions": {"REQ-1": {"scope": {"cameras": ["CAM-1", "CAM-9"]}}}}))
	d := authz.decision with data.cctv_registry as r with input as object.union(question, {"camera": "CAM-9"})
	not d.allow
}

test_camera_narrowed_away_by_the_decision_denied if {
	r := with_scopes(object.union(registry, {"decisions": {"REQ-1": {"scope": {"cameras": ["CAM-2"]}}}}))
	d := authz.decision with data.cctv_registry as r with input as question
	not d.allow
}

# The viewing point's span question, on input.now.
span_question := {"principal": "app", "camera": "CAM-1", "from": "2026-11-18T07:00:00Z", "to": "2026-11-18T07:10:00Z", "now": "2026-11-22T00:00:00Z"}

test_coverage_of_a_span_inside_the_window if {
	d := authz.coverage with data.cctv_registry as registry with input as span_question
	d.allow == true
	d.request == "REQ-1"
}

test_coverage_after_the_use_period_denied if {
	q := object.union(span_question, {"now": "2026-11-28T00:00:00Z"})
	not authz.coverage.allow with data.cctv_registry as registry with input as q
}
