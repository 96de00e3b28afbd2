package config

import (
	"fmt"
	"time"

	// The zone database inside the binary: Australia/Sydney (the default) and
	// every other zone work on minimal images without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// DefaultDisplayTimezone is console.display_timezone's default: the CDR is Australian.
const DefaultDisplayTimezone = "Australia/Sydney"

// Location is the console's display time zone (validated at load; UTC if it
// somehow does not load).
func (c Console) Location() *time.Location {
	loc, err := time.LoadLocation(c.DisplayTimezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

func (c Console) validateDisplay() error {
	if c.DisplayTimezone == "" || c.DisplayTimezone == "Local" {
		return fmt.Errorf("console.display_timezone: %q: name an IANA time zone such as Australia/Sydney or UTC", c.DisplayTimezone)
	}
	if _, err := time.LoadLocation(c.DisplayTimezone); err != nil {
		return fmt.Errorf("console.display_timezone: %q is not a known IANA time zone (%v)", c.DisplayTimezone, err)
	}
	return nil
}
