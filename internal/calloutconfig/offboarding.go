package calloutconfig

import (
	"errors"
	"fmt"
	"regexp"
)

// Offboarding names the JetStream key-value bucket in the callout account that
// natsping_offboarding writes and the callout watches. When a document carries it, the
// callout answers no request until it has read the whole bucket, and refuses the tokens the
// bucket revokes.
type Offboarding struct {
	Bucket   string `json:"bucket"`
	Replicas int    `json:"replicas"`
}

// DefaultOffboardingBucket is the bucket name when the trust names none.
const DefaultOffboardingBucket = "natsping_offboarding"

// OffboardingReplicaBounds are what JetStream allows for a stream's replicas (nats-server
// refuses more than 5).
var OffboardingReplicaBounds = struct{ Min, Max int }{1, 5}

// bucketPattern is nats.go's rule for key-value bucket names; a stream name derived from it
// (KV_<bucket>) is then valid too.
var bucketPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// CheckOffboardingBucket explains what is wrong with a bucket name.
func CheckOffboardingBucket(name string) error {
	if !bucketPattern.MatchString(name) {
		return fmt.Errorf("bucket %q is not a valid JetStream key-value bucket name: use 1 to 64 letters, digits, _ or -", name)
	}
	return nil
}

// CheckOffboardingReplicas explains what is wrong with a replica count.
func CheckOffboardingReplicas(n int) error {
	if n < OffboardingReplicaBounds.Min || n > OffboardingReplicaBounds.Max {
		return fmt.Errorf("replicas %d is outside %d to %d (JetStream's limit); use 3 on a 3-node cluster, 1 on a single server",
			n, OffboardingReplicaBounds.Min, OffboardingReplicaBounds.Max)
	}
	return nil
}

// Validate checks the offboarding section.
func (o *Offboarding) Validate() error {
	if o == nil {
		return nil
	}
	var errs []error
	if err := CheckOffboardingBucket(o.Bucket); err != nil {
		errs = append(errs, fmt.Errorf("offboarding.bucket: %w", err))
	}
	if err := CheckOffboardingReplicas(o.Replicas); err != nil {
		errs = append(errs, fmt.Errorf("offboarding.replicas: %w", err))
	}
	return errors.Join(errs...)
}
