package cctv.enforce_test

import rego.v1

import data.cctv.enforce
import data.cctv.fixtures as fx

# fx.base: REQ-1 approved 2026-11-20T07:00Z, use 11-21 .. 11-28, CAM-1 footage 11-18 06:00-08:00;
# HOLD-1 on CAM-2 until 2027-01-01; now 2026-11-25.

ids(set) := {x.id | some x in set}

test_approved_request_and_hold_protect if {
	ps := enforce.protections with input as fx.base
	ids(ps) == {"request:REQ-1", "hold:HOLD-1"}
}

test_approved_protection_lasts_until_due_plus_grace if {
	some p in enforce.protections with input as fx.base
	p.id == "request:REQ-1"
	p.until == "2026-12-12T00:00:00Z"
	p.cameras == ["CAM-1"]
}

test_protection_ends_when_report_is_in if {
	report := {"REQ-1": {"request": "REQ-1", "submitted_by": "app", "submitted_at": "2026-11-24T00:00:00Z", "summary": "s", "copies": "destroyed"}}
	ps := enforce.protections with input as fx.changed({"reports": report})
	ids(ps) == {"hold:HOLD-1"}
}

test_rejected_request_protects_nothing if {
	ps := enforce.protections with input as fx.changed({"decisions": {"REQ-1": {"decision": "rejected"}}})
	not "request:REQ-1" in ids(ps)
}

test_pending_request_protects_until_use_end if {
	pending := json.remove(fx.base, ["decisions/REQ-1"])
	some p in enforce.protections with input as pending
	p.id == "pending:REQ-1"
	p.until == "2026-11-28T00:00:00Z"
}

test_expired_hold_protects_nothing if {
	ps := enforce.protections with input as fx.changed({"now": "2027-01-02T00:00:00Z"})
	not "hold:HOLD-1" in ids(ps)
}

test_hold_by_non_security_office_protects_nothing if {
	ps := enforce.protections with input as fx.changed({"holds": {"HOLD-1": {"created_by": "app"}}})
	not "hold:HOLD-1" in ids(ps)
}

test_protection_uses_the_narrowed_scope if {
	some p in enforce.protections with input as fx.changed({"decisions": {"REQ-1": {"scope": {"from": "2026-11-18T07:00:00Z"}}}})
	p.id == "request:REQ-1"
	p.from == "2026-11-18T07:00:00Z"
}

test_grant_during_use_period_goes_to_the_viewing_station if {
	gs := enforce.grants with input as fx.base
	ids(gs) == {"REQ-1--station"}
	some g in gs
	g.recipient == "station"
}

test_one_grant_per_request_whatever_the_recipients if {
	gs := enforce.grants with input as fx.changed({"requests": {"REQ-1": {"use": {"recipients": ["app", "app2"]}}}})
	ids(gs) == {"REQ-1--station"}
}

test_no_grant_for_a_stale_approval if {
	count(enforce.grants) == 0 with input as fx.changed({"request_sha256": {"REQ-1": fx.other_digest}})
}

test_no_grant_for_a_self_approval if {
	count(enforce.grants) == 0 with input as fx.changed({"decisions": {"REQ-1": {"decided_by": "app"}}})
}

test_stale_approval_still_protects if {
	ps := enforce.protections with input as fx.changed({"request_sha256": {"REQ-1": fx.other_digest}})
	"request:REQ-1" in ids(ps)
}

test_stale_rejection_protects_as_pending if {
	change := {"decisions": {"REQ-1": {"decision": "rejected"}}, "request_sha256": {"REQ-1": fx.other_digest}}
	ps := enforce.protections with input as fx.changed(change)
	"pending:REQ-1" in ids(ps)
}

test_no_grant_before_use_starts if {
	count(enforce.grants) == 0 with input as fx.changed({"now": "2026-11-20T23:59:59Z"})
}

test_no_grant_after_use_ends if {
	count(enforce.grants) == 0 with input as fx.changed({"now": "2026-11-28T00:00:00Z"})
}

test_no_grant_for_rejected_request if {
	count(enforce.grants) == 0 with input as fx.changed({"decisions": {"REQ-1": {"decision": "rejected"}}})
}

test_decision_carries_retention if {
	d := enforce.decision with input as fx.base
	d.retention_days == 30
}

test_approval_dated_in_the_future_still_protects if {
	ps := enforce.protections with input as fx.changed({"decisions": {"REQ-1": {"decided_at": "2027-11-20T07:00:00Z"}}})
	"request:REQ-1" in ids(ps)
}

test_approval_dated_in_the_future_grants_nothing if {
	count(enforce.grants) == 0 with input as fx.changed({"decisions": {"REQ-1": {"decided_at": "2027-11-20T07:00:00Z"}}})
}

test_no_grant_when_the_station_is_a_person if {
	count(enforce.grants) == 0 with input as fx.changed({"config": {"viewing_station": "app"}})
}

test_rejection_outside_the_security_office_protects_as_pending if {
	change := {"decisions": {"REQ-1": {"decision": "rejected", "decided_by": "app2"}}}
	ps := enforce.protections with input as fx.changed(change)
	"pending:REQ-1" in ids(ps)
}

test_rejection_without_reasons_protects_as_pending if {
	change := {"decisions": {"REQ-1": {"decision": "rejected", "reasons": [" "]}}}
	ps := enforce.protections with input as fx.changed(change)
	"pending:REQ-1" in ids(ps)
}

test_valid_rejection_ends_the_pending_protection if {
	ps := enforce.protections with input as fx.changed({"decisions": {"REQ-1": {"decision": "rejected"}}})
	not "pending:REQ-1" in ids(ps)
}

test_invalid_approval_protects_as_pending_too if {
	ps := enforce.protections with input as fx.changed({"decisions": {"REQ-1": {"decided_by": "app"}}})
	{"pending:REQ-1", "request:REQ-1"} & ids(ps) == {"pending:REQ-1", "request:REQ-1"}
}

test_valid_approval_is_not_pending if {
	ps := enforce.protections with input as fx.base
	not "pending:REQ-1" in ids(ps)
}
