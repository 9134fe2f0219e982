package cctv.register_due_test

import rego.v1

import data.cctv.fixtures as fx
import data.cctv.register_due
import data.cctv.register_test

entry := register_test.entry

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
