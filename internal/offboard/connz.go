package offboard

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
)

// System account subjects (nats-server server/events.go): PING.CONNZ is answered by every
// server, <id>.CONNZ and <id>.KICK by the server with that id. KICK closes the client with the
// given cid on that server (Server.DisconnectClientByID, close reason "Kicked").
const (
	subjConnzPing   = "$SYS.REQ.SERVER.PING.CONNZ"
	subjConnzServer = "$SYS.REQ.SERVER.%s.CONNZ"
	subjKick        = "$SYS.REQ.SERVER.%s.KICK"
)

// connzPage is the page size: with auth details every connection carries its user JWT, so a
// page of nats-server's default 1,024 would be a message of a megabyte or more. A variable so
// a test can make pages small.
var connzPage = 256

// apiResponse is nats-server's ServerAPIResponse as far as it is read here.
type apiResponse struct {
	Server struct {
		Name string `json:"name"`
		ID   string `json:"id"`
	} `json:"server"`
	Data  json.RawMessage `json:"data,omitempty"`
	Error *struct {
		Code        int    `json:"code"`
		Description string `json:"description"`
	} `json:"error,omitempty"`
}

type connz struct {
	ID     string     `json:"server_id"`
	Total  int        `json:"total"`
	Offset int        `json:"offset"`
	Conns  []connInfo `json:"connections"`
}

// connInfo is the part of nats-server's ConnInfo (with auth details) that selects a user.
type connInfo struct {
	Cid       uint64   `json:"cid"`
	Account   string   `json:"account"`
	IssuerKey string   `json:"issuer_key"`
	Tags      []string `json:"tags"`
	Name      string   `json:"name"`
}

// Conn is one live connection on one server.
type Conn struct {
	ServerID   string
	ServerName string
	CID        uint64
	Account    string
	// Entry is what the connection was selected for.
	Entry string
}

type connzRequest struct {
	Auth    bool   `json:"auth"`
	Account string `json:"acc"`
	Offset  int    `json:"offset"`
	Limit   int    `json:"limit"`
}

// selector picks the connections of revoked users out of CONNZ answers. Only users the
// callout admitted qualify: in a mapping's account and signed by one of that account's role
// keys (nats-server reports the signing key as issuer_key), so a static user that happens to
// carry the same tag is never touched. The role keys are the document's and, from the first
// scan on, every key the servers list for those roles (rotation overlap, askRoleKeys).
type selector struct {
	issuers map[string]map[string]bool // account -> role signing keys
	roles   map[string]map[string]bool // account -> role names of the document's mappings
	learned bool                       // the servers were asked for the role keys
	anyAcc  map[string]string          // tag -> entry, for identities (any mapped account)
	inAcc   map[[2]string]string       // (account, tag) -> entry, for mappings and roles
}

func newSelector(doc *calloutconfig.Document, entries []Entry) *selector {
	s := &selector{issuers: map[string]map[string]bool{}, roles: map[string]map[string]bool{},
		anyAcc: map[string]string{}, inAcc: map[[2]string]string{}}
	mappingAccount := map[string]string{}
	for _, m := range doc.Mappings {
		if s.issuers[m.Account] == nil {
			s.issuers[m.Account] = map[string]bool{}
			s.roles[m.Account] = map[string]bool{}
		}
		s.issuers[m.Account][m.RoleSigningKey] = true
		s.roles[m.Account][m.Role] = true
		mappingAccount[m.Name] = m.Account
	}
	for _, e := range entries {
		switch e.Kind {
		case KindSubject:
			s.anyAcc[calloutconfig.TagPingSub+":"+calloutconfig.IdentityTagValue(e.Value)] = e.String()
		case KindClient:
			s.anyAcc[calloutconfig.TagPingClient+":"+calloutconfig.IdentityTagValue(e.Value)] = e.String()
		case KindMapping:
			if acc, ok := mappingAccount[e.Value]; ok {
				s.inAcc[[2]string{acc, calloutconfig.TagMapping + ":" + calloutconfig.NameTagValue(e.Value)}] = e.String()
			}
		case KindRole:
			s.inAcc[[2]string{e.Account, calloutconfig.TagRole + ":" + calloutconfig.NameTagValue(e.Value)}] = e.String()
		}
	}
	return s
}

// accounts are the accounts whose connections can match, sorted.
func (s *selector) accounts() []string {
	set := map[string]bool{}
	if len(s.anyAcc) > 0 {
		for acc := range s.issuers {
			set[acc] = true
		}
	}
	for k := range s.inAcc {
		if s.issuers[k[0]] != nil {
			set[k[0]] = true
		}
	}
	out := make([]string, 0, len(set))
	for a := range set {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

func (s *selector) match(c connInfo) (string, bool) {
	if !s.issuers[c.Account][c.IssuerKey] {
		return "", false
	}
	for _, tag := range c.Tags {
		if e, ok := s.anyAcc[tag]; ok {
			return e, true
		}
		if e, ok := s.inAcc[[2]string{c.Account, tag}]; ok {
			return e, true
		}
	}
	return "", false
}

// scanResult is one pass over the cluster.
type scanResult struct {
	servers map[string]string // id -> name of every server that answered
	matches []Conn
}

// scan asks every server for the connections of each account and returns those that match.
// A PING is answered by an unknown number of servers, so it waits until quiet passes with no
// answer (after the first); pages beyond the first are asked of their server directly.
func scan(ctx context.Context, nc *nats.Conn, sel *selector, quiet, timeout time.Duration) (scanResult, error) {
	res := scanResult{servers: map[string]string{}}
	accounts := sel.accounts()
	if len(accounts) == 0 {
		return res, nil
	}
	inbox, infoInbox := nc.NewInbox(), ""
	ch := make(chan *nats.Msg, 8*len(accounts)+64)
	sub, err := nc.ChanSubscribe(inbox+".*", ch)
	if err != nil {
		return res, err
	}
	defer func() { _ = sub.Unsubscribe() }()
	if !sel.learned {
		infoInbox = nc.NewInbox()
		isub, err := nc.ChanSubscribe(infoInbox+".*", ch)
		if err != nil {
			return res, err
		}
		defer func() { _ = isub.Unsubscribe() }()
		if err := askRoleKeys(nc, infoInbox, accounts); err != nil {
			return res, err
		}
	}
	for i, acc := range accounts {
		body, _ := json.Marshal(connzRequest{Auth: true, Account: acc, Limit: connzPage})
		if err := nc.PublishRequest(subjConnzPing, fmt.Sprintf("%s.%d", inbox, i), body); err != nil {
			return res, err
		}
	}
	if err := nc.FlushTimeout(timeout); err != nil {
		return res, err
	}
	type page struct {
		server, account string
		offset          int
	}
	var more []page
	// First pages are matched once the round is over, when the role keys are in.
	type answered struct {
		srv serverRef
		cz  connz
	}
	var first []answered
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	var idle <-chan time.Time
	var firstErr error
collect:
	for {
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-deadline.C:
			if len(res.servers) == 0 {
				return res, fmt.Errorf("no server answered %s within %s; are these the system account's creds?", subjConnzPing, timeout)
			}
			break collect
		case <-idle:
			break collect
		case m := <-ch:
			idle = time.After(quiet)
			if idx, ok := replyIndex(m.Subject, infoInbox, len(accounts)); ok {
				sel.addRoleKeys(accounts[idx], m.Data)
				continue
			}
			idx, ok := replyIndex(m.Subject, inbox, len(accounts))
			if !ok {
				continue
			}
			cz, srv, err := decodeConnz(m.Data)
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			res.servers[srv.ID] = srv.Name
			first = append(first, answered{srv, cz})
			if next := cz.Offset + len(cz.Conns); next < cz.Total && len(cz.Conns) > 0 {
				more = append(more, page{server: srv.ID, account: accounts[idx], offset: next})
			}
		}
	}
	if firstErr != nil {
		return res, firstErr
	}
	sel.learned = true
	for _, a := range first {
		res.add(sel, a.srv.ID, a.srv.Name, a.cz)
	}
	for len(more) > 0 {
		p := more[0]
		more = more[1:]
		body, _ := json.Marshal(connzRequest{Auth: true, Account: p.account, Offset: p.offset, Limit: connzPage})
		rctx, cancel := context.WithTimeout(ctx, timeout)
		m, err := nc.RequestWithContext(rctx, fmt.Sprintf(subjConnzServer, p.server), body)
		cancel()
		if err != nil {
			return res, fmt.Errorf("asking server %s for connections of %s from %d: %w", res.servers[p.server], p.account, p.offset, err)
		}
		cz, srv, err := decodeConnz(m.Data)
		if err != nil {
			return res, err
		}
		res.add(sel, srv.ID, srv.Name, cz)
		if next := cz.Offset + len(cz.Conns); next < cz.Total && len(cz.Conns) > 0 {
			more = append(more, page{server: p.server, account: p.account, offset: next})
		}
	}
	return res, nil
}

// replyIndex reads the request index of a reply to inbox.<index>.
func replyIndex(subject, inbox string, n int) (int, bool) {
	rest, ok := strings.CutPrefix(subject, inbox+".")
	if inbox == "" || !ok {
		return 0, false
	}
	idx, err := strconv.Atoi(rest)
	return idx, err == nil && idx >= 0 && idx < n
}

type serverRef struct{ ID, Name string }

func decodeConnz(data []byte) (connz, serverRef, error) {
	var r apiResponse
	if err := json.Unmarshal(data, &r); err != nil {
		return connz{}, serverRef{}, fmt.Errorf("a CONNZ answer is not JSON: %v", err)
	}
	srv := serverRef{ID: r.Server.ID, Name: r.Server.Name}
	if r.Error != nil {
		return connz{}, srv, fmt.Errorf("server %s refused CONNZ: %s", srv.Name, r.Error.Description)
	}
	var cz connz
	if len(r.Data) > 0 {
		if err := json.Unmarshal(r.Data, &cz); err != nil {
			return connz{}, srv, fmt.Errorf("server %s: a CONNZ answer does not decode: %v", srv.Name, err)
		}
	}
	if srv.ID == "" {
		srv.ID = cz.ID
	}
	return cz, srv, nil
}

func (r *scanResult) add(sel *selector, id, name string, cz connz) {
	for _, c := range cz.Conns {
		if e, ok := sel.match(c); ok {
			r.matches = append(r.matches, Conn{ServerID: id, ServerName: name, CID: c.Cid, Account: c.Account, Entry: e})
		}
	}
}

// kick closes conns, each on its own server, with all requests in flight at once. A client
// that is already gone is not an error (it may have closed between CONNZ and KICK).
func kick(ctx context.Context, nc *nats.Conn, conns []Conn, timeout time.Duration) error {
	if len(conns) == 0 {
		return nil
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []string
	)
	sem := make(chan struct{}, 256)
	for _, c := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			rctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			body, _ := json.Marshal(struct {
				CID uint64 `json:"cid"`
			}{c.CID})
			m, err := nc.RequestWithContext(rctx, fmt.Sprintf(subjKick, c.ServerID), body)
			if err == nil {
				var r apiResponse
				if err = json.Unmarshal(m.Data, &r); err == nil && r.Error != nil && !strings.Contains(r.Error.Description, "no such client") {
					err = fmt.Errorf("%s", r.Error.Description)
				}
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Sprintf("closing connection %d on server %s: %v", c.CID, c.ServerName, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		slices.Sort(errs)
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}
