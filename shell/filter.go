package shell

import (
	"fmt"
	"regexp"
	"strings"

	"failover/grammar"
)

// applyFilters runs "| include/exclude/begin/grep [-v]" over output lines.
// A bad regular expression is reported, not silently matched.
func applyFilters(text string, filters []grammar.Filter) (string, error) {
	if len(filters) == 0 || text == "" {
		return text, nil
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	for _, f := range filters {
		re, err := regexp.Compile(f.Pattern)
		if err != nil {
			return "", fmt.Errorf("invalid regular expression %q: %v", f.Pattern, err)
		}
		var out []string
		switch f.Kind {
		case "include":
			for _, l := range lines {
				if re.MatchString(l) {
					out = append(out, l)
				}
			}
		case "exclude":
			for _, l := range lines {
				if !re.MatchString(l) {
					out = append(out, l)
				}
			}
		case "grep":
			for _, l := range lines {
				if re.MatchString(l) != f.Invert {
					out = append(out, l)
				}
			}
		case "begin":
			for i, l := range lines {
				if re.MatchString(l) {
					out = lines[i:]
					break
				}
			}
		}
		lines = out
	}
	if len(lines) == 0 {
		return "", nil
	}
	return strings.Join(lines, "\n") + "\n", nil
}
