package web

import (
	"context"
	_ "embed"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/store"
)

// axeSource is axe-core, vendored (testdata/axe/README.md): no network in tests.
//
//go:embed testdata/axe/axe.min.js
var axeSource string

// viewport is one way the console is looked at.
type viewport struct {
	Width int64
	Dark  bool
}

func (v viewport) String() string {
	theme := "light"
	if v.Dark {
		theme = "dark"
	}
	return strconv.FormatInt(v.Width, 10) + "px-" + theme
}

var consoleViewports = []viewport{{1400, false}, {1400, true}, {800, false}, {800, true}}

// setViewport sizes the page and sets prefers-color-scheme, which the CSS follows.
func setViewport(t *testing.T, ctx context.Context, v viewport) {
	t.Helper()
	scheme := "light"
	if v.Dark {
		scheme = "dark"
	}
	if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride,
		emulation.SetDeviceMetricsOverrideParams{Width: v.Width, Height: 900, DeviceScaleFactor: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
		t.Fatal(err)
	}
}

// consolePages are every console page, on the seeded data.
func consolePages(d realData) []string {
	return []string{
		"/console/", "/console/clients", "/console/clients?q=household&sort=name&dir=asc",
		"/console/clients?before=x&limit=100", "/console/clients/" + d.ClientID,
		"/console/attempts", "/console/attempts/" + strconv.FormatInt(d.AttemptID, 10),
		"/console/audit", "/console/audit/" + strconv.FormatInt(d.EventID, 10), "/console/audit/verify",
		"/console/register", "/console/tools/inspect", "/console/users", "/console/apikeys", "/console/account",
		"/console/no-such-page",
	}
}

// axeViolation is what the test reports of an axe-core violation.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axeRun injects axe-core and runs it on the page: WCAG 2.1 A and AA rules,
// colour contrast included. It returns the serious and critical violations.
const axeRun = `(async () => {
  const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']});
  return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + (n.failureSummary || '').split('\n').slice(0, 2).join(' '))}));
})()`

// pageCheck is what one page at one viewport got wrong.
func pageCheck(t *testing.T, ctx context.Context, url string) []string {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("main"))); err != nil {
		return []string{"load: " + err.Error()}
	}
	return pageCheckCurrent(t, ctx)
}

// pageCheckCurrent checks the page the browser shows.
func pageCheckCurrent(t *testing.T, ctx context.Context) []string {
	t.Helper()
	var problems []string
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](
		`[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]`))
	if err != nil {
		return []string{"measure: " + err.Error()}
	}
	if overflow[0] > overflow[1] {
		wide, _ := chromedp.Run(ctx, chromedp.Evaluate[string](widestElement))
		problems = append(problems, fmt.Sprintf("horizontal page overflow: scrollWidth %d > clientWidth %d (%s)", overflow[0], overflow[1], wide))
	}
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		return append(problems, "axe: "+err.Error())
	}
	for _, v := range violations {
		problems = append(problems, fmt.Sprintf("axe %s (%s): %s: %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, " | ")))
	}
	return problems
}

// widestElement names the element that sticks out furthest to the right, to
// say in a failure what overflows.
const widestElement = `(() => {
  const width = document.scrollingElement.clientWidth;
  const scrolls = el => { for (let a = el.parentElement; a; a = a.parentElement) { const o = getComputedStyle(a).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; } return false; };
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.right > width + 1 && !scrolls(el)) {
      return el.tagName.toLowerCase() + '.' + el.className + ' "' + (el.textContent || '').trim().slice(0, 60) + '" right=' + Math.round(r.right);
    }
  }
  return 'unknown';
})()`

// signInBrowser signs in through the login form.
func signInBrowser(t *testing.T, ctx context.Context, base, user string) {
	t.Helper()
	browse(t, ctx, "sign in",
		chromedp.Navigate(base+"/console/login"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS(`nav[aria-label="Main"]`)),
	)
}

// verifyChain runs a chain verification from the console and waits for it:
// the dashboard then shows its result and the head hash.
func verifyChain(t *testing.T, h *harness, cookie string) {
	t.Helper()
	if r := h.console(http.MethodPost, "/console/audit/verify", cookie, ""); r.status != http.StatusSeeOther {
		t.Fatalf("verify: %d %s", r.status, r.body)
	}
	for range 100 {
		if r := h.console(http.MethodGet, "/console/audit/verify", cookie, ""); !strings.Contains(string(r.body), "Running…") {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the verification did not finish")
}

// TestBrowserLayoutAndAccessibility loads every console page on real-looking
// data (long names, long reasons, 130 clients, rejected attempts, a finished
// verification) at 1400 and 800 px, in the light and the dark theme, and
// checks that the page never scrolls sideways (tables scroll inside their own
// box) and that axe-core finds no serious or critical WCAG 2.1 AA violation.
func TestBrowserLayoutAndAccessibility(t *testing.T) {
	if testing.Short() {
		t.Skip("browser layout sweep: not in -short")
	}
	// Duplicates allowed: the inspector's dry run then lists a skipped step.
	h, base, ctx := browserHarnessFor(t, 15*time.Minute, func(c *config.Config) { c.Holder.AllowDuplicateRegistrations = true })
	d := seedRealData(t, h)
	cookie := h.operator(t, store.RoleAdmin)
	verifyChain(t, h, cookie)
	signInBrowser(t, ctx, base, store.RoleAdmin+"-user")
	// axe-core is added to every document the browser opens (sent once, not
	// per page); the console's own CSP stays as served.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: axeSource}); err != nil {
		t.Fatal(err)
	}
	for _, v := range consoleViewports {
		setViewport(t, ctx, v)
		for _, path := range consolePages(d) {
			for _, p := range pageCheck(t, ctx, base+path) {
				t.Errorf("%s %s: %s", v, path, p)
			}
		}
		// The inspector's dry run: passed, failed and skipped steps.
		browse(t, ctx, "inspect",
			chromedp.Navigate(base+"/console/tools/inspect"),
			chromedp.WaitVisible(chromedp.CSS("#jwt")),
			chromedp.SetValue(chromedp.CSS("#jwt"), d.RequestJW),
			chromedp.Submit(chromedp.CSS("#jwt")),
			chromedp.WaitVisible(chromedp.CSS("#steps")),
		)
		for _, p := range pageCheckCurrent(t, ctx) {
			t.Errorf("%s inspector result: %s", v, p)
		}
		// A skipped step is listed where the others are, not moved off screen.
		hidden, err := chromedp.Run(ctx, chromedp.Evaluate[int](
			`[...document.querySelectorAll('.steps li')].filter(li => li.getBoundingClientRect().left < 0).length`))
		if err != nil || hidden != 0 {
			t.Errorf("%s: %d inspector steps are off screen (%v)", v, hidden, err)
		}
	}
}
