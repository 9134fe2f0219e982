package cctv.references_test

import rego.v1

import data.cctv.fixtures as fx
import data.cctv.references

test_clean_registry_has_no_reference_errors if {
	count(references.violations) == 0 with input as fx.base
}

test_unknown_applicant_flagged if {
	vs := references.violations with input as fx.changed({"requests": {"REQ-1": {"applicant": "ghost"}}})
	some v in vs
	v.code == "E_REFERENCE"
	v.field == ["applicant"]
}

test_unknown_recipient_flagged_with_its_index if {
	vs := references.violations with input as fx.changed({"requests": {"REQ-1": {"use": {"recipients": ["app", "ghost"]}}}})
	some v in vs
	v.field == ["use", "recipients", 1]
}

test_unknown_camera_in_request_flagged if {
	vs := references.violations with input as fx.changed({"requests": {"REQ-1": {"footage": {"cameras": ["CAM-9"]}}}})
	fx.has_code(vs, "E_REFERENCE")
}

test_unknown_storage_target_flagged if {
	vs := references.violations with input as fx.changed({"cameras": {"CAM-1": {"storage": "nowhere"}}})
	some v in vs
	v.field == ["storage"]
}

test_unknown_decider_flagged if {
	vs := references.violations with input as fx.changed({"decisions": {"REQ-1": {"decided_by": "ghost"}}})
	fx.has_code(vs, "E_REFERENCE")
}

test_unknown_hold_camera_flagged if {
	vs := references.violations with input as fx.changed({"holds": {"HOLD-1": {"cameras": ["CAM-404"]}}})
	fx.has_code(vs, "E_REFERENCE")
}

test_report_naming_unknown_hold_flagged if {
	report := {"request": "REQ-1", "submitted_by": "app", "submitted_at": "2026-11-29T00:00:00Z", "summary": "s", "copies": "kept_under_hold", "hold": "HOLD-9"}
	vs := references.violations with input as fx.changed({"reports": {"REQ-1": report}})
	some v in vs
	v.field == ["hold"]
}

test_report_naming_known_hold_passes if {
	report := {"request": "REQ-1", "submitted_by": "app", "submitted_at": "2026-11-29T00:00:00Z", "summary": "s", "copies": "kept_under_hold", "hold": "HOLD-1"}
	count(references.violations) == 0 with input as fx.changed({"reports": {"REQ-1": report}})
}

test_report_without_hold_passes if {
	report := {"request": "REQ-1", "submitted_by": "app", "submitted_at": "2026-11-29T00:00:00Z", "summary": "s", "copies": "destroyed"}
	count(references.violations) == 0 with input as fx.changed({"reports": {"REQ-1": report}})
}
