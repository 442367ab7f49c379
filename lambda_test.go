package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rounds-health/rounds/generator/s3test"
	"github.com/rounds-health/rounds/generator/subscribers"
)

// TestMain runs the rounds command itself when a test starts this test
// binary with $ROUNDS_TEST_MAIN set, as TestLambda does: the command as
// a process of its own, as Lambda runs it.
func TestMain(m *testing.M) {
	if os.Getenv("ROUNDS_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// runtimeAPI is the Lambda Runtime API on loopback, as Lambda serves it
// to a function: it hands out the events queued, one at a time, and
// keeps each response.
type runtimeAPI struct {
	events    chan string
	responses chan []byte
	errors    chan string
	mu        sync.Mutex
	n         int
}

func (api *runtimeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/2018-06-01/runtime/invocation/next":
		select {
		case ev := <-api.events:
			api.mu.Lock()
			api.n++
			id := fmt.Sprintf("request-%d", api.n)
			api.mu.Unlock()
			h := w.Header()
			h.Set("Lambda-Runtime-Aws-Request-Id", id)
			h.Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(time.Minute).UnixMilli()))
			h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:123456789012:function:rounds-subscribers")
			h.Set("Content-Type", "application/json")
			io.WriteString(w, ev)
		case <-r.Context().Done():
		}
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/response"):
		body, _ := io.ReadAll(r.Body)
		api.responses <- body
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/error"):
		body, _ := io.ReadAll(r.Body)
		api.errors <- r.URL.Path + ": " + string(body)
		w.WriteHeader(http.StatusAccepted)
	default:
		http.NotFound(w, r)
	}
}

// functionURLEvent is the event of a Function URL request.
func functionURLEvent(method, path, query, contentType, body string) string {
	ev := map[string]any{
		"version": "2.0", "rawPath": path, "rawQueryString": query,
		"headers": map[string]string{"content-type": contentType, "host": "abc.lambda-url.eu-west-1.on.aws"},
		"requestContext": map[string]any{
			"domainName": "abc.lambda-url.eu-west-1.on.aws",
			"http":       map[string]string{"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "198.51.100.7", "userAgent": "test"},
		},
		"body": body, "isBase64Encoded": false,
	}
	data, _ := json.Marshal(ev)
	return string(data)
}

// streamed reads a streamed Function URL response: a JSON prelude with
// the status and headers, eight NUL bytes, then the body.
func streamed(t *testing.T, data []byte) (int, string) {
	t.Helper()
	prelude, body, ok := bytes.Cut(data, make([]byte, 8))
	if !ok {
		t.Fatalf("not a streamed response: %q", data)
	}
	var p struct {
		StatusCode int `json:"statusCode"`
	}
	if err := json.Unmarshal(prelude, &p); err != nil {
		t.Fatalf("prelude %q: %v", prelude, err)
	}
	return p.StatusCode, string(body)
}

// TestLambda runs rounds subscribers serve as AWS Lambda runs it, behind
// a Function URL: a process given its requests by the Lambda Runtime API
// (served on loopback), with the log in a bucket (versitygw). A bad link
// gets the service's 400 page; a one-click unsubscribe is recorded in the
// bucket. A local store is refused.
func TestLambda(t *testing.T) {
	srv := s3test.New(t)
	client := srv.Bucket(t, "private")
	secret := "a-long-enough-test-secret"
	key, _ := ed25519KeyPEM()
	env := map[string]string{
		"AWS_ACCESS_KEY_ID": s3test.AccessKey, "AWS_SECRET_ACCESS_KEY": s3test.SecretKey, "AWS_REGION": "us-east-1",
		"ROUNDS_UNSUBSCRIBE_SECRET": secret, "ROUNDS_SUBSCRIBERS_STORE": "s3://private/subscribers/", "ROUNDS_DKIM_KEY": key,
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	dir, config := exampleProject(t, fmt.Sprintf("\n[publish]\nendpoint = %q\npath_style = true\nchecksums = \"when_required\"\n", srv.Endpoint))
	if code, out, errOut := rounds("subscribers", "add", "reader@example.net", "--list", "everything", "--config", config); code != 0 {
		t.Fatalf("add: exit %d %s %s", code, out, errOut)
	}
	store, err := subscribers.OpenS3Store(client, "s3://private/subscribers/")
	if err != nil {
		t.Fatal(err)
	}
	state, err := subscribers.Load(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	token, err := subscribers.Sign([]byte(secret), state.Recipients("everything")[0].UnsubscribeToken("everything", time.Now()))
	if err != nil {
		t.Fatal(err)
	}

	start := func(t *testing.T, api *runtimeAPI, extra ...string) (*exec.Cmd, *bytes.Buffer) {
		rt := httptest.NewServer(api)
		t.Cleanup(rt.Close)
		cmd := exec.Command(os.Args[0], "subscribers", "serve", "--config", config)
		cmd.Env = append(os.Environ(), "ROUNDS_TEST_MAIN=1", "AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(rt.URL, "http://"),
			"AWS_LAMBDA_FUNCTION_NAME=rounds-subscribers", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256")
		cmd.Env = append(cmd.Env, extra...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd, &stderr
	}
	response := func(t *testing.T, api *runtimeAPI, stderr *bytes.Buffer) []byte {
		t.Helper()
		select {
		case r := <-api.responses:
			return r
		case e := <-api.errors:
			t.Fatalf("the function reported an error: %s\n%s", e, stderr)
		case <-time.After(60 * time.Second):
			t.Fatalf("no response from the function\n%s", stderr)
		}
		return nil
	}

	api := &runtimeAPI{events: make(chan string, 4), responses: make(chan []byte, 4), errors: make(chan string, 4)}
	_, stderr := start(t, api)
	api.events <- functionURLEvent(http.MethodGet, "/rounds/lists/unsubscribe", "token=altered", "", "")
	if code, body := streamed(t, response(t, api, stderr)); code != http.StatusBadRequest || !strings.Contains(body, "Link not valid") {
		t.Errorf("a bad link: %d\n%s", code, body)
	}
	api.events <- functionURLEvent(http.MethodPost, "/rounds/lists/unsubscribe", "token="+url.QueryEscape(token), "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click")
	if code, body := streamed(t, response(t, api, stderr)); code != http.StatusOK || body != "unsubscribed\n" {
		t.Errorf("the one-click POST: %d %q", code, body)
	}
	state, err = subscribers.Load(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	if r := state.Recipients("everything"); len(r) != 0 {
		t.Errorf("after the one-click POST in Lambda, %d recipients", len(r))
	}

	// A store in a folder does not last in Lambda: refused.
	local := &runtimeAPI{events: make(chan string), responses: make(chan []byte), errors: make(chan string, 4)}
	cmd, stderr := start(t, local, "ROUNDS_SUBSCRIBERS_STORE=")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(stderr.String(), "in Lambda the subscribers' log must be in a bucket") {
			t.Errorf("a local store in Lambda: %v\n%s", err, stderr)
		}
		// Refused before the folder is made: in the function's
		// read-only /var/task, making it would fail first, less clearly.
		if _, err := os.Stat(filepath.Join(dir, ".subscribers")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a local store in Lambda: the folder was made (%v)", err)
		}
	case <-time.After(60 * time.Second):
		t.Error("a local store in Lambda was not refused")
	}
}

// TestSystemdUnit checks the README's example unit: its ExecStart is a
// rounds command line whose flags the command takes.
func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, unit, _ := strings.Cut(string(readme), "rounds-subscribers.service`:\n\n```ini\n")
	unit, _, ok := strings.Cut(unit, "```")
	if !ok || !strings.Contains(unit, "[Service]") {
		t.Fatal("the README has no example unit")
	}
	var execStart string
	for _, line := range strings.Split(unit, "\n") {
		if v, ok := strings.CutPrefix(line, "ExecStart="); ok {
			execStart = v
		}
	}
	args := strings.Fields(execStart)
	if len(args) < 3 || !strings.HasSuffix(args[0], "/rounds") || args[1] != "subscribers" || args[2] != "serve" {
		t.Fatalf("ExecStart %q does not run rounds subscribers serve", execStart)
	}
	// --help stops after the flags are read: an unknown flag fails first.
	if code, _, stderr := rounds(append(args[1:], "--help")...); code != 0 {
		t.Errorf("ExecStart's flags: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"NoNewPrivileges=yes", "ProtectSystem=strict", "EnvironmentFile=", "Restart=on-failure", "--bind 127.0.0.1:"} {
		if !strings.Contains(unit, want) {
			t.Errorf("the unit lacks %s", want)
		}
	}
	// Where systemd is installed, it reads the unit too: a misspelt key
	// or a bad value is only a warning to systemctl, so any output fails.
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze is not installed: the unit's command line is checked, the unit is not verified")
		return
	}
	// verify wants ExecStart's binary to exist: this test's own stands in.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "rounds-subscribers.service")
	if err := os.WriteFile(file, []byte(strings.Replace(unit, "ExecStart="+args[0]+" ", "ExecStart="+self+" ", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", file).CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify of the README's unit: %v\n%s", err, out)
	}
}
