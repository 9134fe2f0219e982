package cctv.holds_test

import rego.v1

import data.cctv.fixtures as fx
import data.cctv.holds

test_hold_by_non_security_office_flagged if {
	vs := holds.violations with input as fx.changed({"holds": {"HOLD-1": {"created_by": "tech"}}})
	fx.has_code(vs, "HOLD_NOT_SECURITY_OFFICE")
}

test_hold_by_security_office_passes if {
	vs := holds.violations with input as fx.base
	not fx.has_code(vs, "HOLD_NOT_SECURITY_OFFICE")
}

test_reversed_hold_window_flagged if {
	vs := holds.violations with input as fx.changed({"holds": {"HOLD-1": {"from": "2026-11-22T00:00:00Z"}}})
	fx.has_code(vs, "HOLD_WINDOW_INVALID")
}

test_valid_hold_window_passes if {
	vs := holds.violations with input as fx.base
	not fx.has_code(vs, "HOLD_WINDOW_INVALID")
}
