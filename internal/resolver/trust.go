package resolver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// Trust is what the servers trust: the operators of their configuration.
type Trust struct {
	// Operators are the operators of the first server that answered. Tests build a Trust from
	// Operators alone to send what a careless client would.
	Operators []*jwt.OperatorClaims
	// Servers lists every server that answered with the operators it runs. During a rolling
	// restart with a new operator JWT they differ, which is why every server is asked.
	Servers []ServerTrust
	// Target is the operator JWT the servers are meant to run (natsping_resolver_push's
	// operator_jwt), if known; it lets a refusal say which JWT to restart them with.
	Target *jwt.OperatorClaims
}

// ServerTrust is one server's answer.
type ServerTrust struct {
	Server    string
	Operators []*jwt.OperatorClaims
}

type varzResponse struct {
	Server *serverInfo `json:"server"`
	Data   struct {
		TrustedOperatorsClaim []*jwt.OperatorClaims `json:"trusted_operators_claim"`
	} `json:"data"`
	Error *struct {
		Description string `json:"description"`
	} `json:"error"`
}

// FetchTrust asks every server which operators it trusts. A full resolver stores any
// well-formed account JWT it is sent, whoever signed it (server/accounts.go
// DirAccResolver.Start only refuses the operator identity key under strict signing keys); an
// account of another operator, or one signed by a signing key the server's operator JWT does
// not list yet, then sits in the resolver and fails only when a client connects. Checking
// the issuer against every server lets Push refuse it with a useful message instead.
//
// Servers do not announce how many they are, so after the first answer FetchTrust waits until
// DefaultSettle passes without another, bounded by timeout. Push and Delete stop at
// Options.Servers answers when it is set (a cluster whose servers all run full resolvers).
func FetchTrust(ctx context.Context, nc *nats.Conn, timeout time.Duration) (Trust, error) {
	return fetchTrust(ctx, nc, timeout, 0)
}

// trustFor starts asking the servers for their trust while the caller discovers the full
// resolvers (both wait for stragglers, so in parallel neither adds to the other), and returns
// a function that waits for the answer. opts.Trust, when set, is used as is; opts.Servers,
// when set, ends the wait at that many answers.
func trustFor(ctx context.Context, nc *nats.Conn, opts Options) func() (*Trust, error) {
	if opts.Trust != nil {
		return func() (*Trust, error) { return opts.Trust, nil }
	}
	type result struct {
		t   Trust
		err error
	}
	ch := make(chan result, 1)
	go func() {
		t, err := fetchTrust(ctx, nc, opts.Timeout, opts.Servers)
		ch <- result{t, err}
	}()
	return func() (*Trust, error) {
		r := <-ch
		if r.err != nil {
			return nil, r.err
		}
		return &r.t, nil
	}
}

func fetchTrust(ctx context.Context, nc *nats.Conn, timeout time.Duration, servers int) (Trust, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	inbox := nc.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return Trust{}, err
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := nc.PublishRequest(subjVarzPing, inbox, nil); err != nil {
		return Trust{}, fmt.Errorf("asking the servers which operator they trust: %w", err)
	}
	var t Trust
	seen := map[string]bool{}
	deadline := time.Now().Add(timeout)
	for servers == 0 || len(t.Servers) < servers {
		wait := time.Until(deadline)
		if len(t.Servers) > 0 && servers == 0 {
			wait = min(wait, DefaultSettle)
		}
		if wait <= 0 {
			break
		}
		m, err := nextMsg(ctx, sub, wait)
		if err != nil {
			if ctx.Err() != nil {
				return Trust{}, ctx.Err()
			}
			break
		}
		if isNoResponders(m) {
			return Trust{}, errors.New("asking the servers which operator they trust: no server answers $SYS.REQ.SERVER.PING.VARZ; " +
				"are the creds those of a system account user?")
		}
		var resp varzResponse
		if err := json.Unmarshal(m.Data, &resp); err != nil {
			return Trust{}, fmt.Errorf("the servers answered a VARZ request with something that is not JSON: %w", err)
		}
		if resp.Error != nil {
			return Trust{}, fmt.Errorf("the servers refused a VARZ request: %s", resp.Error.Description)
		}
		if len(resp.Data.TrustedOperatorsClaim) == 0 {
			return Trust{}, errors.New("the servers trust no operator; a full resolver needs operator mode")
		}
		name := "(unnamed server)"
		if resp.Server != nil {
			if seen[resp.Server.ID] {
				continue
			}
			seen[resp.Server.ID] = true
			name = serverName(resp.Server)
		}
		if t.Operators == nil {
			t.Operators = resp.Data.TrustedOperatorsClaim
		}
		t.Servers = append(t.Servers, ServerTrust{Server: name, Operators: resp.Data.TrustedOperatorsClaim})
	}
	if len(t.Servers) == 0 {
		return Trust{}, fmt.Errorf("asking the servers which operator they trust: no answer within %s", timeout)
	}
	slices.SortFunc(t.Servers, func(a, b ServerTrust) int { return strings.Compare(a.Server, b.Server) })
	return t, nil
}

// strictIdentityError is the one refusal no restart fixes.
type strictIdentityError struct{ msg string }

func (e *strictIdentityError) Error() string { return e.msg }

// Check tells whether an account signed by issuer is accepted by every server, and why not.
// When some servers accept the issuer and others do not, or the target operator JWT lists it,
// the servers that do not are running an older operator JWT (a signing-key rotation in
// progress): the error names them and the operator JWT to restart them with.
func (t Trust) Check(issuer string) error {
	if len(t.Servers) == 0 {
		return checkOperators(t.Operators, issuer)
	}
	var lacking, trusting []string
	var first error
	var lackingOps []*jwt.OperatorClaims
	for _, s := range t.Servers {
		err := checkOperators(s.Operators, issuer)
		var strict *strictIdentityError
		switch {
		case errors.As(err, &strict):
			return err
		case err != nil:
			lacking = append(lacking, s.Server)
			lackingOps = append(lackingOps, s.Operators...)
			if first == nil {
				first = err
			}
		default:
			trusting = append(trusting, s.Server)
		}
	}
	if len(lacking) == 0 {
		return nil
	}
	targetLists := t.Target != nil && natsjwt.CheckAccountIssuer(t.Target, issuer) == nil
	if len(trusting) == 0 && !targetLists {
		return first
	}
	var b strings.Builder
	fmt.Fprintf(&b, "it is signed by %s, which %s %s not trust yet: %s %s", issuer,
		strings.Join(lacking, ", "), doVerb(len(lacking)), pronoun(len(lacking)), describeOperators(lackingOps))
	b.WriteString(". A server stores an account JWT it cannot verify but does not apply it, so the account's users could not connect there. ")
	fmt.Fprintf(&b, "Restart %s with ", strings.Join(lacking, ", "))
	if targetLists {
		fmt.Fprintf(&b, "the operator JWT given in operator_jwt (%s)", describeOperator(t.Target))
	} else {
		fmt.Fprintf(&b, "an operator JWT that lists %s, normally natsping_operator.<name>.jwt", issuer)
	}
	b.WriteString(" — deploy the natsping_server_config output rendered from it; a config reload is refused for a changed " +
		"operator — then apply again to push this account")
	if len(trusting) > 0 {
		fmt.Fprintf(&b, " (%s already %s it)", strings.Join(trusting, ", "), trustVerb(len(trusting)))
	}
	return errors.New(b.String())
}

func checkOperators(ops []*jwt.OperatorClaims, issuer string) error {
	var names []string
	for _, op := range ops {
		switch err := natsjwt.CheckAccountIssuer(op, issuer); {
		case err == nil:
			return nil
		case errors.Is(err, natsjwt.ErrIdentityUnderStrict):
			return &strictIdentityError{fmt.Sprintf("it is signed by the identity key of operator %q (%s), which uses strict "+
				"signing keys: the servers accept only accounts signed by one of its signing keys; sign it with natsping_operator.signer",
				op.Name, op.Subject)}
		}
		names = append(names, fmt.Sprintf("%q (%s)", op.Name, op.Subject))
	}
	return fmt.Errorf("it is signed by %s, which is neither the operator the servers trust (%s) nor one of its "+
		"signing keys; sign the account with that operator's signer, or push it to the servers of its own operator",
		issuer, strings.Join(names, ", "))
}

// describeOperators names distinct operator JWTs (by id) once each.
func describeOperators(ops []*jwt.OperatorClaims) string {
	seen := map[string]bool{}
	var parts []string
	for _, op := range ops {
		if seen[op.ID] {
			continue
		}
		seen[op.ID] = true
		parts = append(parts, describeOperator(op))
	}
	return strings.Join(parts, "; ")
}

func describeOperator(op *jwt.OperatorClaims) string {
	keys := slices.Clone([]string(op.SigningKeys))
	slices.Sort(keys)
	return fmt.Sprintf("operator %q (%s), JWT issued %s, signing keys %s", op.Name, op.Subject,
		time.Unix(op.IssuedAt, 0).UTC().Format(time.RFC3339), strings.Join(keys, ", "))
}

func doVerb(n int) string {
	if n == 1 {
		return "does"
	}
	return "do"
}

func pronoun(n int) string {
	if n == 1 {
		return "it runs"
	}
	return "they run"
}

func trustVerb(n int) string {
	if n == 1 {
		return "trusts"
	}
	return "trust"
}
