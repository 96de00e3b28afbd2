package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeLinksStayInsideTheRepository: a newcomer reads the README in a clone,
// where nothing outside the repository exists, so every relative link must name a
// file of the repository.
func TestReadmeLinksStayInsideTheRepository(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	links := regexp.MustCompile(`\]\(([^)#\s]+)`).FindAllStringSubmatch(string(readme), -1)
	if len(links) == 0 {
		t.Fatal("README has no links: the pattern is wrong")
	}
	for _, l := range links {
		target := l[1]
		if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
			continue
		}
		if strings.HasPrefix(target, "../") || filepath.IsAbs(target) {
			t.Errorf("README links outside the repository: %s", target)
			continue
		}
		if _, err := os.Stat(target); err != nil {
			t.Errorf("README links to a missing file: %s", target)
		}
	}
}

// TestBuildWithoutCgoSaysWhatToDo: without a C compiler Go turns cgo off; the build
// must then stop with one line naming the fix, not with the SQLite driver's
// undefined symbols.
func TestBuildWithoutCgoSaysWhatToDo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the store package without cgo")
	}
	cmd := exec.Command("go", "build", "-o", os.DevNull, "./store")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("a build without cgo succeeded; it must stop and say that SQLite needs a C compiler")
	}
	text := string(out)
	if !strings.Contains(text, "install a C compiler") || !strings.Contains(text, "CGO_ENABLED=1") {
		t.Errorf("build output does not name the fix:\n%s", text)
	}
	if strings.Contains(text, "undefined:") {
		t.Errorf("build output still shows undefined symbols instead of one clear line:\n%s", text)
	}
}

// readmeDemoEvents is the event count the README's sample `audit verify --demo`
// output shows, so TestDemoMode can hold it to what the command prints.
func readmeDemoEvents(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`audit verify --demo\s+# "audit chain intact: (\d+) events`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("README shows no sample output of `go run . audit verify --demo`")
	}
	return string(m[1])
}
