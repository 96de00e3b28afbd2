// Package static holds the console's CSS, icons and JavaScript, embedded in the binary.
package static

import "embed"

// FS is the embedded static files, served under /static/.
//
//go:embed app.css app.js passkey.js favicon.svg
var FS embed.FS
