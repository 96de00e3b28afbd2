package jose

import (
	"fmt"
	"time"
)

// AudienceContains reports whether aud (string or array) names issuer.
func AudienceContains(aud any, issuer string) bool {
	switch a := aud.(type) {
	case string:
		return a == issuer
	case []any:
		for _, v := range a {
			if s, ok := v.(string); ok && s == issuer {
				return true
			}
		}
	}
	return false
}

// CheckTimes validates exp, nbf and iat (numbers, seconds since the epoch) with
// skew. With required, exp and iat must be present. It returns exp (zero if absent).
func CheckTimes(claims map[string]any, now time.Time, skew time.Duration, required bool) (time.Time, error) {
	var exp time.Time
	for _, name := range []string{"exp", "nbf", "iat"} {
		v, present := claims[name]
		if !present {
			if required && name != "nbf" {
				return exp, fmt.Errorf("%s is missing", name)
			}
			continue
		}
		f, ok := v.(float64)
		if !ok || f < 0 || f > 1e11 {
			return exp, fmt.Errorf("%s is not a valid NumericDate: %v", name, v)
		}
		t := time.Unix(int64(f), 0)
		switch name {
		case "exp":
			exp = t
			if now.After(t.Add(skew)) {
				return exp, fmt.Errorf("expired at %s (now %s, skew %s)", t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), skew)
			}
		case "nbf":
			if now.Add(skew).Before(t) {
				return exp, fmt.Errorf("not valid before %s (now %s)", t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
			}
		case "iat":
			if now.Add(skew).Before(t) {
				return exp, fmt.Errorf("issued in the future at %s (now %s)", t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
			}
		}
	}
	return exp, nil
}
