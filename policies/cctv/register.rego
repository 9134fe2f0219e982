# The violations register (R12): what the security office found, what was done, by whom and when
# it was closed. Entries are violations/<ID>.yaml, written by the security office.
package cctv.register

import rego.v1

import data.cctv.lib
import data.cctv.references

violations contains lib.error("VIOLATION_NOT_SECURITY_OFFICE", "violation", id, ["found_by"], msg) if {
	some id, v in input.violation_register
	lib.is_person(v.found_by)
	not lib.has_role(v.found_by, "security_office")
	msg := sprintf("violation %s was registered by %s, who is not in the security office; the security office keeps the register (R12)", [id, v.found_by])
}

violations contains lib.error("VIOLATION_CLOSED_WITHOUT_ACTION", "violation", id, ["action"], msg) if {
	some id, v in input.violation_register
	v.closed_at
	not v.action
	msg := sprintf("violation %s is closed but says no action; write what was done before closing it", [id])
}

violations contains lib.error("VIOLATION_CLOSED_BEFORE_FOUND", "violation", id, ["closed_at"], msg) if {
	some id, v in input.violation_register
	time.parse_rfc3339_ns(v.closed_at) < time.parse_rfc3339_ns(v.found_at)
	msg := sprintf("violation %s is closed at %s, before it was found at %s", [id, v.closed_at, v.found_at])
}

violations contains references.unknown_person("violation", id, [field], v[field]) if {
	some id, v in input.violation_register
	some field in ["found_by", "person"]
	v[field]
	not lib.is_person(v[field])
}
