package cctv.check_test

import rego.v1

import data.cctv.check
import data.cctv.fixtures as fx

test_clean_registry_has_no_violations if {
	count(check.violations) == 0 with input as fx.base
}

test_violations_carry_code_severity_subject_field_message if {
	vs := check.violations with input as fx.changed({"cameras": {"CAM-1": {"zone": "restroom"}}})
	some v in vs
	v.code == "CAMERA_PRIVATE_AREA"
	v.severity == "error"
	v.kind == "camera"
	v.id == "CAM-1"
	v.field == ["zone"]
	contains(v.message, "private")
}

test_all_concerns_are_collected if {
	vs := check.violations with input as fx.changed({
		"cameras": {"CAM-1": {"zone": "restroom"}},
		"requests": {"REQ-1": {"purpose": {"category": "curiosity"}}},
		"holds": {"HOLD-1": {"created_by": "app"}},
	})
	fx.codes(vs) == {"CAMERA_PRIVATE_AREA", "REQUEST_PURPOSE_NOT_ALLOWED", "HOLD_NOT_SECURITY_OFFICE"}
}

# A part added without its name would be left out of `violations` and of every engine that
# evaluates the named parts.
test_every_part_is_named if {
	{name | some name, _ in check.parts} == check.part_names with input as fx.base
}
