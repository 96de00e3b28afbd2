package main

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// Set at link time by a release build, overriding what the Go toolchain
// stamped (which a build from a source archive, without .git, lacks):
//
//	go build -ldflags "-X main.version=v1.4.0 -X main.commit=$(git rev-parse HEAD)"
var (
	version = ""
	commit  = ""
)

// versionLine is what --version prints: the version and the VCS commit, from
// the link-time variables, else from the build information.
func versionLine(version, commit string, info *debug.BuildInfo, ok bool) string {
	var modified, goVersion string
	if ok {
		goVersion = info.GoVersion
		if version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && commit == "":
				commit = s.Value
			case s.Key == "vcs.modified" && s.Value == "true":
				modified = ", with uncommitted changes"
			}
		}
	}
	if version == "" {
		version = "devel"
	}
	if commit == "" {
		commit = "unknown"
	}
	line := fmt.Sprintf("dcrconsole %s (commit %s%s)", version, commit, modified)
	if goVersion != "" {
		line += " " + goVersion
	}
	return strings.TrimSpace(line)
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}
