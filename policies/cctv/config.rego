# Rule book parameters that would undo other rules if set carelessly.
package cctv.config

import rego.v1

import data.cctv.lib

# Storage grants go to the viewing station; if it were a person, that person would get an
# unsupervised readable copy of every approved request's footage.
violations contains lib.error("CONFIG_STATION_IS_A_PERSON", "config", "config", ["viewing_station"], msg) if {
	lib.is_person(input.config.viewing_station)
	msg := sprintf(
		"viewing_station is %q, a person in people.yaml; it must name the security office's viewing station (a machine account), never a person",
		[input.config.viewing_station],
	)
}
