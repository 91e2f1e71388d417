package offboard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/resolver"
)

// Options for Apply and Load.
type Options struct {
	// Servers are nats:// or tls:// URLs of the cluster.
	Servers []string
	// CAPEM replaces the system roots for TLS to the servers (see resolver.ConnectOptions).
	CAPEM string
	// SystemCreds are a system account user's creds (natsping_operator.system_user_creds):
	// CONNZ and KICK are system account requests.
	SystemCreds string
	// Doc is the trust's callout document: its offboarding section names the bucket, its
	// callout service user writes it, and its mappings say which users the callout admitted.
	Doc *calloutconfig.Document
	// Put are the entries to write and whose live connections are closed; Rewrite are
	// entries only written (an unchanged entry whose reason changed, or a bucket restored);
	// Remove are keys to delete (entries no longer revoked).
	Put     []Entry
	Rewrite []Entry
	Remove  []string

	// Quiet is how long a CONNZ round waits after the last server answered. Default 250ms.
	Quiet time.Duration
	// Settle is how long no matching connection must be seen, after the bucket was written
	// and after the last kick, before Apply returns. It covers a connect the callout admitted
	// just before it learned of the entry, and shows a callout that is not enforcing (kicked
	// users come straight back). Default 2s.
	Settle time.Duration
	// Rounds bounds how often connections are kicked; connections still coming back after
	// that are reported in Report.Returned. Default 5.
	Rounds int
	// Timeout bounds each request and each connection attempt. Default 5s.
	Timeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.Quiet <= 0 {
		o.Quiet = 250 * time.Millisecond
	}
	if o.Settle <= 0 {
		o.Settle = 2 * time.Second
	}
	if o.Rounds <= 0 {
		o.Rounds = 5
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	return o
}

// Report says what Apply did on the servers.
type Report struct {
	// Written is when the bucket held the entries: the callout refuses from then on.
	Written time.Time
	// Servers are the names of the servers that answered CONNZ.
	Servers []string
	// Closed are the connections kicked, in order.
	Closed []Conn
	// Returned are connections of revoked users found after the first kick that were not
	// there before: the callout admitted them again.
	Returned []Conn
}

// Warnings are what the user must hear about: connections that came back.
func (r Report) Warnings() []string {
	if len(r.Returned) == 0 {
		return nil
	}
	byEntry := map[string]int{}
	for _, c := range r.Returned {
		byEntry[c.Entry]++
	}
	var names []string
	for e, n := range byEntry {
		names = append(names, fmt.Sprintf("%s (%d)", e, n))
	}
	slices.Sort(names)
	return []string{fmt.Sprintf("connections came back after they were closed: %s. The callout admitted them again: either "+
		"it is not enforcing the offboarding bucket (check that every callout replica runs with the trust's current "+
		"callout config and is ready, /readyz), or their tokens were issued after the cutoff", strings.Join(names, ", "))}
}

// Check validates what Apply would write against the document, without touching a server.
func Check(doc *calloutconfig.Document, entries []Entry) error {
	if doc == nil {
		return errors.New("no callout config given")
	}
	if doc.Offboarding == nil {
		return errors.New("the trust's callout config has no offboarding section: set offboarding on natsping_trust, " +
			"deploy the new callout config and callout account JWT, then offboard")
	}
	var errs []error
	for _, e := range entries {
		if err := e.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := CheckAgainst(doc, entries); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Apply writes the bucket first, so the callout refuses the entries' tokens from then on,
// then closes every live connection of theirs on every server, then watches for a settle
// period, closing any that come back. An error after the write leaves the entries in the
// bucket: the callout enforces them, and a retried apply closes what is left.
func Apply(ctx context.Context, o Options) (Report, error) {
	o = o.withDefaults()
	var rep Report
	if err := Check(o.Doc, append(slices.Clone(o.Put), o.Rewrite...)); err != nil {
		return rep, err
	}
	if err := writeBucket(ctx, o); err != nil {
		return rep, err
	}
	rep.Written = time.Now()
	if len(o.Put) == 0 {
		return rep, nil
	}
	nc, err := resolver.Connect(resolver.ConnectOptions{Servers: o.Servers, Creds: o.SystemCreds, CAPEM: o.CAPEM,
		Timeout: o.Timeout, Name: "natsping offboarding"})
	if err != nil {
		return rep, fmt.Errorf("system user: %w", err)
	}
	defer nc.Close()
	return rep, closeConnections(ctx, nc, newSelector(o.Doc, o.Put), o, &rep)
}

func closeConnections(ctx context.Context, nc *nats.Conn, sel *selector, o Options, rep *Report) error {
	kicked := map[Conn]bool{}
	servers := map[string]bool{}
	quietUntil := time.Now().Add(o.Settle)
	for rounds := 0; ; {
		res, err := scan(ctx, nc, sel, o.Quiet, o.Timeout)
		if err != nil {
			return err
		}
		for _, name := range res.servers {
			if !servers[name] {
				servers[name] = true
				rep.Servers = append(rep.Servers, name)
			}
		}
		var fresh []Conn
		for _, c := range res.matches {
			k := Conn{ServerID: c.ServerID, CID: c.CID}
			if !kicked[k] {
				fresh = append(fresh, c)
			}
		}
		if len(fresh) > 0 {
			if rounds == o.Rounds {
				// The bucket is written and was kicked Rounds times: what keeps coming back is a
				// callout that does not enforce, which Warnings names; failing here would only
				// lose the state of entries that are in the bucket.
				rep.Returned = append(rep.Returned, fresh...)
				slices.Sort(rep.Servers)
				return nil
			}
			if rounds > 0 {
				rep.Returned = append(rep.Returned, fresh...)
			}
			if err := kick(ctx, nc, fresh, o.Timeout); err != nil {
				return err
			}
			for _, c := range fresh {
				kicked[Conn{ServerID: c.ServerID, CID: c.CID}] = true
			}
			rep.Closed = append(rep.Closed, fresh...)
			rounds++
			quietUntil = time.Now().Add(o.Settle)
			continue
		}
		wait := time.Until(quietUntil)
		if wait <= 0 {
			slices.Sort(rep.Servers)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(wait, 2*o.Quiet)):
		}
	}
}

// writeBucket puts and deletes the entries as the callout service user.
func writeBucket(ctx context.Context, o Options) error {
	if len(o.Put) == 0 && len(o.Rewrite) == 0 && len(o.Remove) == 0 {
		return nil
	}
	return withBucket(ctx, o, func(kv jetstream.KeyValue) error {
		return Write(ctx, kv, append(slices.Clone(o.Put), o.Rewrite...), o.Remove)
	})
}

// Load reads the stored entries for keys, as the callout service user.
func Load(ctx context.Context, o Options, keys []string) (map[string]Entry, error) {
	o = o.withDefaults()
	var out map[string]Entry
	err := withBucket(ctx, o, func(kv jetstream.KeyValue) error {
		var err error
		out, err = Read(ctx, kv, keys)
		return err
	})
	return out, err
}

func withBucket(ctx context.Context, o Options, fn func(jetstream.KeyValue) error) error {
	if o.Doc == nil || o.Doc.Offboarding == nil {
		return Check(o.Doc, nil)
	}
	nc, err := resolver.Connect(resolver.ConnectOptions{Servers: o.Servers, Creds: o.Doc.NATS.Creds, CAPEM: o.CAPEM,
		Timeout: o.Timeout, Name: "natsping offboarding"})
	if err != nil {
		return fmt.Errorf("callout service user (from the callout config): %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithDefaultTimeout(o.Timeout))
	if err != nil {
		return err
	}
	kv, err := EnsureBucket(ctx, js, *o.Doc.Offboarding)
	if err != nil {
		return err
	}
	return fn(kv)
}
