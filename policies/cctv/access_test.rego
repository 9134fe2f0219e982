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
