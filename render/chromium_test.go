package render_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/kmsload/kmsload/render"
)

// chromiumPath returns the Chromium binary, or "" when there is none.
// .ci/run installs /usr/bin/chromium; KMSLOAD_CHROMIUM names another.
func chromiumPath() string {
	if p := os.Getenv("KMSLOAD_CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// browserLog collects what the page did: console calls, exceptions, log
// entries and network requests.
type browserLog struct {
	mu       sync.Mutex
	console  []string
	errors   []string
	requests []string
}

func (b *browserLog) add(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var args []string
		for _, a := range e.Args {
			args = append(args, string(a.Value)+a.Description)
		}
		b.console = append(b.console, fmt.Sprintf("console.%s(%s)", e.Type, strings.Join(args, ", ")))
	case *runtime.EventExceptionThrown:
		b.errors = append(b.errors, "exception: "+e.ExceptionDetails.Text)
	case *cdplog.EventEntryAdded:
		if e.Entry.Level == cdplog.EntryLevelError || e.Entry.Level == cdplog.EntryLevelWarning {
			b.errors = append(b.errors, fmt.Sprintf("log %s %s: %s %s", e.Entry.Level, e.Entry.Source, e.Entry.Text, e.Entry.URL))
		}
	case *network.EventRequestWillBeSent:
		b.requests = append(b.requests, e.Request.URL)
	case *network.EventLoadingFailed:
		b.errors = append(b.errors, "loading failed: "+e.ErrorText)
	}
}

// chartStats describes a screenshot: its size, how many distinct colours
// it has, and the share of pixels that are not the background (white).
type chartStats struct {
	w, h    int
	colours int
	ink     float64
}

func statsOf(t *testing.T, shot []byte) chartStats {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	b := img.Bounds()
	colours := map[[3]uint32]bool{}
	ink := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			if r>>8 < 240 || g>>8 < 240 || bl>>8 < 240 {
				ink++
			}
		}
	}
	return chartStats{w: b.Dx(), h: b.Dy(), colours: len(colours), ink: float64(ink) / float64(max(1, b.Dx()*b.Dy()))}
}

// TestHTMLInChromium opens the fixture's report in headless Chromium from
// a loopback server: no console output or errors, no request but the
// page's own, every chart drawn (a screenshot of each SVG has ink and
// colour), no sideways scrolling at phone width, and it prints to PDF.
// Set KMSLOAD_SCREENSHOTS=DIR to keep the screenshots.
func TestHTMLInChromium(t *testing.T) {
	bin := chromiumPath()
	if bin == "" {
		t.Skip("chromium not installed (.ci/run installs it with apt-get; or set KMSLOAD_CHROMIUM): the HTML report was not opened in a browser")
	}
	r := loadFixture(t)
	var page bytes.Buffer
	if err := render.WriteHTML(&page, r); err != nil {
		t.Fatal(err)
	}
	var served []string
	var servedMu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		servedMu.Lock()
		served = append(served, req.URL.Path)
		servedMu.Unlock()
		if req.URL.Path != "/" {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page.Bytes())
	}))
	defer srv.Close()
	pageURL := srv.URL + "/"

	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()

	var bl browserLog
	if err := chromedp.Listen(bctx, bl.add); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if err := chromedp.Do(bctx,
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, cdplog.Enable, cdp.Empty{})
			return err
		}),
		chromedp.EmulateViewport(1100, 900),
		chromedp.Navigate(pageURL),
		chromedp.WaitReady("footer"),
	); err != nil {
		t.Fatalf("open report: %v", err)
	}

	keep := os.Getenv("KMSLOAD_SCREENSHOTS")
	charts := []string{"chart-goodput", "chart-throttled", "chart-spectrum", "chart-bucket-0", "chart-bucket-1", "chart-coupling", "chart-blast"}
	for _, id := range charts {
		shot, err := chromedp.Run(bctx, chromedp.Screenshot(chromedp.CSS("#"+id+" svg")))
		if err != nil {
			t.Errorf("screenshot of #%s: %v", id, err)
			continue
		}
		if keep != "" {
			os.WriteFile(filepath.Join(keep, id+".png"), shot, 0o644)
		}
		s := statsOf(t, shot)
		t.Logf("#%s: %dx%d px, %d colours, %.1f%% ink", id, s.w, s.h, s.colours, 100*s.ink)
		// A drawn chart has axes, grid, labels and coloured series: many
		// colours (anti-aliasing) and a few percent of ink. A blank or
		// collapsed SVG has one colour and no ink.
		if s.w < 300 || s.h < 100 || s.colours < 16 || s.ink < 0.02 {
			t.Errorf("chart #%s looks blank: %dx%d px, %d colours, %.1f%% ink; want >= 300x100, >= 16 colours, >= 2%% ink",
				id, s.w, s.h, s.colours, 100*s.ink)
		}
	}
	if keep != "" {
		if full, err := chromedp.Run(bctx, chromedp.FullScreenshot(100)); err == nil {
			os.WriteFile(filepath.Join(keep, "desktop.png"), full, 0o644)
		}
	}

	// A wide desktop: the verdict's headline comes first, above the title,
	// says PASS or FAIL and is coloured for it; no table box is wider than
	// 1400 px (wide tables scroll inside their own box) and the page does
	// not scroll sideways.
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1920, 1000)); err != nil {
		t.Fatal(err)
	}
	wide, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`(() => {
		const out = [];
		const h = document.querySelector("#headline"), h1 = document.querySelector("h1");
		if (!h) return ["no #headline"];
		const first = document.body.querySelector("header").firstElementChild;
		if (first !== h) out.push("the first element of the header is " + first.tagName + ", not the headline");
		if (h.getBoundingClientRect().top > h1.getBoundingClientRect().top) out.push("the headline is below the title");
		if (!/^(PASS|FAIL|PARTIAL)/.test(h.textContent.trim())) out.push("headline " + JSON.stringify(h.textContent.slice(0, 40)) + " does not start with PASS or FAIL");
		const want = h.classList.contains("fail") ? "FAIL" : "PASS";
		if (!h.textContent.includes(want) && !h.textContent.startsWith("PARTIAL")) out.push("headline class " + h.className + " does not match its text");
		for (const el of document.querySelectorAll("div.scroll, table")) {
			const w = el.getBoundingClientRect().width;
			if (w > 1400.5) out.push((el.id || el.className || el.tagName) + " is " + w + " px wide");
		}
		const vw = document.documentElement.clientWidth;
		if (document.documentElement.scrollWidth > vw + 1) out.push("page is " + document.documentElement.scrollWidth + "px wide in a " + vw + "px viewport");
		return out;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range wide {
		t.Errorf("at 1920 px: %s", o)
	}

	// Phone width: the page itself never scrolls sideways (wide tables
	// scroll inside their own box), and every chart fits the screen.
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	overflow, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`(() => {
		const out = [];
		const vw = document.documentElement.clientWidth;
		if (document.documentElement.scrollWidth > vw + 1) out.push("page is " + document.documentElement.scrollWidth + "px wide in a " + vw + "px viewport");
		for (const s of document.querySelectorAll("figure.chart svg")) {
			const r = s.getBoundingClientRect();
			if (r.right > vw + 1 || r.width < 200) out.push(s.closest("figure").id + " spans " + r.left + ".." + r.right);
		}
		return out;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range overflow {
		t.Errorf("at phone width: %s", o)
	}
	if keep != "" {
		if full, err := chromedp.Run(bctx, chromedp.FullScreenshot(100)); err == nil {
			os.WriteFile(filepath.Join(keep, "phone.png"), full, 0o644)
		}
	}

	pdf, err := chromedp.Run(bctx, chromedp.PrintToPDF())
	if err != nil {
		t.Errorf("print to PDF: %v", err)
	} else if !bytes.HasPrefix(pdf, []byte("%PDF")) || len(pdf) < 10000 {
		t.Errorf("print to PDF: %d bytes starting %q; want a PDF", len(pdf), pdf[:min(8, len(pdf))])
	}

	bl.mu.Lock()
	defer bl.mu.Unlock()
	for _, c := range bl.console {
		t.Errorf("console output: %s", c)
	}
	for _, e := range bl.errors {
		t.Errorf("browser error: %s", e)
	}
	// The page load itself must have been seen, or the listener saw
	// nothing and the checks above prove nothing.
	if len(bl.requests) == 0 || bl.requests[0] != pageURL {
		t.Errorf("network requests %q; want the page load %q first", bl.requests, pageURL)
	}
	for _, u := range bl.requests[min(1, len(bl.requests)):] {
		t.Errorf("the page made a request: %s", u)
	}
	servedMu.Lock()
	defer servedMu.Unlock()
	for _, p := range served {
		// The page names an empty data: icon, so not even /favicon.ico.
		if p != "/" {
			t.Errorf("server got a request for %s", p)
		}
	}
}
