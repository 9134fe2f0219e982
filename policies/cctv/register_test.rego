package cctv.register_test

import rego.v1

import data.cctv.fixtures as fx
import data.cctv.register

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
