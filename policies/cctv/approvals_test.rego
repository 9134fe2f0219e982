package cctv.approvals_test

import rego.v1

import data.cctv.approvals
import data.cctv.fixtures as fx

valid_with(change) := v if {
	v := approvals.valid with input as fx.changed(change)
}

test_clean_approval_is_valid if {
	v := approvals.valid with input as fx.base
	v == {"REQ-1"}
}

test_stale_approval_is_not_valid if {
	v := valid_with({"request_sha256": {"REQ-1": fx.other_digest}})
	count(v) == 0
}

test_self_approval_is_not_valid if count(valid_with({"decisions": {"REQ-1": {"decided_by": "app"}}})) == 0

test_decider_outside_security_office_is_not_valid if {
	count(valid_with({"decisions": {"REQ-1": {"decided_by": "tech"}}})) == 0
}

test_widened_scope_is_not_valid if {
	count(valid_with({"decisions": {"REQ-1": {"scope": {"cameras": ["CAM-1", "CAM-2"]}}}})) == 0
}

test_request_breaking_the_rule_book_is_not_valid if {
	count(valid_with({"requests": {"REQ-1": {"purpose": {"category": "curiosity"}}}})) == 0
}

test_camera_in_a_private_area_makes_the_approval_invalid if {
	count(valid_with({"cameras": {"CAM-1": {"zone": "restroom"}}})) == 0
}

test_rejection_is_never_valid if count(valid_with({"decisions": {"REQ-1": {"decision": "rejected"}}})) == 0

test_warnings_do_not_invalidate if {
	# REPORT_OVERDUE is a warning: the use period ended long ago and no report is in.
	v := valid_with({"now": "2027-06-01T00:00:00Z"})
	v == {"REQ-1"}
}

test_invalid_reasons_name_the_codes if {
	r := approvals.invalid_reasons with input as fx.changed({"decisions": {"REQ-1": {"decided_by": "app"}}})
	"DECISION_SELF_APPROVAL" in r["REQ-1"]
}

test_approved_scopes_cover_exactly_the_valid_approvals if {
	scopes := approvals.approved_scopes with input as fx.base
	object.keys(scopes) == {"REQ-1"}
	s := scopes["REQ-1"]
	s.from == fx.base.requests["REQ-1"].footage.from
	s.ends_ns == time.parse_rfc3339_ns(fx.base.requests["REQ-1"].use.ends)
	stale := approvals.approved_scopes with input as fx.changed({"request_sha256": {"REQ-1": fx.other_digest}})
	count(stale) == 0
}

test_approved_scope_is_narrowed_by_the_decision if {
	narrowed := fx.changed({"decisions": {"REQ-1": {"scope": {"starts": "2026-11-21T00:00:00Z"}}}})
	s := approvals.approved_scopes["REQ-1"] with input as narrowed
	s.starts == "2026-11-21T00:00:00Z"
	s.starts_ns == time.parse_rfc3339_ns("2026-11-21T00:00:00Z")
}

in_force_with(change) := f if {
	f := approvals.in_force with input as fx.changed(change)
}

test_clean_decision_is_in_force if in_force_with({}) == {"REQ-1"}

test_rejection_by_a_non_officer_is_not_in_force if {
	count(in_force_with({"decisions": {"REQ-1": {"decision": "rejected", "decided_by": "tech"}}})) == 0
}

test_stale_rejection_is_not_in_force if {
	count(in_force_with({"decisions": {"REQ-1": {"decision": "rejected"}}, "request_sha256": {"REQ-1": fx.other_digest}})) == 0
}

test_rejection_before_submission_is_not_in_force if {
	count(in_force_with({"decisions": {"REQ-1": {"decision": "rejected", "decided_at": "2026-11-19T00:00:00Z"}}})) == 0
}
