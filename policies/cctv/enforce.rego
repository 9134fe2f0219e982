# What the enforcer must do on storage: how long footage is kept, which footage is protected
# (and until when) and who may read which footage right now. One decision per run; the Python
# enforcer turns it into delete/hold/release/grant/revoke actions under its own safety floor.
package cctv.enforce

import rego.v1

import data.cctv.approvals
import data.cctv.lib

decision := {
	"retention_days": input.config.retention_days,
	"protections": protections,
	"grants": grants,
}

# R8/R11: an approved request protects its footage until its usage report is in, or, without a
# report, until use end + report_due_days + report_grace_days. From the moment the decision
# exists, whatever date it claims: keeping more is the safe side.
protections contains {
	"id": sprintf("request:%s", [id]), "rule": "APPROVED_REQUEST", "request": id,
	"cameras": lib.effective_cameras(id), "from": lib.effective_from(id), "to": lib.effective_to(id),
	"until": time.format(until),
} if {
	some id, d in input.decisions
	d.decision == "approved"
	input.requests[id]
	until := approved_until_ns(id)
	lib.now_ns < until
}

approved_until_ns(id) := time.parse_rfc3339_ns(input.reports[id].submitted_at)

approved_until_ns(id) := until if {
	not input.reports[id]
	grace := lib.days_ns(object.get(input.config, "report_grace_days", 7))
	until := lib.report_due_ns(id) + grace
}

# R4: footage named by a request that is still waiting for a decision in force is kept until
# the requested use would end, so that it does not expire during the review. Waiting: no
# decision yet, or one that is not in force (stale, or with an error of its own: a rejection
# by someone outside the security office ends nothing). An approved request also protects as
# approved, valid or not.
protections contains {
	"id": sprintf("pending:%s", [id]), "rule": "PENDING_REQUEST", "request": id,
	"cameras": r.footage.cameras, "from": r.footage.from, "to": r.footage.to,
	"until": r.use.ends,
} if {
	some id, r in input.requests
	not id in approvals.in_force
	lib.now_ns < time.parse_rfc3339_ns(r.use.ends)
}

# A security-office hold keeps its footage until its `until`.
protections contains {
	"id": sprintf("hold:%s", [id]), "rule": "SECURITY_HOLD", "hold": id,
	"cameras": h.cameras, "from": h.from, "to": h.to, "until": h.until,
} if {
	some id, h in input.holds
	lib.has_role(h.created_by, "security_office")
	lib.now_ns < time.parse_rfc3339_ns(h.until)
}

# R8: only a valid approval, exactly the approved cameras x window, only during the approved
# use period, and only to the security office's viewing station: recipients view there under
# supervision (authorize tells the station who may see what); copies leave only by `extract`.
grants contains {
	"id": sprintf("%s--%s", [id, station]), "rule": "APPROVED_USE", "request": id,
	"recipient": station, "cameras": lib.effective_cameras(id),
	"from": lib.effective_from(id), "to": lib.effective_to(id),
	"starts": lib.effective_starts(id), "ends": lib.effective_ends(id),
} if {
	some id in approvals.valid
	time.parse_rfc3339_ns(lib.effective_starts(id)) <= lib.now_ns
	lib.now_ns < time.parse_rfc3339_ns(lib.effective_ends(id))
	station := input.config.viewing_station
	not lib.is_person(station) # see CONFIG_STATION_IS_A_PERSON
}
