package config

import (
	"fmt"
	"strings"
)

// docs/configuration.md carries two texts made from Vars, between these
// markers; a test fails when they differ from what Table and Requirements
// make, and LICENSEFLOW_UPDATE_DOCS=1 rewrites them.
const (
	TableStart        = "<!-- configuration table: made from cmd/licenseflow/config.Vars -->"
	RequirementsStart = "<!-- required per command: made from cmd/licenseflow/config.Vars -->"
	GeneratedEnd      = "<!-- end of generated text -->"
)

// Table is the documented configuration table: every variable, its default,
// the commands that read it (bold where it is required) and its meaning.
func Table() string {
	var b strings.Builder
	b.WriteString("| Variable | Default | Read by (**required**) | Meaning |\n| --- | --- | --- | --- |\n")
	for _, v := range Vars {
		def := "—"
		if v.Default != "" {
			def = "`" + v.Default + "`"
		}
		var readers []string
		for _, r := range v.ReadBy {
			if v.Requires(r) {
				readers = append(readers, "**"+string(r)+"**")
			} else {
				readers = append(readers, string(r))
			}
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", v.Name, def, strings.Join(readers, ", "), v.Description)
	}
	return b.String()
}

// Requirements lists, per production command, the variables it refuses
// to start without.
func Requirements() string {
	var b strings.Builder
	for _, r := range Roles {
		var names []string
		for _, v := range Vars {
			if v.Requires(r) {
				names = append(names, "`"+v.Name+"`")
			}
		}
		if len(names) > 0 {
			fmt.Fprintf(&b, "- `licenseflow %s` needs %s.\n", r, strings.Join(names, ", "))
		}
	}
	return b.String()
}

// Required lists the variables role refuses to start without.
func Required(role Role) []string {
	var names []string
	for _, v := range Vars {
		if v.Requires(role) {
			names = append(names, v.Name)
		}
	}
	return names
}
