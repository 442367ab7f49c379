package browsertest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

// A Page is a page open in headless Chromium, driven over the DevTools
// protocol, for tests that must act while the page stays open.
type Page struct {
	ws *websocket.Conn
	id atomic.Int64
}

// Open starts headless Chromium on url and returns the open page; the
// browser stops when the test ends.
func Open(t testing.TB, chromium, url string) *Page {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	profile := profileDir(t)
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--remote-debugging-port=0", "--remote-allow-origins=*", "--user-data-dir="+profile, "about:blank")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	// "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/…"
	listening := regexp.MustCompile(`ws://(127\.0\.0\.1:\d+)/`)
	sc := bufio.NewScanner(stderr)
	var addr string
	for sc.Scan() {
		if m := listening.FindStringSubmatch(sc.Text()); m != nil {
			addr = m[1]
			break
		}
	}
	if addr == "" {
		t.Fatal("chromium did not open its DevTools port")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	req, _ := http.NewRequest(http.MethodPut, "http://"+addr+"/json/new?"+url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var target struct {
		WebSocketDebuggerURL string `json:"webSocketDebuggerUrl"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&target); err != nil || target.WebSocketDebuggerURL == "" {
		t.Fatalf("opening %s in chromium: %v", url, err)
	}
	ws, err := websocket.Dial(target.WebSocketDebuggerURL, "", "http://127.0.0.1/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return &Page{ws: ws}
}

// Eval evaluates a JavaScript expression in the page and returns its
// value as a string.
func (p *Page) Eval(expr string) (string, error) {
	var res struct {
		Result struct {
			Value any `json:"value"`
		} `json:"result"`
	}
	if err := p.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &res); err != nil {
		return "", err
	}
	return fmt.Sprint(res.Result.Value), nil
}

// EvalAsync evaluates a JavaScript expression whose value is a promise,
// and returns what the promise resolves to, as a string.
func (p *Page) EvalAsync(expr string) (string, error) {
	var res struct {
		Result struct {
			Value any `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := p.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &res); err != nil {
		return "", err
	}
	if res.Exception != nil {
		return "", fmt.Errorf("%s: %s", expr, res.Exception.Text)
	}
	return fmt.Sprint(res.Result.Value), nil
}

// Viewport makes the page's viewport width by height CSS pixels, as a
// phone's or a desktop's, whatever the size of Chromium's window (which
// headless Chromium keeps at least 500 px wide). The page is laid out
// again at once.
func (p *Page) Viewport(width, height int) error {
	return p.call("Emulation.setDeviceMetricsOverride", map[string]any{
		"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false,
	}, nil)
}

// call sends a DevTools protocol command and decodes its result into
// result, unless result is nil.
func (p *Page) call(method string, params map[string]any, result any) error {
	id := p.id.Add(1)
	msg := map[string]any{"id": id, "method": method, "params": params}
	if err := websocket.JSON.Send(p.ws, msg); err != nil {
		return err
	}
	p.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var reply struct {
			ID     int64           `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := websocket.JSON.Receive(p.ws, &reply); err != nil {
			return err
		}
		if reply.ID != id {
			continue // an event
		}
		if reply.Error != nil {
			return fmt.Errorf("%s: %s", method, reply.Error.Message)
		}
		if result == nil {
			return nil
		}
		return json.Unmarshal(reply.Result, result)
	}
}
