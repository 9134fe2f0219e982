package cctv.decisions_test

import rego.v1

import data.cctv.decisions
import data.cctv.fixtures as fx

flagged(change, code) if {
	vs := decisions.violations with input as fx.changed(change)
	fx.has_code(vs, code)
}

clean(code) if {
	vs := decisions.violations with input as fx.base
	not fx.has_code(vs, code)
}

test_decision_for_unknown_request_flagged if {
	orphan := {"request": "REQ-9", "decision": "approved", "decided_by": "sec", "decided_at": "2026-11-20T07:00:00Z", "reasons": []}
	flagged({"decisions": {"REQ-9": orphan}}, "DECISION_UNKNOWN_REQUEST")
}

test_decision_for_unreadable_request_not_reported_twice if {
	orphan := {"request": "REQ-9", "decision": "approved", "decided_by": "sec", "decided_at": "2026-11-20T07:00:00Z", "reasons": []}
	vs := decisions.violations with input as fx.changed({"decisions": {"REQ-9": orphan}, "unreadable": {"request": ["REQ-9"]}})
	not fx.has_code(vs, "DECISION_UNKNOWN_REQUEST")
}

test_decision_for_known_request_passes if clean("DECISION_UNKNOWN_REQUEST")

test_decision_by_non_security_office_flagged if flagged({"decisions": {"REQ-1": {"decided_by": "app2"}}}, "DECISION_NOT_SECURITY_OFFICE")

test_decision_by_security_office_passes if clean("DECISION_NOT_SECURITY_OFFICE")

test_self_approval_flagged if {
	change := {"people": {"app": {"roles": ["applicant", "security_office"]}}, "decisions": {"REQ-1": {"decided_by": "app"}}}
	flagged(change, "DECISION_SELF_APPROVAL")
}

test_approval_by_recipient_flagged if {
	change := {"requests": {"REQ-1": {"use": {"recipients": ["app", "sec"]}}}}
	flagged(change, "DECISION_SELF_APPROVAL")
}

test_approval_by_other_officer_passes if clean("DECISION_SELF_APPROVAL")

test_rejection_without_reason_flagged if flagged({"decisions": {"REQ-1": {"decision": "rejected", "reasons": ["   "]}}}, "DECISION_REJECTION_WITHOUT_REASON")

test_rejection_with_reason_passes if {
	vs := decisions.violations with input as fx.changed({"decisions": {"REQ-1": {"decision": "rejected", "reasons": ["Purpose is too vague"]}}})
	not fx.has_code(vs, "DECISION_REJECTION_WITHOUT_REASON")
}

test_scope_adding_camera_flagged if flagged({"decisions": {"REQ-1": {"scope": {"cameras": ["CAM-1", "CAM-2"]}}}}, "DECISION_SCOPE_WIDENED")

test_scope_earlier_footage_flagged if flagged({"decisions": {"REQ-1": {"scope": {"from": "2026-11-18T05:00:00Z"}}}}, "DECISION_SCOPE_WIDENED")

test_scope_later_use_end_flagged if flagged({"decisions": {"REQ-1": {"scope": {"ends": "2026-11-29T00:00:00Z"}}}}, "DECISION_SCOPE_WIDENED")

test_scope_narrowing_passes if {
	narrow := {"cameras": ["CAM-1"], "from": "2026-11-18T06:30:00Z", "to": "2026-11-18T07:00:00Z", "starts": "2026-11-22T00:00:00Z", "ends": "2026-11-25T00:00:00Z"}
	vs := decisions.violations with input as fx.changed({"decisions": {"REQ-1": {"scope": narrow}}})
	not fx.has_code(vs, "DECISION_SCOPE_WIDENED")
}

test_decision_before_submission_flagged if flagged({"decisions": {"REQ-1": {"decided_at": "2026-11-19T23:59:59Z"}}}, "DECISION_BEFORE_SUBMISSION")

test_decision_after_submission_passes if clean("DECISION_BEFORE_SUBMISSION")

share := {"requests": {"REQ-1": {"use": {"mode": "share_external", "third_party": {"organization": "Police", "legal_basis": "Case filing"}}}}}

test_third_party_approval_without_permission_flagged if flagged(share, "DECISION_THIRD_PARTY_NOT_ALLOWED")

test_third_party_approval_with_permission_passes if {
	vs := decisions.violations with input as fx.changed(object.union(share, {"decisions": {"REQ-1": {"conditions": {"third_party_allowed": true}}}}))
	not fx.has_code(vs, "DECISION_THIRD_PARTY_NOT_ALLOWED")
}

test_pinned_decision_is_not_stale if clean("DECISION_STALE")

test_edited_request_makes_the_decision_stale if flagged({"request_sha256": {"REQ-1": fx.other_digest}}, "DECISION_STALE")

test_unpinned_decision_is_stale if {
	vs := decisions.violations with input as json.remove(fx.base, ["decisions/REQ-1/request_sha256"])
	fx.has_code(vs, "DECISION_STALE")
}

test_recipient_as_supervisor_flagged if flagged({"decisions": {"REQ-1": {"conditions": {"supervised_by": "app"}}}}, "DECISION_SUPERVISOR_INVOLVED")

test_independent_supervisor_passes if {
	vs := decisions.violations with input as fx.changed({"decisions": {"REQ-1": {"conditions": {"supervised_by": "sec2"}}}})
	not fx.has_code(vs, "DECISION_SUPERVISOR_INVOLVED")
}

test_supervisor_without_the_role_flagged if flagged({"decisions": {"REQ-1": {"conditions": {"supervised_by": "tech"}}}}, "DECISION_SUPERVISOR_NOT_QUALIFIED")

test_supervisor_with_the_role_passes if {
	vs := decisions.violations with input as fx.changed({"decisions": {"REQ-1": {"conditions": {"supervised_by": "sec2"}}}})
	not fx.has_code(vs, "DECISION_SUPERVISOR_NOT_QUALIFIED")
}

test_decision_dated_in_the_future_flagged if flagged({"decisions": {"REQ-1": {"decided_at": "2027-11-20T07:00:00Z"}}}, "DECISION_IN_FUTURE")

test_decision_dated_in_the_past_passes if clean("DECISION_IN_FUTURE")

duties_codes(change) := codes if {
	codes := fx.codes(decisions.violations) with input as fx.changed(change)
}

test_filer_decider_and_supervisor_are_three_people if {
	not "DECISION_DUTIES_NOT_SEPARATED" in duties_codes({"decisions": {"REQ-1": {"conditions": {"supervised_by": "sec2"}}}})
}

test_officer_filing_approving_and_supervising_alone_is_an_error if {
	change := {
		"requests": {"REQ-1": {"submitted_by": "sec2"}},
		"decisions": {"REQ-1": {"decided_by": "sec2", "conditions": {"supervised_by": "sec2"}}},
	}
	"DECISION_DUTIES_NOT_SEPARATED" in duties_codes(change)
}

test_decider_supervising_is_an_error_by_default if {
	"DECISION_DUTIES_NOT_SEPARATED" in duties_codes({"decisions": {"REQ-1": {"decided_by": "sec2", "conditions": {"supervised_by": "sec2"}}}})
}

test_two_distinct_people_may_be_enough_when_configured if {
	change := {
		"config": {"separation_of_duties": {"distinct_people": 2}},
		"decisions": {"REQ-1": {"decided_by": "sec2", "conditions": {"supervised_by": "sec2"}}},
	}
	not "DECISION_DUTIES_NOT_SEPARATED" in duties_codes(change)
}

test_filer_approving_without_a_supervisor_is_an_error if {
	"DECISION_DUTIES_NOT_SEPARATED" in duties_codes({"requests": {"REQ-1": {"submitted_by": "sec"}}})
}

test_rejection_is_not_a_duty_to_keep_apart if {
	not "DECISION_DUTIES_NOT_SEPARATED" in duties_codes({"requests": {"REQ-1": {"submitted_by": "sec"}}, "decisions": {"REQ-1": {"decision": "rejected"}}})
}
