package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Store says how to reach an S3-compatible store. Empty fields leave the
// SDK's defaults and environment (AWS_REGION, AWS_ENDPOINT_URL_S3, …) in
// charge; credentials come only from the SDK's default chain.
type Store struct {
	Endpoint  string
	Region    string
	PathStyle bool
	// Checksums is "when_required" (for stores that reject the SDK's
	// default CRC32 checksums) or "when_supported".
	Checksums string
}

// ErrNoCredentials says that no AWS credentials were found, where they
// were looked for and how to set them.
var ErrNoCredentials = errors.New("no AWS credentials found: looked in $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY, " +
	"the shared files ~/.aws/credentials and ~/.aws/config (profile $AWS_PROFILE, else default), " +
	"a web identity token ($AWS_WEB_IDENTITY_TOKEN_FILE, as CI's OIDC sets) and the machine's instance role; " +
	"set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones), or AWS_PROFILE")

// CheckCredentials looks for the client's credentials now, so that a
// machine without any is told where they were looked for
// (ErrNoCredentials), not the SDK's chain of errors at its first request.
func CheckCredentials(ctx context.Context, client *s3.Client) error {
	creds := client.Options().Credentials
	if creds == nil {
		return ErrNoCredentials
	}
	if _, err := creds.Retrieve(ctx); err != nil {
		slog.Debug("no AWS credentials", "err", err)
		return ErrNoCredentials
	}
	return nil
}

// maxConns is the most idle connections to the store NewClient's client
// keeps: more than Publish's workers will use.
const maxConns = 256

// NewClient returns an S3 client for the store. It keeps the connections
// that Publish's workers open (up to 256) for the next requests.
func NewClient(ctx context.Context, st Store) (*s3.Client, error) {
	var opts []func(*config.LoadOptions) error
	if st.Region != "" {
		opts = append(opts, config.WithRegion(st.Region))
	}
	switch st.Checksums {
	case "when_required":
		opts = append(opts, config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
			config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired))
	case "", "when_supported":
	default:
		return nil, fmt.Errorf("checksums %q: use \"when_required\" or \"when_supported\"", st.Checksums)
	}
	// Keep every connection the workers open: the SDK's transport keeps
	// 10 idle per host, and more workers than that would each open a new
	// connection for most requests.
	opts = append(opts, config.WithHTTPClient(awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns, t.MaxIdleConnsPerHost = maxConns, maxConns
	})))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if st.Endpoint != "" {
			o.BaseEndpoint = aws.String(st.Endpoint)
		}
		o.UsePathStyle = st.PathStyle
	}), nil
}
