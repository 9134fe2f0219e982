# Who may ask an OPA server of the fleet what (OPA's own API authorization): give it to
# `opa run --server --authentication=token --authorization=basic ... system-authz.rego`, outside
# the bundle (whose roots are cctv and cctv_registry), so that no bundle can change it.
# The VMS, with the bearer token in CCTV_OPA_VMS_TOKEN of OPA's environment, may ask the fleet
# decision and nothing else; the load balancer may ask /health; everything else is refused,
# the data (GET /v1/data/cctv_registry) too.
package system.authz

import rego.v1

default allow := false

decision_paths := [
	["v1", "data", "cctv", "fleet", "decision"],
	["v1", "data", "cctv", "fleet", "allow"],
]

allow if {
	input.method == "POST"
	input.path in decision_paths
	token := opa.runtime().env.CCTV_OPA_VMS_TOKEN
	count(token) >= 32
	input.identity == token
}

allow if {
	input.method == "GET"
	input.path == ["health"]
}
