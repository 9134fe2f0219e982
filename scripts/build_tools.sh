#!/usr/bin/env bash
# Build the pinned Rego tooling (tools/<name>/) from source through the Go
# module proxy into .tools/bin/. A tool is rebuilt only when its pin changes:
# the sha256 of its go.mod + go.sum + main.go (plus the Go version and build
# flags) is kept in .tools/bin/<name>.pin and compared on every run.
# Quiet on success: one line per tool.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin_dir=$root/.tools/bin

if command -v go >/dev/null 2>&1; then
  go_bin=$(command -v go)
elif [ -x /usr/local/go/bin/go ]; then
  go_bin=/usr/local/go/bin/go
else
  echo "build_tools.sh: error: 'go' not found on PATH (nor /usr/local/go/bin/go); install Go >= 1.26 to build tools/" >&2
  exit 127
fi

# name | upstream module whose version is the pin ("-": our own code, no upstream) | go build tags
# (opa_wasm is what OPA's own Makefile builds release binaries with.)
tools=(
  "opa|github.com/open-policy-agent/opa|opa_wasm"
  "loadgen|-|"
)
# Regal (github.com/open-policy-agent/regal) is not served by the module proxy
# here (403); see tools/README.md.

mkdir -p "$bin_dir"
exec 9>"$bin_dir/.lock"
command -v flock >/dev/null 2>&1 && flock 9

go_version=$("$go_bin" env GOVERSION)

for entry in "${tools[@]}"; do
  IFS='|' read -r name module tags <<<"$entry"
  src=$root/tools/$name
  out=$bin_dir/$name
  if [ "$module" = "-" ]; then
    version=local
  else
    version=$(awk -v m="$module" '$1 == m {print $2; exit} $1 == "require" && $2 == m {print $3; exit}' "$src/go.mod")
  fi
  if [ -z "$version" ]; then
    echo "build_tools.sh: error: $src/go.mod does not require $module" >&2
    exit 1
  fi
  flags=(-trimpath -buildvcs=false -tags="$tags")
  pin=$(cat "$src/go.mod" "$src/main.go" $( [ -f "$src/go.sum" ] && echo "$src/go.sum") <(echo "$go_version CGO_ENABLED=0 ${flags[*]}") \
    | sha256sum | cut -d' ' -f1)

  if [ -x "$out" ] && [ -f "$out.pin" ] && [ "$(cat "$out.pin")" = "$pin" ]; then
    echo "$name $version up to date"
    continue
  fi

  start=$(date +%s)
  log=$(mktemp)
  if ! (cd "$src" && CGO_ENABLED=0 "$go_bin" build "${flags[@]}" -o "$out.tmp" .) >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log" "$out.tmp"
    echo "build_tools.sh: error: building $name $version failed" >&2
    exit 1
  fi
  rm -f "$log"
  mv -f "$out.tmp" "$out"
  echo "$pin" >"$out.pin"
  echo "$name $version built in $(( $(date +%s) - start )) s"
done
