# The pull-request gate: every violation of the rule book over the whole registry. Each
# violation is {code, severity, kind, id, field, message}.
package cctv.check

import rego.v1

import data.cctv.attachments
import data.cctv.cameras
import data.cctv.config
import data.cctv.decisions
import data.cctv.devices
import data.cctv.feedback
import data.cctv.holds
import data.cctv.references
import data.cctv.register
import data.cctv.reports
import data.cctv.requests
import data.cctv.waivers

# The rule book's parts, one per package. `violations` is their union; an engine may evaluate
# the named parts side by side over the same input (cctv-policy check does, one per core).
part_names := {
	"attachments", "cameras", "config", "decisions", "devices", "feedback",
	"holds", "references", "register", "reports", "requests", "waivers",
}

# What each part costs to evaluate, relative to the others, on a large registry
# (bench/check_bench.py: 10,000 requests). An engine sharing the parts out over its cores
# starts with the heaviest; a part not listed costs 1.
part_costs := {
	"requests": 100, "decisions": 40, "references": 20, "register": 20, "feedback": 20,
	"attachments": 20, "cameras": 10, "reports": 10, "devices": 5,
}

parts["attachments"] := attachments.violations

parts["cameras"] := cameras.violations

parts["config"] := config.violations

parts["decisions"] := decisions.violations

parts["devices"] := devices.violations

parts["feedback"] := feedback.violations

parts["holds"] := holds.violations

parts["references"] := references.violations

parts["register"] := register.violations

parts["reports"] := reports.violations

parts["requests"] := requests.violations

parts["waivers"] := waivers.violations

violations := union({parts[name] | some name in part_names})
