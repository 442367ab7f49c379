package publish

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// An Invalidator tells a CDN which paths changed.
type Invalidator interface {
	Invalidate(ctx context.Context, paths []string) error
}

// CloudFront invalidates paths of a CloudFront distribution.
type CloudFront struct {
	Client       *cloudfront.Client
	Distribution string
}

// Invalidate creates one invalidation of paths.
func (c *CloudFront) Invalidate(ctx context.Context, paths []string) error {
	if len(paths) == 0 {
		return nil
	}
	ref := fmt.Sprintf("rounds-%d", time.Now().UnixNano())
	_, err := c.Client.CreateInvalidation(ctx, &cloudfront.CreateInvalidationInput{
		DistributionId: &c.Distribution,
		InvalidationBatch: &cftypes.InvalidationBatch{
			CallerReference: &ref,
			Paths:           &cftypes.Paths{Quantity: aws.Int32(int32(len(paths))), Items: paths},
		},
	})
	return err
}

// Collapse turns changed paths into at most max invalidation paths. A
// folder's "index.html" is also served as the folder, "/notes/x/"; when
// there are too many paths, the deepest are replaced by wildcards of their
// folders ("/notes/x/*", then "/notes/*"), down to "/*".
func Collapse(paths []string, limit int) []string {
	set := map[string]bool{}
	deepest := 0
	for _, p := range paths {
		if strings.HasSuffix(p, "/index.html") {
			set[strings.TrimSuffix(p, "index.html")] = true
		}
		set[p] = true
		deepest = max(deepest, len(segments(p)))
	}
	for level := deepest; len(set) > limit && level >= 0; level-- {
		next := map[string]bool{}
		for p := range set {
			segs := segments(p)
			switch {
			case level == 0:
				next["/*"] = true
			case len(segs) <= level:
				next[p] = true
			default:
				next["/"+strings.Join(segs[:level], "/")+"/*"] = true
			}
		}
		set = next
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func segments(p string) []string {
	t := strings.Trim(strings.TrimSuffix(p, "*"), "/")
	if t == "" {
		return nil
	}
	return strings.Split(t, "/")
}

// NewCloudFront returns an Invalidator of the distribution, with the
// SDK's default configuration and credentials.
func NewCloudFront(ctx context.Context, distribution string) (*CloudFront, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	return &CloudFront{Client: cloudfront.NewFromConfig(cfg), Distribution: distribution}, nil
}
