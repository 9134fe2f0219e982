module github.com/cctv-policy/tools/loadgen

go 1.26.0
