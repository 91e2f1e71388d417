package resolver

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// token makes a JWT-shaped string with the given iat; converge reads iat without verifying
// (the servers verified what they store), so no signature is needed.
func token(iat int64, name string) string {
	payload, _ := json.Marshal(map[string]any{"iat": iat, "name": name})
	return "eyJ0eXAiOiJKV1QifQ." + base64.RawURLEncoding.EncodeToString(payload) + ".c2ln"
}

func TestConverge(t *testing.T) {
	t.Parallel()
	older, newer := token(100, "old"), token(200, "new")
	sameA, sameB := token(300, "a"), token(300, "b")
	tests := []struct {
		name     string
		answers  []string
		live     string
		diverged bool
	}{
		{"no answer", nil, "", false},
		{"no server holds it", []string{"", "", ""}, "", false},
		{"all agree", []string{newer, newer, newer}, newer, false},
		{"one server lacks it", []string{"", newer, newer}, newer, true},
		{"servers disagree: the later JWT wins", []string{older, newer, older}, newer, true},
		{"order does not matter", []string{newer, older}, newer, true},
		{"equal iat: a stable choice", []string{max(sameA, sameB), min(sameA, sameB)}, min(sameA, sameB), true},
		{"unparsable answer loses", []string{"garbage", older}, older, true},
		{"single server", []string{older}, older, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			live, diverged := converge(tc.answers)
			if live != tc.live || diverged != tc.diverged {
				t.Fatalf("converge = (%q, %v), want (%q, %v)", live, diverged, tc.live, tc.diverged)
			}
		})
	}
}

func TestAccountResultErr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		res  AccountResult
		want string // "" for no error
	}{
		{"stored everywhere", AccountResult{Account: "A1", Stored: []string{"n1", "n2"}}, ""},
		{"stored on some, others silent", AccountResult{Account: "A1", Stored: []string{"n1"}, Missing: 2}, ""},
		{"refused by one", AccountResult{Account: "A1", Stored: []string{"n1"}, Refused: []ServerError{{Server: "n2", Code: 500, Description: "jwt update resulted in error - disk full"}}},
			"account A1 was refused by n2: jwt update resulted in error - disk full (code 500)"},
		{"nobody answered", AccountResult{Account: "A1", Missing: 3}, "none of the 3 full resolvers confirmed"},
		{"not sent", AccountResult{Account: "#2", Invalid: errTest}, "account #2 was not pushed: boom"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.res.Err()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("want no error, got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
}

type testErr string

func (e testErr) Error() string { return string(e) }

const errTest = testErr("boom")

func TestFromCache(t *testing.T) {
	t.Parallel()
	data := func(msg string) updateResponse {
		r := updateResponse{}
		r.Data = &struct {
			Account string `json:"account"`
			Code    int    `json:"code"`
			Message string `json:"message"`
		}{Code: 200, Message: msg}
		return r
	}
	fail := func(desc string) updateResponse {
		r := updateResponse{}
		r.Error = &struct {
			Account     string `json:"account"`
			Code        int    `json:"code"`
			Description string `json:"description"`
		}{Code: 500, Description: desc}
		return r
	}
	tests := []struct {
		name  string
		resp  updateResponse
		cache bool
	}{
		{"full resolver stored", data("jwt updated"), false},
		{"full resolver refused", fail("jwt validation failed - validation errors"), false},
		{"cache resolver stored", data("jwt updated cache"), true},
		{"cache resolver skipped", data("jwt update cache skipped"), true},
		{"cache resolver refused", fail("jwt update cache resulted in error - bad"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := fromCache(tc.resp); got != tc.cache {
				t.Fatalf("fromCache = %v, want %v", got, tc.cache)
			}
		})
	}
}

func TestIsNoResponders(t *testing.T) {
	t.Parallel()
	status := &nats.Msg{Header: nats.Header{"Status": []string{"503"}}}
	notFound := &nats.Msg{}
	if !isNoResponders(status) || isNoResponders(notFound) {
		t.Fatal("a 503 status is no responders; an empty lookup answer is \"not found\", not no responders")
	}
}

func TestValidateServerURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ url, want string }{
		{"nats://127.0.0.1:4222", ""},
		{"tls://nats.example.com:4443", ""},
		{"NATS://host", ""},
		{"http://host:4222", `has scheme "http"; use nats://host:port`},
		{"ws://host:8080", `has scheme "ws"`},
		{"nats://", "has no host"},
		{"nats://u:secret@host:4222", "carries credentials"},
		{"host:4222", `has scheme "host"`},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			t.Parallel()
			err := ValidateServerURL(tc.url)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want %q, got %v", tc.want, err)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("the error repeats a password: %v", err)
			}
		})
	}
}

func TestConnectRefusesBadInputs(t *testing.T) {
	t.Parallel()
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	acc, _ := nkeys.CreateAccount()
	uc := jwt.NewUserClaims(pub)
	token, _ := uc.Encode(acc)
	creds, _ := jwt.FormatUserConfig(token, seed)
	tests := []struct {
		name string
		opts ConnectOptions
		want string
	}{
		{"no servers", ConnectOptions{Creds: string(creds)}, "no server URL"},
		{"bad url", ConnectOptions{Servers: []string{"https://x"}, Creds: string(creds)}, "has scheme"},
		{"no creds", ConnectOptions{Servers: []string{"nats://127.0.0.1:1"}}, "do not contain a valid user JWT"},
		{"seed only", ConnectOptions{Servers: []string{"nats://127.0.0.1:1"}, Creds: string(seed)}, "do not contain a valid user JWT"},
		{"bad ca", ConnectOptions{Servers: []string{"tls://127.0.0.1:1"}, Creds: string(creds), CAPEM: "not pem"}, "holds no certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Connect(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want %q, got %v", tc.want, err)
			}
			if strings.Contains(err.Error(), string(seed)) {
				t.Fatal("the error repeats the seed")
			}
		})
	}
}
