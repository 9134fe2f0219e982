package cctv.waivers_test

import rego.v1

import data.cctv.fixtures as fx
import data.cctv.waivers

waiver := {
	"id": "WAIVER-1", "code": "CAMERA_SILENT", "subject": "camera:CAM-1",
	"reason": "Part on order", "until": "2026-12-31T00:00:00Z",
	"decided_by": "sec", "decided_at": "2026-11-20T00:00:00Z",
}

with_waiver(change) := fx.changed({"waivers": {"WAIVER-1": object.union(waiver, change)}})

test_waiver_by_the_office_in_force_has_no_finding if {
	vs := waivers.violations with input as with_waiver({})
	count(vs) == 0
}

test_expired_waiver_flagged if {
	vs := waivers.violations with input as with_waiver({"until": "2026-11-24T00:00:00Z"})
	fx.has_code(vs, "WAIVER_EXPIRED")
}

test_waiver_expires_at_its_until if {
	vs := waivers.violations with input as with_waiver({"until": fx.base.now})
	fx.has_code(vs, "WAIVER_EXPIRED")
}

test_waiver_by_non_security_office_flagged if {
	vs := waivers.violations with input as with_waiver({"decided_by": "tech"})
	fx.has_code(vs, "WAIVER_NOT_SECURITY_OFFICE")
}

test_waiver_of_an_error_code_flagged if {
	vs := waivers.violations with input as with_waiver({"code": "HOLD_NOT_SECURITY_OFFICE"})
	fx.has_code(vs, "WAIVER_CODE_NOT_WAIVABLE")
}

test_waiver_of_an_overdue_report_flagged if {
	vs := waivers.violations with input as with_waiver({"code": "REPORT_OVERDUE"})
	fx.has_code(vs, "WAIVER_CODE_NOT_WAIVABLE")
}

test_waiver_by_unknown_person_is_a_reference_error if {
	vs := waivers.violations with input as with_waiver({"decided_by": "nobody"})
	fx.has_code(vs, "E_REFERENCE")
}
