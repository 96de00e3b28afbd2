package config

import (
	"fmt"
	"net"
)

// Metrics is the Prometheus endpoint. It has a listener of its own, never the
// ADR-facing one: what it tells (request rates, rejection codes, the Register's
// health) is for the holder's monitoring, not for the ecosystem.
type Metrics struct {
	// Listen is host:port of the /metrics listener; "" (the default) serves no metrics.
	Listen string `toml:"listen"`
}

// validateMetrics checks the [metrics] keys, naming the first bad one.
func (c *Config) validateMetrics() error {
	if c.Metrics.Listen == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(c.Metrics.Listen); err != nil {
		return fmt.Errorf("metrics.listen: %q is not host:port", c.Metrics.Listen)
	}
	if c.Metrics.Listen == c.Server.Listen {
		return fmt.Errorf("metrics.listen: %q is server.listen; metrics need a listener of their own", c.Metrics.Listen)
	}
	return nil
}
