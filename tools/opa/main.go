// Command opa runs OPA's own command tree (github.com/open-policy-agent/opa/cmd) at the
// version pinned in go.mod, so its flags, output and exit codes are the official CLI's.
package main

import (
	"errors"
	"os"

	"github.com/open-policy-agent/opa/cmd"
)

func main() {
	err := cmd.RootCommand.Execute()
	if err == nil {
		return
	}
	var exitErr *cmd.ExitError
	if errors.As(err, &exitErr) {
		os.Exit(exitErr.Exit)
	}
	os.Exit(1)
}
