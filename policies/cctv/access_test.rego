package cctv.access_test

import rego.v1

import data.cctv.access
import data.cctv.approvals
import data.cctv.fixtures as fx

# The decision is a function of the question and the moment: the moment is an argument, never
# read from the input or a clock.
scope := s if {
	s := approvals.scope_of("REQ-1") with input as fx.base
}

registry := {
	"approved_scopes": {"REQ-1": scope, "REQ-2": scope},
	"valid_approvals": {"REQ-1": true, "REQ-2": true},
	"decisions": {"REQ-1": {"decision": "approved"}, "REQ-2": {"decision": "approved"}},
	"by_recipient": {"key-of-app": ["REQ-2", "REQ-1"]},
	"by_recipient_camera": {"key-of-app": {"CAM-1": ["REQ-2", "REQ-1"]}},
}

question := {"principal": "app", "camera": "CAM-1", "at": "2026-11-18T07:00:00Z", "now": "2026-11-30T00:00:00Z"}

inside := time.parse_rfc3339_ns("2026-11-22T00:00:00Z")

after := time.parse_rfc3339_ns("2026-11-28T00:00:00Z")

decide(q, person, now_ns) := d if {
	d := access.decision(q, person, now_ns) with data.cctv_registry as registry
}

test_the_moment_passed_decides_not_the_inputs_now if {
	decide(question, "key-of-app", inside).allow == true
	decide(object.remove(question, ["now"]), "key-of-app", inside).allow == true
	decide(object.union(question, {"now": "2026-11-22T00:00:00Z"}), "key-of-app", after).allow == false
}

# Two approvals allow: one answer, the smallest request id (a function has one value).
test_several_approvals_allow_one_answer if decide(question, "key-of-app", inside).request == "REQ-1"

test_the_person_is_looked_up_by_the_key_given if {
	d := decide(question, "app", inside)
	not d.allow
	d.reason == "app is not a recipient of any approved request"
}

test_the_reason_names_the_request_and_what_it_grants if {
	reason := decide(question, "key-of-app", inside).reason
	contains(reason, "approved request REQ-1 grants app CAM-1 footage")
}

span := {"principal": "app", "camera": "CAM-1", "from": "2026-11-18T06:00:00Z", "to": "2026-11-18T08:00:00Z"}

covered(change, now_ns) := d if {
	d := access.covers(object.union(span, change), "key-of-app", now_ns) with data.cctv_registry as registry
}

test_the_whole_window_is_covered if {
	d := covered({}, inside)
	d.allow == true
	d.request == "REQ-1"
	contains(d.reason, "approved request REQ-1 grants app CAM-1 footage")
}

test_a_span_inside_the_window_is_covered if covered({"from": "2026-11-18T07:00:00Z", "to": "2026-11-18T07:01:00Z"}, inside).allow == true

test_a_span_that_ends_one_second_late_is_not if covered({"to": "2026-11-18T08:00:01Z"}, inside).allow == false

test_a_span_that_starts_one_second_early_is_not if covered({"from": "2026-11-18T05:59:59Z"}, inside).allow == false

test_an_empty_or_reversed_span_is_not if {
	covered({"to": "2026-11-18T06:00:00Z"}, inside).allow == false
	covered({"from": "2026-11-18T07:00:00Z", "to": "2026-11-18T06:30:00Z"}, inside).allow == false
}

test_no_span_at_all_is_not if covered({"from": null, "to": null}, inside).allow == false

test_a_span_after_the_use_period_is_not if covered({}, after).allow == false

test_another_camera_is_not if {
	d := covered({"camera": "CAM-2"}, inside)
	not d.allow
	contains(d.reason, "covers all of this footage")
}

test_a_stranger_is_not_a_recipient if {
	d := access.covers(span, "nobody", inside) with data.cctv_registry as registry
	d.reason == "app is not a recipient of any approved request"
}

listing := {"principal": "app", "camera": "CAM-1", "listing": true}

test_a_listing_needs_an_approval_of_the_camera_in_use if {
	access.covers(listing, "key-of-app", inside).allow with data.cctv_registry as registry
	not access.covers(listing, "key-of-app", after).allow with data.cctv_registry as registry
	not access.covers(object.union(listing, {"camera": "CAM-2"}), "key-of-app", inside).allow with data.cctv_registry as registry
}

test_a_listing_with_a_span_is_not_a_listing if {
	q := object.union(listing, {"from": "2026-11-01T00:00:00Z", "to": "2026-11-30T00:00:00Z"})
	not access.covers(q, "key-of-app", inside).allow with data.cctv_registry as registry
}
