package offboard

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
)

// EnsureBucket opens the bucket, creating it when it does not exist. Both the provider and
// the callout call it, so whichever comes first creates it with the document's settings; an
// existing bucket is used as it is (a changed replica count is not applied here: changing a
// stream's replicas moves its data, which is an operator's decision).
func EnsureBucket(ctx context.Context, js jetstream.JetStream, cfg calloutconfig.Offboarding) (jetstream.KeyValue, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	kv, err := js.KeyValue(ctx, cfg.Bucket)
	if err == nil {
		return kv, nil
	}
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, bucketError(cfg.Bucket, err)
	}
	kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      cfg.Bucket,
		Description: "natsping offboarding: revoked Ping identities, mappings and roles (written by natsping_offboarding, read by natsping-callout)",
		History:     1,
		Replicas:    cfg.Replicas,
		Storage:     jetstream.FileStorage,
	})
	if errors.Is(err, jetstream.ErrBucketExists) {
		kv, err = js.KeyValue(ctx, cfg.Bucket)
	}
	if err != nil {
		return nil, bucketError(cfg.Bucket, err)
	}
	return kv, nil
}

func bucketError(bucket string, err error) error {
	hint := ""
	switch {
	case errors.Is(err, jetstream.ErrJetStreamNotEnabled), errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount),
		errors.Is(err, nats.ErrNoResponders):
		hint = "; enable JetStream on the servers (jetstream {} in the server config) and give the callout account JetStream " +
			"limits (the trust does so when offboarding is set; push the callout account JWT again)"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, jetstream.ErrNoHeartbeat):
		hint = "; JetStream did not answer: check that the servers run JetStream and that at least offboarding.replicas of them do"
	}
	return fmt.Errorf("offboarding bucket %q: %w%s", bucket, err, hint)
}

// Write puts every entry and deletes the keys in remove. It stops at the first failure, so
// the caller's state never claims an entry the bucket lacks.
func Write(ctx context.Context, kv jetstream.KeyValue, entries []Entry, remove []string) error {
	for _, e := range entries {
		b, err := e.Marshal()
		if err != nil {
			return err
		}
		if _, err := kv.Put(ctx, e.Key(), b); err != nil {
			return fmt.Errorf("writing %s: %w", e, err)
		}
	}
	for _, key := range remove {
		if err := kv.Delete(ctx, key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			return fmt.Errorf("deleting key %s: %w", key, err)
		}
	}
	return nil
}

// Read returns the stored entries for keys; a key the bucket lacks (or holds deleted) is
// missing from the result. A value that does not decode is returned as Decode makes it.
func Read(ctx context.Context, kv jetstream.KeyValue, keys []string) (map[string]Entry, error) {
	out := map[string]Entry{}
	for _, key := range keys {
		v, err := kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading key %s: %w", key, err)
		}
		e, _ := Decode(key, v.Value())
		out[key] = e
	}
	return out, nil
}
