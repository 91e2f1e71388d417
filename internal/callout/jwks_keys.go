package callout

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
)

// jwksHTTPTimeout bounds one JWKS request; a fetch caused by a decision is also bounded by
// that decision's deadline.
const jwksHTTPTimeout = 10 * time.Second

// keySource is one issuer key set and where it comes from: pinned keys, or a remote JWKS with
// the background refresh that keeps it current.
type keySource struct {
	id     string // keySourceKey of the issuer section: equal ids share the key set
	keys   oidc.KeySet
	remote *oidc.RemoteKeySet // nil for pinned keys

	once    sync.Once
	stop    context.CancelFunc
	stopped chan struct{} // closed when the background refresh has returned
}

// newKeySource builds the key set an issuer section names. Nothing runs until start.
func newKeySource(iss calloutconfig.Issuer, now func() time.Time) (*keySource, error) {
	id, err := keySourceKey(iss)
	if err != nil {
		return nil, err
	}
	ks := &keySource{id: id, stopped: make(chan struct{})}
	if len(iss.PinnedJWKS) > 0 {
		static, err := oidc.NewStaticKeySet(iss.PinnedJWKS)
		if err != nil {
			return nil, err
		}
		ks.keys = static
		return ks, nil
	}
	client, err := oidc.NewHTTPClient(iss.CABundlePEM, iss.AllowInsecureHTTP, jwksHTTPTimeout)
	if err != nil {
		return nil, err
	}
	ks.remote = oidc.NewRemoteKeySet(client, iss.JWKSURL, oidc.RemoteKeySetOptions{
		// jwks_min_refresh_interval is the floor of the scheduled refresh; refetches for
		// unknown kids keep oidc's own one-second budget, so a forged-kid flood can never
		// hold back a rotation for this long.
		MinRefreshInterval: iss.JWKSMinRefreshInterval.Std(),
		Now:                now,
	})
	ks.keys = ks.remote
	return ks, nil
}

// start fetches the keys now and keeps them current until close; pinned keys never fetch.
func (ks *keySource) start() {
	if ks.remote == nil {
		return
	}
	ks.once.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		ks.stop = cancel
		go func() {
			defer close(ks.stopped)
			ks.remote.Run(ctx)
		}()
	})
}

// close stops the background refresh; the cached keys keep answering the requests that still
// hold this set.
func (ks *keySource) close() {
	ks.once.Do(func() { close(ks.stopped) }) // never started: nothing to wait for
	if ks.stop != nil {
		ks.stop()
	}
}

// stats are the remote set's counters; zero for pinned keys.
func (ks *keySource) stats() oidc.KeySetStats {
	if ks == nil || ks.remote == nil {
		return oidc.KeySetStats{}
	}
	return ks.remote.Stats()
}

// jwksKeys is the one owner of a service's issuer key set across configuration reloads: a
// reload that keeps the key source keeps the set (and its cached keys, so tokens keep
// verifying while the issuer is unreachable), one that changes it gets a new set whose
// refresh replaces the old one's. Exactly one set is live; a set prepared for a reload that
// then fails is discarded. Counters of retired sets are kept, so metrics never go backwards.
type jwksKeys struct {
	now func() time.Time

	mu       sync.Mutex
	live     *keySource
	retiring []*keySource // no longer live, refresh stopping, not yet in retired
	retired  oidc.KeySetStats
}

// prepare returns the key set for iss: the live one when the key source is unchanged,
// otherwise a new, already refreshing one, so its keys load while the rest of the reload is
// built. The caller commits or discards it.
func (o *jwksKeys) prepare(iss calloutconfig.Issuer) (*keySource, error) {
	id, err := keySourceKey(iss)
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	live := o.live
	o.mu.Unlock()
	if live != nil && live.id == id {
		return live, nil
	}
	ks, err := newKeySource(iss, o.now)
	if err != nil {
		return nil, err
	}
	ks.start()
	return ks, nil
}

// commit makes ks the live set; the set it replaces stops refreshing.
func (o *jwksKeys) commit(ks *keySource) {
	o.mu.Lock()
	old := o.live
	if old == ks {
		o.mu.Unlock()
		return
	}
	o.live = ks
	if old != nil {
		o.retiring = append(o.retiring, old)
	}
	o.mu.Unlock()
	if old != nil {
		o.retire(old)
	}
}

// discard drops a set prepare returned for a reload that did not happen.
func (o *jwksKeys) discard(ks *keySource) {
	o.mu.Lock()
	if ks == nil || ks == o.live {
		o.mu.Unlock()
		return
	}
	o.retiring = append(o.retiring, ks)
	o.mu.Unlock()
	o.retire(ks)
}

// retire stops ks and only then moves its counters into retired: a fetch its refresh started
// at the last moment has reached the issuer and must be counted.
func (o *jwksKeys) retire(ks *keySource) {
	ks.close()
	<-ks.stopped
	st := ks.stats()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.retired = addCounts(o.retired, st)
	for i, r := range o.retiring {
		if r == ks {
			o.retiring = append(o.retiring[:i], o.retiring[i+1:]...)
			break
		}
	}
}

// stats add the retired sets' counters to the live set's; Keys and LastError are the live
// set's alone.
func (o *jwksKeys) stats() oidc.KeySetStats {
	o.mu.Lock()
	st, live := o.retired, o.live
	for _, r := range o.retiring {
		st = addCounts(st, r.stats())
	}
	o.mu.Unlock()
	cur := live.stats()
	st = addCounts(st, cur)
	st.Keys, st.LastSuccess, st.LastError = cur.Keys, cur.LastSuccess, cur.LastError
	return st
}

func addCounts(sum, st oidc.KeySetStats) oidc.KeySetStats {
	sum.Fetches += st.Fetches
	sum.FetchFailures += st.FetchFailures
	sum.SuppressedRefreshes += st.SuppressedRefreshes
	return sum
}

// remote reports whether the live set fetches its keys (so readiness depends on them).
func (o *jwksKeys) remote() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.live != nil && o.live.remote != nil
}

// close stops the live set's refresh at shutdown.
func (o *jwksKeys) close() {
	o.mu.Lock()
	live := o.live
	o.mu.Unlock()
	if live != nil {
		live.close()
	}
}

// keySourceKey identifies where an issuer section's keys come from.
func keySourceKey(iss calloutconfig.Issuer) (string, error) {
	b, err := json.Marshal(struct {
		JWKSURL     string
		Pinned      json.RawMessage
		CABundlePEM string
		Insecure    bool
		MinRefresh  calloutconfig.Duration
	}{iss.JWKSURL, iss.PinnedJWKS, iss.CABundlePEM, iss.AllowInsecureHTTP, iss.JWKSMinRefreshInterval})
	if err != nil {
		return "", fmt.Errorf("issuer: %w", err)
	}
	return string(b), nil
}
