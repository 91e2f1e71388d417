package oidc

import (
	"container/list"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// cachedToken is a token that passed every check once. Only successes are stored, so a cache
// can make a good token cheaper but can never make it fail, nor make a bad one pass.
type cachedToken struct {
	hash     string
	identity Identity
	key      *jose.JSONWebKey // the exact key that verified it; see Verifier.fromCache
	alg      string
	notAfter time.Time // the entry is dropped at this instant even if never read
}

// tokenCache is a fixed-size LRU keyed by the token's SHA-256.
type tokenCache struct {
	mu      sync.Mutex
	max     int
	order   *list.List // front = most recently used
	entries map[string]*list.Element
}

func newTokenCache(size int) *tokenCache {
	return &tokenCache{max: size, order: list.New(), entries: make(map[string]*list.Element, size)}
}

// get returns a copy of the entry, dropping it when it has outlived notAfter.
func (c *tokenCache) get(hash string, now time.Time) (cachedToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[hash]
	if !ok {
		return cachedToken{}, false
	}
	e := el.Value.(*cachedToken)
	if !now.Before(e.notAfter) {
		c.order.Remove(el)
		delete(c.entries, hash)
		return cachedToken{}, false
	}
	c.order.MoveToFront(el)
	return *e, true
}

func (c *tokenCache) put(e cachedToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[e.hash]; ok {
		el.Value = &e
		c.order.MoveToFront(el)
		return
	}
	c.entries[e.hash] = c.order.PushFront(&e)
	for c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.entries, oldest.Value.(*cachedToken).hash)
	}
}

func (c *tokenCache) remove(hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[hash]; ok {
		c.order.Remove(el)
		delete(c.entries, hash)
	}
}

func (c *tokenCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
