// Package s3test runs a real S3-compatible server on loopback for tests:
// versitygw over a temporary folder, with real request signing.
package s3test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The root credentials of every test server.
const (
	AccessKey = "roundstestaccess"
	SecretKey = "roundstestsecret0123456789"
)

// A Server is a versitygw process serving Dir, a bucket a folder.
type Server struct {
	Endpoint string
	Dir      string
}

// binary finds versitygw: on $PATH or where go install puts it.
func binary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = strings.TrimSpace(string(out))
		}
	}
	for _, dir := range []string{os.Getenv("GOBIN"), filepath.Join(gopath, "bin")} {
		p := filepath.Join(dir, "versitygw")
		if dir != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if os.Getenv("ROUNDS_REQUIRE_TOOLS") == "1" {
		t.Fatal("versitygw is needed (make test builds it with go install)")
	}
	t.Skip("versitygw not available; run make test to build it")
	return ""
}

// New starts a server for the test, stopped when the test ends.
//
// Its port is one the system had free a moment before, so a test running
// in parallel may start its own server on the same port first; then this
// one cannot listen and exits, and the port answers for the other. The
// server proves it serves this test's folder by listing a bucket made
// there for the purpose, and is started again on another port if not.
func New(t testing.TB) *Server {
	t.Helper()
	bin := binary(t)
	dir := t.TempDir()
	mark := fmt.Sprintf("s3test-mark-%d", time.Now().UnixNano())
	if err := os.Mkdir(filepath.Join(dir, mark), 0o755); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for try := 1; ; try++ {
		s, err := start(t, bin, dir, mark, &out)
		if err == nil {
			// The mark has done its job; tests list buckets of their own.
			if err := os.Remove(filepath.Join(dir, mark)); err != nil {
				t.Fatal(err)
			}
			return s
		}
		if try == 5 {
			t.Fatalf("versitygw did not start: %v\n%s", err, out.String())
		}
	}
}

// start runs versitygw over dir on a free port and waits until it lists
// the bucket mark.
func start(t testing.TB, bin, dir, mark string, out *strings.Builder) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "--port", addr, "posix", dir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+AccessKey, "ROOT_SECRET_KEY="+SecretKey)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	stop := func() {
		cmd.Process.Kill()
		<-exited
	}
	s := &Server{Endpoint: "http://" + addr, Dir: dir}
	c := s.Client(AccessKey, SecretKey)
	for begin := time.Now(); ; {
		select {
		case <-exited:
			return nil, fmt.Errorf("versitygw on %s exited", addr)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		res, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
		cancel()
		if err == nil {
			for _, b := range res.Buckets {
				if aws.ToString(b.Name) == mark {
					t.Cleanup(stop)
					return s, nil
				}
			}
			stop()
			return nil, fmt.Errorf("the server on %s serves another folder", addr)
		}
		if time.Since(begin) > 20*time.Second {
			stop()
			return nil, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Client returns a client of the server with the given credentials.
func (s *Server) Client(access, secret string) *s3.Client {
	return s3.New(s3.Options{
		Region:                     "us-east-1",
		BaseEndpoint:               aws.String(s.Endpoint),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(access, secret, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// Bucket creates a bucket and returns a root client.
func (s *Server) Bucket(t testing.TB, name string) *s3.Client {
	t.Helper()
	c := s.Client(AccessKey, SecretKey)
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	return c
}

// Keys returns the key and ETag of every object in the bucket under
// prefix, "key etag" each, in the order the store lists them: what a test
// compares to show that a run changed nothing.
func Keys(t testing.TB, c *s3.Client, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key)+" "+aws.ToString(o.ETag))
		}
	}
	return keys
}
