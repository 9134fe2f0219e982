# Preservation holds: only the security office may set them; the window must make sense.
package cctv.holds

import rego.v1

import data.cctv.lib

violations contains lib.error("HOLD_NOT_SECURITY_OFFICE", "hold", id, ["created_by"], msg) if {
	some id, h in input.holds
	lib.is_person(h.created_by)
	not lib.has_role(h.created_by, "security_office")
	msg := sprintf("hold %s was set by %s, who is not in the security office; only the security office sets holds", [id, h.created_by])
}

violations contains lib.error("HOLD_WINDOW_INVALID", "hold", id, ["to"], msg) if {
	some id, h in input.holds
	time.parse_rfc3339_ns(h.from) >= time.parse_rfc3339_ns(h.to)
	msg := sprintf("hold %s: footage window from %s to %s is empty or reversed", [id, h.from, h.to])
}
