// Package browser holds the end-to-end test of the inspector page in a real
// headless Chromium, driven with chromedp. It is a module of its own so
// that the library's go.mod stays free of chromedp. It exports nothing.
//
// The test needs Chromium (Debian's chromium package). Without it the test
// is skipped, unless TETHER_BROWSER=required (CI sets it), when it fails.
package browser
