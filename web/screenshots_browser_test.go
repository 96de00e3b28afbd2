package web

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dcrconsole/dcrconsole/store"
)

// screenshotPages are the README's screenshots: name and path on the seeded data.
func screenshotPages(d realData) [][2]string {
	return [][2]string{
		{"dashboard", "/console/"},
		{"clients", "/console/clients"},
		{"client", "/console/clients/" + d.ClientID},
		{"attempts", "/console/attempts"},
		{"audit", "/console/audit"},
	}
}

// TestBrowserScreenshots writes the README's screenshots (docs/screenshots/)
// of the main pages at 1400 and 800 px, light theme, on the seeded data. It
// runs only when asked:
//
//	DCRCONSOLE_SCREENSHOTS=$PWD/docs/screenshots go test ./web -run TestBrowserScreenshots
func TestBrowserScreenshots(t *testing.T) {
	dir := os.Getenv("DCRCONSOLE_SCREENSHOTS")
	if dir == "" {
		t.Skip("set DCRCONSOLE_SCREENSHOTS to a directory to write the README screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h, base, ctx := browserHarnessFor(t, 5*time.Minute)
	d := seedRealData(t, h)
	cookie := h.operator(t, store.RoleAdmin)
	verifyChain(t, h, cookie)
	signInBrowser(t, ctx, base, store.RoleAdmin+"-user")
	for _, width := range []int64{1400, 800} {
		setViewport(t, ctx, viewport{Width: width})
		for _, p := range screenshotPages(d) {
			browse(t, ctx, p[0], chromedp.Navigate(base+p[1]), chromedp.WaitVisible(chromedp.CSS("main")))
			shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Join(dir, p[0]+"-"+strconv.FormatInt(width, 10)+".png")
			if err := os.WriteFile(name, smallPNG(t, shot), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// smallPNG re-encodes a screenshot at the best compression: the files are committed.
func smallPNG(t *testing.T, raw []byte) []byte {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
