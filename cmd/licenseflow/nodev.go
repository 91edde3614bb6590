//go:build nodev

package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/licenseflow/licenseflow/cmd/licenseflow/config"
)

// runDev is unavailable in production builds (-tags nodev), which leave the
// embedded Temporal server out of the binary.
func runDev(context.Context, config.Config, *slog.Logger) error {
	return errors.New("this binary was built with -tags nodev and has no embedded Temporal server; use `licenseflow api` and `licenseflow worker`")
}
