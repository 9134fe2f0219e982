package cctv.requests_test

import rego.v1

import data.cctv.fixtures as fx
import data.cctv.requests

flagged(change, code) if {
	vs := requests.violations with input as fx.changed(change)
	fx.has_code(vs, code)
}

clean(code) if {
	vs := requests.violations with input as fx.base
	not fx.has_code(vs, code)
}

test_not_in_advance_flagged if flagged({"requests": {"REQ-1": {"submitted_at": "2026-11-21T00:00:00Z", "footage": {"to": "2026-11-18T08:00:00Z"}}}}, "REQUEST_NOT_IN_ADVANCE")

test_in_advance_passes if clean("REQUEST_NOT_IN_ADVANCE")

test_reversed_footage_window_flagged if flagged({"requests": {"REQ-1": {"footage": {"from": "2026-11-18T09:00:00Z"}}}}, "REQUEST_WINDOW_INVALID")

test_reversed_use_period_flagged if flagged({"requests": {"REQ-1": {"use": {"ends": "2026-11-20T12:00:00Z"}}}}, "REQUEST_WINDOW_INVALID")

test_footage_after_submission_flagged if flagged({"requests": {"REQ-1": {"footage": {"to": "2026-11-20T08:00:00Z"}}}}, "REQUEST_WINDOW_INVALID")

test_valid_windows_pass if clean("REQUEST_WINDOW_INVALID")

test_footage_beyond_retention_flagged if flagged({"requests": {"REQ-1": {"footage": {"from": "2026-10-20T23:59:59Z"}}}}, "REQUEST_FOOTAGE_BEYOND_RETENTION")

test_footage_exactly_at_retention_passes if {
	vs := requests.violations with input as fx.changed({"requests": {"REQ-1": {"footage": {"from": "2026-10-21T00:00:00Z"}}}})
	not fx.has_code(vs, "REQUEST_FOOTAGE_BEYOND_RETENTION")
}

test_use_too_long_flagged if flagged({"requests": {"REQ-1": {"use": {"ends": "2026-12-21T00:00:01Z"}}}}, "REQUEST_USE_TOO_LONG")

test_use_of_exactly_max_days_passes if {
	vs := requests.violations with input as fx.changed({"requests": {"REQ-1": {"use": {"ends": "2026-12-21T00:00:00Z"}}}})
	not fx.has_code(vs, "REQUEST_USE_TOO_LONG")
}

test_purpose_not_allowed_flagged if flagged({"requests": {"REQ-1": {"purpose": {"category": "curiosity"}}}}, "REQUEST_PURPOSE_NOT_ALLOWED")

test_allowed_purpose_passes if clean("REQUEST_PURPOSE_NOT_ALLOWED")

test_share_external_without_third_party_flagged if flagged({"requests": {"REQ-1": {"use": {"mode": "share_external"}}}}, "REQUEST_THIRD_PARTY_WITHOUT_BASIS")

test_share_external_with_blank_basis_flagged if flagged(
	{"requests": {"REQ-1": {"use": {"mode": "share_external", "third_party": {"organization": "Police", "legal_basis": "  "}}}}},
	"REQUEST_THIRD_PARTY_WITHOUT_BASIS",
)

test_third_party_with_internal_mode_flagged if flagged(
	{"requests": {"REQ-1": {"use": {"third_party": {"organization": "Police", "legal_basis": "Case", "case_number": "1"}}}}},
	"REQUEST_THIRD_PARTY_WITHOUT_BASIS",
)

test_share_external_with_legal_basis_passes if {
	change := {"requests": {"REQ-1": {"use": {"mode": "share_external", "third_party": {"organization": "Police", "legal_basis": "Criminal case filing", "case_number": "HD-1"}}}}}
	vs := requests.violations with input as fx.changed(change)
	not fx.has_code(vs, "REQUEST_THIRD_PARTY_WITHOUT_BASIS")
}

# REQ-1's report is due 2026-12-05 (use ends 2026-11-28 + 7 days) and never came in.
late_applicant := {"requests": {"REQ-2": {
	"id": "REQ-2", "applicant": "app", "unit": "library", "submitted_at": "2026-12-10T00:00:00Z",
	"purpose": {"category": "incident_investigation", "description": "Another"},
	"footage": {"cameras": ["CAM-1"], "from": "2026-12-08T00:00:00Z", "to": "2026-12-08T01:00:00Z"},
	"use": {"mode": "view_supervised", "recipients": ["app"], "starts": "2026-12-11T00:00:00Z", "ends": "2026-12-12T00:00:00Z"},
}}}

test_new_request_while_report_overdue_flagged if {
	vs := requests.violations with input as fx.changed(late_applicant)
	some v in vs
	v.code == "REQUEST_APPLICANT_REPORT_OVERDUE"
	v.id == "REQ-2"
}

test_new_request_after_report_came_in_passes if {
	report := {"REQ-1": {"request": "REQ-1", "submitted_by": "app", "submitted_at": "2026-12-09T00:00:00Z", "summary": "s", "copies": "destroyed"}}
	vs := requests.violations with input as fx.changed(object.union(late_applicant, {"reports": report}))
	not fx.has_code(vs, "REQUEST_APPLICANT_REPORT_OVERDUE")
}

test_new_request_before_report_due_passes if {
	early := {"requests": {"REQ-2": {"submitted_at": "2026-12-01T00:00:00Z", "footage": {"from": "2026-11-30T00:00:00Z", "to": "2026-11-30T01:00:00Z"}}}}
	vs := requests.violations with input as fx.changed(object.union(late_applicant, early))
	not fx.has_code(vs, "REQUEST_APPLICANT_REPORT_OVERDUE")
}

test_other_applicant_not_blocked if {
	vs := requests.violations with input as fx.changed(object.union(late_applicant, {"requests": {"REQ-2": {"applicant": "app2", "use": {"recipients": ["app2"]}}}}))
	not fx.has_code(vs, "REQUEST_APPLICANT_REPORT_OVERDUE")
}

test_unit_mismatch_flagged if flagged({"requests": {"REQ-1": {"unit": "teaching"}}}, "REQUEST_UNIT_MISMATCH")

test_applicants_own_unit_passes if clean("REQUEST_UNIT_MISMATCH")
