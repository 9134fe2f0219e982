package cctv.feedback_test

import rego.v1

import data.cctv.feedback
import data.cctv.fixtures as fx

# REQ-1 filed in the July-September period: the library owes feedback for "2026-07".
used_in_q3 := fx.changed({"requests": {"REQ-1": {"submitted_at": "2026-08-10T00:00:00Z"}}})

given := {"FB-1": {
	"id": "FB-1", "unit": "library", "period": "2026-07", "submitted_by": "app",
	"submitted_at": "2026-10-08T00:00:00Z", "summary": "One request, footage viewed once",
}}

test_the_last_completed_period_is_named_by_its_first_month if {
	feedback.last_period == "2026-07" with input as fx.base
	feedback.last_period == "2025-10" with input as object.union(fx.base, {"now": "2026-02-01T00:00:00Z"})
}

test_unit_that_used_footage_without_feedback_is_overdue if {
	vs := feedback.violations with input as used_in_q3
	some v in vs
	v.code == "FEEDBACK_OVERDUE"
	v.severity == "warning"
	v.id == "library"
}

test_feedback_given_clears_it if {
	vs := feedback.violations with input as object.union(used_in_q3, {"feedback": given})
	not fx.has_code(vs, "FEEDBACK_OVERDUE")
}

test_not_overdue_before_the_due_date if {
	vs := feedback.violations with input as object.union(used_in_q3, {"now": "2026-10-10T00:00:00Z"})
	not fx.has_code(vs, "FEEDBACK_OVERDUE")
}

test_unit_without_requests_in_the_period_owes_nothing if {
	vs := feedback.violations with input as fx.base
	not fx.has_code(vs, "FEEDBACK_OVERDUE")
}

test_period_not_starting_a_period_is_flagged if {
	vs := feedback.violations with input as fx.changed({"feedback": {"FB-1": object.union(given["FB-1"], {"period": "2026-08"})}})
	fx.has_code(vs, "FEEDBACK_PERIOD_INVALID")
}

test_period_starting_a_period_passes if {
	vs := feedback.violations with input as fx.changed({"feedback": given})
	not fx.has_code(vs, "FEEDBACK_PERIOD_INVALID")
}

test_unknown_submitter_is_a_reference_error if {
	vs := feedback.violations with input as fx.changed({"feedback": {"FB-1": object.union(given["FB-1"], {"submitted_by": "ghost"})}})
	fx.has_code(vs, "E_REFERENCE")
}
