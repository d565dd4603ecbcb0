package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds a Chromium binary: $ACCELOPT_CHROMIUM, else chromium
// (Debian's package, which .ci/run installs) or a Chrome on PATH.
func chromiumPath() string {
	if p := os.Getenv("ACCELOPT_CHROMIUM"); p != "" {
		return p
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// chartInfo is what the page reports about one rendered chart.
type chartInfo struct {
	ID     string  `json:"id"`
	NS     string  `json:"ns"`
	Width  float64 `json:"w"`
	Height float64 `json:"h"`
	Shapes int     `json:"shapes"`
	Texts  int     `json:"texts"`
	// TextWidth is the rendered width of the chart's widest label.
	TextWidth float64 `json:"textWidth"`
}

// pageInfo is what the page reports about itself.
type pageInfo struct {
	Title     string      `json:"title"`
	LayerRows int         `json:"layerRows"`
	Charts    []chartInfo `json:"charts"`
	Sections  []string    `json:"sections"`
}

const pageInfoJS = `(() => {
  const charts = [];
  for (const s of document.querySelectorAll('figure > svg')) {
    const r = s.getBoundingClientRect();
    let tw = 0;
    for (const t of s.querySelectorAll('text')) tw = Math.max(tw, t.getBBox().width);
    charts.push({id: s.parentElement.id, ns: s.namespaceURI, w: r.width, h: r.height,
      shapes: s.querySelectorAll('path,rect,line,polyline,circle').length,
      texts: s.querySelectorAll('text').length, textWidth: tw});
  }
  return {title: document.title, layerRows: document.querySelectorAll('#layer-table tr.layer-row').length,
    charts, sections: Array.from(document.querySelectorAll('section')).map(s => s.id)};
})()`

// checkInBrowser opens the report in headless Chromium, checks that every
// chart renders as SVG with visible size, shapes and text, that nothing is
// logged as an error and that no request leaves the file, and saves a
// full-page screenshot in the test's temp dir (and in
// $ACCELOPT_SCREENSHOT_DIR when set).
func checkInBrowser(t *testing.T, htmlPath string, layers int, chartIDs []string) {
	bin := chromiumPath()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no chromium binary found; .ci/run installs Debian's chromium so that CI runs the browser test")
		}
		t.Skip("no chromium binary found (install Debian's chromium, or set ACCELOPT_CHROMIUM); skipping the browser test")
	}
	abs, err := filepath.Abs(htmlPath)
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	var mu sync.Mutex
	var problems, warnings []string
	note := func(list *[]string, s string) {
		mu.Lock()
		*list = append(*list, s)
		mu.Unlock()
	}
	err = chromedp.Listen(bctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			msg := "console." + string(ev.Type) + ": " + strings.Join(args, " ")
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				note(&problems, msg)
			} else if ev.Type == runtime.ConsoleAPICalledTypeWarning {
				note(&warnings, msg)
			}
		case *runtime.EventExceptionThrown:
			note(&problems, "exception: "+ev.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			msg := "log " + string(ev.Entry.Level) + " (" + string(ev.Entry.Source) + "): " + ev.Entry.Text + " " + ev.Entry.URL
			if ev.Entry.Level == log.EntryLevelError {
				note(&problems, msg)
			} else if ev.Entry.Level == log.EntryLevelWarning {
				note(&warnings, msg)
			}
		case *network.EventRequestWillBeSent:
			if u := ev.Request.URL; !strings.HasPrefix(u, "file://") && !strings.HasPrefix(u, "data:") {
				note(&problems, "request to "+u)
			}
		}
	})
	if err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	if err := chromedp.Do(bctx,
		chromedp.Navigate("file://"+abs),
		chromedp.WaitVisible(chromedp.CSS("#layer-table")),
	); err != nil {
		t.Fatalf("loading the report: %v", err)
	}
	info, err := chromedp.Run(bctx, chromedp.Evaluate[pageInfo](pageInfoJS))
	if err != nil {
		t.Fatalf("reading the page: %v", err)
	}
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	cancelBrowser()
	cancelAlloc()

	png := filepath.Join(t.TempDir(), "report.png")
	if err := os.WriteFile(png, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of %s: %s (%d bytes)", abs, png, len(shot))
	if d := os.Getenv("ACCELOPT_SCREENSHOT_DIR"); d != "" {
		if err := os.WriteFile(filepath.Join(d, "report.png"), shot, 0o644); err != nil {
			t.Error(err)
		}
	}
	if len(shot) < 10000 {
		t.Errorf("screenshot is only %d bytes", len(shot))
	}

	mu.Lock()
	defer mu.Unlock()
	for _, w := range warnings {
		t.Logf("browser warning: %s", w)
	}
	for _, p := range problems {
		t.Errorf("browser: %s", p)
	}
	if !strings.HasPrefix(info.Title, "accelopt report") {
		t.Errorf("title %q", info.Title)
	}
	if info.LayerRows != layers {
		t.Errorf("%d layer rows rendered, want %d", info.LayerRows, layers)
	}
	var ids []string
	for _, c := range info.Charts {
		ids = append(ids, c.ID)
		if c.NS != "http://www.w3.org/2000/svg" || c.Width < 300 || c.Height < 100 || c.Shapes < 10 || c.Texts < 3 || c.TextWidth <= 0 {
			t.Errorf("chart %s did not render: %+v", c.ID, c)
		}
	}
	if strings.Join(ids, " ") != strings.Join(chartIDs, " ") {
		t.Errorf("charts rendered: %v, want %v", ids, chartIDs)
	}
	t.Logf("sections %v; charts %+v", info.Sections, info.Charts)
}
