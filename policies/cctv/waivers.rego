# Waivers (R12, #28): the security office acknowledges a known warning (a camera awaiting a
# part) until a date. Only warnings on this list may be waived: an error protects footage or
# access, and a warning that holds someone to account (an overdue usage report, R11) is not
# the office's to excuse. A waiver that is expired, by someone else, or of another code,
# waives nothing (cctv_policy/waivers.py applies only waivers without findings).
package cctv.waivers

import rego.v1

import data.cctv.lib
import data.cctv.references

waivable_codes := {"CAMERA_SILENT", "CAMERA_MAINTENANCE_OVERDUE", "FEEDBACK_OVERDUE"}

violations contains lib.warning("WAIVER_EXPIRED", "waiver", id, ["until"], msg) if {
	some id, w in input.waivers
	lib.now_ns >= time.parse_rfc3339_ns(w.until)
	msg := sprintf(
		"waiver %s of %s on %s expired at %s; the warning counts again: fix it, or the security office renews the waiver",
		[id, w.code, w.subject, w.until],
	)
}

violations contains lib.error("WAIVER_NOT_SECURITY_OFFICE", "waiver", id, ["decided_by"], msg) if {
	some id, w in input.waivers
	lib.is_person(w.decided_by)
	not lib.has_role(w.decided_by, "security_office")
	msg := sprintf("waiver %s was decided by %s, who is not in the security office; it waives nothing", [id, w.decided_by])
}

violations contains lib.error("WAIVER_CODE_NOT_WAIVABLE", "waiver", id, ["code"], msg) if {
	some id, w in input.waivers
	not w.code in waivable_codes
	msg := sprintf(
		"waiver %s names %s, which cannot be waived (only %s); it waives nothing",
		[id, w.code, concat(", ", sort(waivable_codes))],
	)
}

violations contains references.unknown_person("waiver", id, ["decided_by"], w.decided_by) if {
	some id, w in input.waivers
	not lib.is_person(w.decided_by)
}
