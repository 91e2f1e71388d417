package callout

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
)

// Subjects, audiences and headers of the nats-server auth callout protocol.
const (
	AuthCalloutSubject   = "$SYS.REQ.USER.AUTH"
	AuthRequestAudience  = "nats-authorization-request"
	ServerXKeyHeader     = "Nats-Server-Xkey"
	refusalMessage       = "not authorized"
	defaultDecisionLimit = 1500 * time.Millisecond
)

// Verifier checks a Ping token and says who it belongs to; *oidc.Verifier is one.
type Verifier interface {
	Verify(ctx context.Context, raw string) (*oidc.Identity, error)
}

// Reason is why a request was refused (or "ok"); oidc reasons are used as they are.
type Reason string

const (
	ReasonOK               Reason = "ok"
	ReasonBadRequest       Reason = "bad_request"
	ReasonPlaintextRequest Reason = "plaintext_request_with_xkey"
	ReasonSealedRequest    Reason = "sealed_request_without_xkey"
	ReasonUndecryptable    Reason = "undecryptable_request"
	ReasonNoToken          Reason = "no_token"
	ReasonNoIdentity       Reason = "token_without_identity"
	ReasonServiceToken     Reason = "service_client_not_mapped"
	ReasonNoMapping        Reason = "no_mapped_group"
	ReasonConditionsNotMet Reason = "mapping_conditions_not_met"
	ReasonUnknownAccount   Reason = "unknown_account"
	ReasonAccountNotMapped Reason = "account_not_mapped_for_groups"
	ReasonConnectionType   Reason = "connection_type_not_allowed"
	ReasonSessionEnded     Reason = "session_already_expired"
	ReasonVerifyTimeout    Reason = "verification_timeout"
	ReasonInternal         Reason = "internal_error"
)

// engine is one immutable configuration snapshot. Reload builds a new one and swaps it in;
// requests already running finish on the snapshot they started with.
type engine struct {
	calloutAccount string
	responder      *signingKey
	xkey           *xkeyRing // nil when requests are not sealed
	mappings       *mappingSet
	verifier       Verifier
	now            func() time.Time
	limit          time.Duration
	spread         float64 // expiry_spread_percent, the default when the document names none
	offboard       *offboardState
}

func newEngine(doc *calloutconfig.Document, v Verifier, now func() time.Time) (*engine, error) {
	if v == nil {
		return nil, errors.New("callout: a token verifier is required")
	}
	if now == nil {
		now = time.Now
	}
	responder, err := newSigningKey(doc.NATS.CalloutAccountSeed, natsjwt.KindAccount)
	if err != nil {
		return nil, fmt.Errorf("nats.callout_account_seed: %w", err)
	}
	if responder.pub != doc.NATS.CalloutAccount {
		return nil, fmt.Errorf("nats.callout_account_seed belongs to %s, not to nats.callout_account %s; render the config again from the same trust", responder.pub, doc.NATS.CalloutAccount)
	}
	e := &engine{calloutAccount: doc.NATS.CalloutAccount, responder: responder, verifier: v, now: now, limit: defaultDecisionLimit,
		spread: doc.ExpirySpread()}
	if doc.NATS.XKeySeed != "" {
		if e.xkey, err = newXKeyRing(doc.NATS.XKeySeed, doc.NATS.XKeySeeds); err != nil {
			return nil, err
		}
	}
	if e.mappings, err = compileMappings(doc.Mappings); err != nil {
		return nil, err
	}
	return e, nil
}

// decision is everything known about one request; it becomes one audit line.
type decision struct {
	Allowed  bool
	Reason   Reason
	Detail   string // internal detail for the audit log, never sent to the client
	Request  *jwt.AuthorizationRequestClaims
	Identity *oidc.Identity
	// TokenHash is the hex SHA-256 of the presented token, also for refused tokens.
	TokenHash string
	Mapping   *mapping
	// SessionCap is when the user JWT would expire unspread (the token's exp or max_session,
	// in whole seconds); Expires is the expiry chosen, at most SessionCap.
	SessionCap time.Time
	Expires    time.Time
	Started    time.Time
	Latency    time.Duration
}

// handle answers one raw request as it arrived on the wire. It returns the reply payload:
// a (possibly sealed) response JWT, or an empty payload, which the server treats as "not
// authorized", when the request is too broken to address a response to.
func (e *engine) handle(ctx context.Context, data []byte, serverXKey string) ([]byte, *decision) {
	start := time.Now()
	d := &decision{Started: e.now()}
	defer func() { d.Latency = time.Since(start) }()

	req, opener, reason, err := e.decodeRequest(data, serverXKey)
	if err != nil {
		d.Reason, d.Detail = reason, err.Error()
		return nil, d
	}
	d.Request = req

	ujwt := e.decide(ctx, req, d)
	// The decision outlives this call (metrics, audit); the token must not.
	req.ConnectOptions.Token, req.ConnectOptions.Password = "", ""
	resp := jwt.NewAuthorizationResponseClaims(req.UserNkey)
	resp.Audience = req.Server.ID
	if ujwt != "" {
		resp.Jwt = ujwt
	} else {
		resp.Error = refusalMessage
	}
	out, err := resp.Encode(e.responder)
	if err != nil {
		d.Allowed, d.Reason, d.Detail = false, ReasonInternal, "signing the response: "+err.Error()
		return nil, d
	}
	if opener == nil {
		return []byte(out), d
	}
	sealed, err := opener.seal([]byte(out), req.Server.XKey)
	if err != nil {
		d.Allowed, d.Reason, d.Detail = false, ReasonInternal, "sealing the response: "+err.Error()
		return nil, d
	}
	return sealed, d
}

// decodeRequest opens (when sealed) and verifies the request JWT the server sent; the xkey
// that opened it is returned, to seal the reply.
func (e *engine) decodeRequest(data []byte, serverXKey string) (*jwt.AuthorizationRequestClaims, *xkeyBox, Reason, error) {
	var opener *xkeyBox
	if len(data) == 0 || len(data) > jwt.MaxTokenSize+256 {
		return nil, nil, ReasonBadRequest, fmt.Errorf("request of %d bytes", len(data))
	}
	plain := bytes.HasPrefix(data, []byte("eyJ"))
	switch {
	case e.xkey != nil && plain:
		return nil, nil, ReasonPlaintextRequest, errors.New("an xkey is configured but the request was not sealed; the callout account JWT must carry the xkey")
	case e.xkey == nil && !plain:
		return nil, nil, ReasonSealedRequest, errors.New("the request is not a JWT (sealed?) but no xkey is configured")
	case e.xkey != nil:
		if !nkeys.IsValidPublicCurveKey(serverXKey) {
			return nil, nil, ReasonUndecryptable, fmt.Errorf("header %s is missing or not a curve public key", ServerXKeyHeader)
		}
		opened, box, err := e.xkey.open(data, serverXKey)
		if err != nil {
			return nil, nil, ReasonUndecryptable, err
		}
		data, opener = opened, box
	}
	req, err := jwt.DecodeAuthorizationRequestClaims(string(data))
	if err != nil {
		return nil, nil, ReasonBadRequest, fmt.Errorf("decoding the request JWT: %w", err)
	}
	switch {
	case req.Audience != AuthRequestAudience:
		return nil, nil, ReasonBadRequest, fmt.Errorf("request audience %q, expected %q", req.Audience, AuthRequestAudience)
	case !nkeys.IsValidPublicServerKey(req.Issuer) || req.Issuer != req.Server.ID:
		return nil, nil, ReasonBadRequest, fmt.Errorf("request issuer %q is not the sending server %q", req.Issuer, req.Server.ID)
	case req.Subject != e.calloutAccount:
		return nil, nil, ReasonBadRequest, fmt.Errorf("request is for account %q, this service serves %q", req.Subject, e.calloutAccount)
	case !nkeys.IsValidPublicUserKey(req.UserNkey):
		return nil, nil, ReasonBadRequest, errors.New("request user_nkey is not a user public key")
	case e.xkey != nil && req.Server.XKey != serverXKey:
		return nil, nil, ReasonBadRequest, errors.New("the signed server xkey differs from the header")
	}
	return req, opener, ReasonOK, nil
}

// decide fills d and returns the encoded user JWT, or "" to refuse.
func (e *engine) decide(ctx context.Context, req *jwt.AuthorizationRequestClaims, d *decision) string {
	co := &req.ConnectOptions
	// The token travels in auth_token (nats.Token) or in pass (nats.UserInfo, where user
	// then names the account); connect_opts.jwt holds the sentinel and is never a token.
	token, requested := co.Token, co.Username
	if token == "" {
		token = co.Password
	}
	if token == "" {
		d.Reason, d.Detail = ReasonNoToken, "no token in auth_token or pass"
		return ""
	}
	// The server stops waiting after its auth timeout, which it encodes as exp - iat. The
	// difference is used rather than exp itself, so a skewed clock here cannot refuse
	// every request; a late reply is harmless because it is bound to a fresh user nkey.
	budget := e.limit
	if wait := time.Duration(req.Expires-req.IssuedAt) * time.Second; wait > 0 && wait < budget {
		budget = wait
	}
	vctx, cancel := context.WithTimeout(ctx, budget)
	id, err := e.verifier.Verify(vctx, token)
	cancel()
	if err != nil {
		d.Reason, d.Detail, d.TokenHash = Reason(oidc.ReasonOf(err)), err.Error(), oidc.TokenHash(token)
		var ve *oidc.VerifyError
		if !errors.As(err, &ve) && errors.Is(err, context.DeadlineExceeded) {
			// Keys could not be fetched before the server stops waiting; the token may
			// well be fine, so the audit line must not call it malformed.
			d.Reason = ReasonVerifyTimeout
		}
		return ""
	}
	d.Identity, d.TokenHash = id, id.TokenHash
	if d.TokenHash == "" {
		d.TokenHash = oidc.TokenHash(token)
	}
	if id.Subject == "" && id.ClientID == "" {
		d.Reason, d.Detail = ReasonNoIdentity, "the token has neither sub nor client_id, so it names no holder"
		return ""
	}

	sel := e.mappings.choose(id, requested, &req.ClientInformation)
	if sel.m == nil {
		d.Reason = sel.reason
		if sel.reason == ReasonServiceToken {
			d.Detail = "the token has no sub: it is a client-credentials token of client " + id.ClientID +
				", and no mapping names that client id"
		}
		return ""
	}
	m := sel.m
	d.Mapping = m
	if ent, reason, refused := e.offboard.refuses(id, m); refused {
		d.Reason, d.Detail = reason, ent.Detail(id.IssuedAt)
		if reason == ReasonOffboardingNotLoaded {
			d.Detail = "the offboarding bucket has not been read yet"
		}
		return ""
	}

	now := e.now()
	exp := now.Add(m.maxSession)
	if !id.Expiry.IsZero() && id.Expiry.Before(exp) {
		exp = id.Expiry
	}
	if !exp.After(now) {
		d.Reason = ReasonSessionEnded
		return ""
	}
	d.SessionCap, d.Expires = spreadExpiry(exp, now, e.spread, req.UserNkey)
	exp = d.Expires

	// Every admitted user carries exactly one identity tag, and the mapping's own tags can never
	// add a second (calloutconfig reserves both keys): ping-sub for a person, ping-client for a
	// service (no sub). A person never gets ping-client, so a template written for services,
	// such as svc.{{tag(ping-client)}}.>, cannot hand a person the subjects of the app they
	// signed in through; nats-server drops a templated subject whose tag is missing.
	tags := make([]string, 0, len(m.tags)+1)
	if id.Subject != "" {
		tags = append(tags, calloutconfig.TagPingSub+":"+calloutconfig.IdentityTagValue(id.Subject))
	} else {
		tags = append(tags, calloutconfig.TagPingClient+":"+calloutconfig.IdentityTagValue(id.ClientID))
	}
	tags = append(tags, m.tags...)
	uc := natsjwt.ScopedUserClaims(req.UserNkey, m.account, subjectToken(id.Name), tags, exp)
	out, err := uc.Encode(m.signer)
	if err != nil {
		d.Reason, d.Detail, d.Mapping = ReasonInternal, "signing the user JWT: "+err.Error(), nil
		return ""
	}
	d.Allowed, d.Reason = true, ReasonOK
	return out
}

// spreadExpiry returns the session cap in whole seconds (as the JWT carries it) and the
// expiry chosen for this connection: the cap moved earlier by an offset within
// calloutconfig.ExpirySpreadWindow, so it never passes the cap.
//
// The offset comes from the user nkey, not from a random source or the token: nats-server
// makes a fresh nkey for every connection, so users admitted together (even replicas that
// share one client-credentials token, whose token hash would give them all one offset) get
// offsets spread uniformly over the window, and the choice can be recomputed from an audit
// line (user_nkey, session_cap, user_expires). The client never chooses the nkey, and could
// only shorten its own session if it did.
func spreadExpiry(end, now time.Time, percent float64, userNkey string) (time.Time, time.Time) {
	end = time.Unix(end.Unix(), 0)
	window := calloutconfig.ExpirySpreadWindow(percent, end.Sub(now))
	if window <= 0 {
		return end, end
	}
	h := sha256.Sum256([]byte(userNkey))
	steps := uint64(window/time.Second) + 1
	offset := time.Duration(binary.BigEndian.Uint64(h[:8])%steps) * time.Second
	return end, end.Add(-offset)
}
