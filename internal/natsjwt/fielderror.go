package natsjwt

import (
	"errors"
	"fmt"
	"strings"
)

// FieldError ties a problem to the configuration field it is about. The path is structured,
// so a caller maps it onto its own attribute paths without parsing text; Error renders it the
// way the natsping_account resource names fields ("limits.max_connections",
// "roles[2].name", `jetstream.tiers["R3"]`). An empty Path means the account as a whole.
type FieldError struct {
	Path FieldPath
	Err  error
}

func (e *FieldError) Error() string {
	if len(e.Path) == 0 {
		return e.Err.Error()
	}
	return e.Path.String() + ": " + e.Err.Error()
}

func (e *FieldError) Unwrap() error { return e.Err }

// FieldPath leads from a top-level attribute down to the field a FieldError is about.
type FieldPath []PathStep

// PathStep is one step of a FieldPath: a field by name, a list element by index or a map
// element by key.
type PathStep struct {
	Kind PathStepKind
	// Name is the field name of a StepName and the key of a StepKey.
	Name string
	// Index is the position of a StepIndex.
	Index int
}

// PathStepKind says what a PathStep addresses.
type PathStepKind int

const (
	StepName PathStepKind = iota
	StepIndex
	StepKey
)

// Field starts a path at a top-level attribute.
func Field(name string) FieldPath { return FieldPath{{Kind: StepName, Name: name}} }

// AtName, AtIndex and AtKey return a new path one step further down; p itself is never
// changed, so one prefix can be extended into several fields.
func (p FieldPath) AtName(name string) FieldPath { return p.at(PathStep{Kind: StepName, Name: name}) }
func (p FieldPath) AtIndex(i int) FieldPath      { return p.at(PathStep{Kind: StepIndex, Index: i}) }
func (p FieldPath) AtKey(key string) FieldPath   { return p.at(PathStep{Kind: StepKey, Name: key}) }

func (p FieldPath) at(s PathStep) FieldPath {
	out := make(FieldPath, len(p), len(p)+1)
	copy(out, p)
	return append(out, s)
}

func (p FieldPath) String() string {
	var b strings.Builder
	for i, s := range p {
		switch s.Kind {
		case StepIndex:
			fmt.Fprintf(&b, "[%d]", s.Index)
		case StepKey:
			fmt.Fprintf(&b, "[%q]", s.Name)
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.Name)
		}
	}
	return b.String()
}

// FieldErrors lists the FieldErrors inside an error returned by this package's validators.
func FieldErrors(err error) []*FieldError {
	if err == nil {
		return nil
	}
	var out []*FieldError
	var fe *FieldError
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, FieldErrors(e)...)
		}
		return out
	}
	if errors.As(err, &fe) {
		return []*FieldError{fe}
	}
	return []*FieldError{{Err: err}}
}

type fieldErrs []error

func (f *fieldErrs) add(field FieldPath, format string, args ...any) {
	*f = append(*f, &FieldError{Path: field, Err: fmt.Errorf(format, args...)})
}

func (f *fieldErrs) wrap(field FieldPath, err error) {
	if err == nil {
		return
	}
	for _, e := range splitJoined(err) {
		*f = append(*f, &FieldError{Path: field, Err: e})
	}
}

func splitJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
