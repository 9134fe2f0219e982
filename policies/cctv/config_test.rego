package cctv.config_test

import rego.v1

import data.cctv.config
import data.cctv.fixtures as fx

test_station_that_is_a_person_flagged if {
	vs := config.violations with input as fx.changed({"config": {"viewing_station": "app"}})
	fx.has_code(vs, "CONFIG_STATION_IS_A_PERSON")
}

test_station_that_is_no_person_passes if {
	vs := config.violations with input as fx.base
	count(vs) == 0
}
