package callout

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// AuditRecord is one decision as written to the audit log: enough to tie every allow or
// deny back to the token's claims and the connection, and never the token itself (only its
// SHA-256, which matches the hash of the same token found elsewhere).
type AuditRecord struct {
	Time        time.Time `json:"time"`
	Decision    string    `json:"decision"` // "allow" or "deny"
	Reason      Reason    `json:"reason"`
	Detail      string    `json:"detail,omitempty"`
	ClientHost  string    `json:"client_host,omitempty"`
	ClientID    uint64    `json:"client_id,omitempty"`
	ClientKind  string    `json:"client_kind,omitempty"`
	ClientType  string    `json:"client_type,omitempty"`
	ServerID    string    `json:"server_id,omitempty"`
	ServerName  string    `json:"server_name,omitempty"`
	ConnectName string    `json:"connect_name,omitempty"`
	// ConnectUser is the connect `user`, which names the requested account.
	ConnectUser string `json:"connect_user,omitempty"`
	UserNkey    string `json:"user_nkey,omitempty"`

	Subject       string    `json:"ping_sub,omitempty"`
	Name          string    `json:"name,omitempty"`
	OAuthClientID string    `json:"oauth_client_id,omitempty"`
	Groups        []string  `json:"groups,omitempty"`
	Scopes        []string  `json:"scopes,omitempty"`
	KeyID         string    `json:"token_kid,omitempty"`
	TokenExpires  time.Time `json:"token_expires,omitzero"`
	TokenSHA256   string    `json:"token_sha256,omitempty"`

	Mapping     string    `json:"mapping,omitempty"`
	Account     string    `json:"account,omitempty"`
	AccountName string    `json:"account_name,omitempty"`
	Role        string    `json:"role,omitempty"`
	UserExpires time.Time `json:"user_expires,omitzero"`
	// SessionCap is the expiry before spreading (token exp or max_session); user_expires is
	// at most this, earlier by the spread the callout chose for this connection.
	SessionCap time.Time `json:"session_cap,omitzero"`

	LatencyMicros int64 `json:"latency_us"`
}

// record turns a decision into its audit line.
func (d *decision) record() AuditRecord {
	r := AuditRecord{
		Time:          d.Started.UTC(),
		Decision:      "deny",
		Reason:        d.Reason,
		Detail:        d.Detail,
		TokenSHA256:   d.TokenHash,
		LatencyMicros: d.Latency.Microseconds(),
	}
	if d.Allowed {
		r.Decision = "allow"
	}
	if q := d.Request; q != nil {
		ci := &q.ClientInformation
		r.ClientHost, r.ClientID, r.ClientKind, r.ClientType = ci.Host, ci.ID, ci.Kind, ci.Type
		r.ServerID, r.ServerName = q.Server.ID, q.Server.Name
		r.ConnectName, r.ConnectUser = q.ConnectOptions.Name, q.ConnectOptions.Username
		r.UserNkey = q.UserNkey
	}
	if id := d.Identity; id != nil {
		r.Subject, r.Name, r.OAuthClientID = id.Subject, id.Name, id.ClientID
		r.Groups, r.Scopes, r.KeyID = id.Groups, id.Scopes, id.KeyID
		if !id.Expiry.IsZero() {
			r.TokenExpires = id.Expiry.UTC()
		}
	}
	if m := d.Mapping; m != nil {
		r.Mapping, r.Account, r.AccountName, r.Role = m.name, m.account, m.accountName, m.role
	}
	if !d.Expires.IsZero() {
		r.UserExpires, r.SessionCap = d.Expires.UTC(), d.SessionCap.UTC()
	}
	return r
}

// Auditor writes audit lines off the decision path: Record never blocks, and when the
// buffer is full the line is counted as dropped rather than delaying a connect.
type Auditor struct {
	ch      chan auditItem
	w       *bufio.Writer
	dropped atomic.Uint64
	written atomic.Uint64
	publish atomic.Pointer[func(subject string, data []byte) error]
	done    chan struct{}
	// mu orders Record against Close: a decision that outlives Shutdown's deadline may
	// still record, and a send on the closed channel would panic.
	mu     sync.RWMutex
	closed bool
}

type auditItem struct {
	rec     AuditRecord
	subject string
}

// NewAuditor starts an auditor writing JSON lines to w with room for buffer pending lines.
func NewAuditor(w io.Writer, buffer int) *Auditor {
	if buffer <= 0 {
		buffer = 8192
	}
	a := &Auditor{ch: make(chan auditItem, buffer), w: bufio.NewWriterSize(w, 64<<10), done: make(chan struct{})}
	go a.run()
	return a
}

// SetPublisher makes every later line also go to NATS (when the record names a subject).
func (a *Auditor) SetPublisher(fn func(subject string, data []byte) error) {
	if fn == nil {
		a.publish.Store(nil)
		return
	}
	a.publish.Store(&fn)
}

// Record queues one line; it returns false when the line had to be dropped (the buffer is
// full or the auditor is closed).
func (a *Auditor) Record(rec AuditRecord, subject string) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		a.dropped.Add(1)
		return false
	}
	select {
	case a.ch <- auditItem{rec: rec, subject: subject}:
		return true
	default:
		a.dropped.Add(1)
		return false
	}
}

// Dropped is the number of lines lost because the buffer was full.
func (a *Auditor) Dropped() uint64 { return a.dropped.Load() }

// Written is the number of lines written.
func (a *Auditor) Written() uint64 { return a.written.Load() }

// Close writes every queued line and stops the auditor; later lines are dropped.
func (a *Auditor) Close() {
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		close(a.ch)
	}
	a.mu.Unlock()
	<-a.done
}

func (a *Auditor) run() {
	defer close(a.done)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for item := range a.ch {
		buf.Reset()
		if err := enc.Encode(&item.rec); err != nil {
			a.dropped.Add(1)
			continue
		}
		_, _ = a.w.Write(buf.Bytes())
		a.written.Add(1)
		if item.subject != "" {
			if pub := a.publish.Load(); pub != nil {
				// nats.go copies the payload into its write buffer, so buf can be reused.
				_ = (*pub)(item.subject, bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
			}
		}
		// Flush once the queue is empty: a burst becomes one write, a quiet line is
		// visible at once.
		if len(a.ch) == 0 {
			_ = a.w.Flush()
		}
	}
	_ = a.w.Flush()
}
