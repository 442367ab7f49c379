package publish

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
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

// NewClient returns an S3 client for the store.
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
