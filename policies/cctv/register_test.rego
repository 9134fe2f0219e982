package cctv.register_test

import rego.v1

import data.cctv.fixtures as fx
import data.cctv.register
import data.cctv.register_due

entry := {
	"id": "VIO-1", "rule": "R6", "subject": "request:REQ-1", "person": "app",
	"found_by": "sec", "found_at": "2026-11-22T00:00:00Z",
	"description": "Shared a clip in a chat group", "action": "Clip deleted; written warning",
	"closed_at": "2026-11-23T00:00:00Z",
}

with_entry(change) := fx.changed({"violation_register": {"VIO-1": object.union(entry, change)}})

test_entry_by_the_security_office_passes if {
	count(register.violations) == 0 with input as with_entry({})
}

test_entry_by_someone_else_flagged if {
	vs := register.violations with input as with_entry({"found_by": "tech"})
	fx.has_code(vs, "VIOLATION_NOT_SECURITY_OFFICE")
}

test_closed_without_action_flagged if {
	vs := register.violations with input as fx.changed({"violation_register": {"VIO-1": object.remove(entry, ["action"])}})
	fx.has_code(vs, "VIOLATION_CLOSED_WITHOUT_ACTION")
}

test_open_entry_needs_no_action_yet if {
	open := object.remove(entry, ["action", "closed_at"])
	count(register.violations) == 0 with input as fx.changed({"violation_register": {"VIO-1": open}})
}

test_closed_before_found_flagged if {
	vs := register.violations with input as with_entry({"closed_at": "2026-11-21T00:00:00Z"})
	fx.has_code(vs, "VIOLATION_CLOSED_BEFORE_FOUND")
}

test_unknown_people_are_reference_errors if {
	vs := register.violations with input as with_entry({"found_by": "ghost", "person": "nobody"})
	count({v | some v in vs; v.code == "E_REFERENCE"}) == 2
}

# REQ-1 with a purpose the rule book does not allow: an error-level violation since 2026-11-20.
bad_request := {"requests": {"REQ-1": {"purpose": {"category": "curiosity"}}}}

test_detected_violation_unregistered_after_the_deadline_is_listed if {
	listed := register_due.unregistered with input as object.union(fx.changed(bad_request), {"now": "2026-12-01T00:00:00Z"})
	some item in listed
	item.code == "REQUEST_PURPOSE_NOT_ALLOWED"
	item.subject == "request:REQ-1"
	item.since == "2026-11-20T00:00:00Z"
}

test_detected_violation_within_the_deadline_is_not_listed_yet if {
	listed := register_due.unregistered with input as object.union(fx.changed(bad_request), {"now": "2026-11-21T00:00:00Z"})
	count(listed) == 0
}

test_registered_violation_is_not_listed if {
	listed := register_due.unregistered with input as object.union(fx.changed(bad_request), {"now": "2026-12-01T00:00:00Z", "violation_register": {"VIO-1": entry}})
	count(listed) == 0
}

test_warnings_are_not_listed if {
	count(register_due.unregistered) == 0 with input as fx.base
}
