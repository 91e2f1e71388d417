package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
)

// planRecorder records the warnings the provider returns from PlanResourceChange while the
// real CLI plans and applies, so acceptance tests can assert on the warnings a user sees
// (plugin-testing exposes the plan, not its diagnostics). Each call also records whether it
// planned no change, which is how "a no-op plan warns nothing" is checked.
type planRecorder struct {
	mu    sync.Mutex
	calls []plannedCall
}

type plannedCall struct {
	typeName string
	noop     bool
	warnings []*tfprotov6.Diagnostic
}

func (r *planRecorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = nil
}

func (r *planRecorder) snapshot() []plannedCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]plannedCall(nil), r.calls...)
}

// wrap makes every provider server of factories record into r.
func (r *planRecorder) wrap(factories map[string]func() (tfprotov6.ProviderServer, error)) map[string]func() (tfprotov6.ProviderServer, error) {
	out := make(map[string]func() (tfprotov6.ProviderServer, error), len(factories))
	for name, f := range factories {
		out[name] = func() (tfprotov6.ProviderServer, error) {
			inner, err := f()
			if err != nil {
				return nil, err
			}
			return &recordingServer{ProviderServer: inner, rec: r}, nil
		}
	}
	return out
}

type recordingServer struct {
	tfprotov6.ProviderServer
	rec *planRecorder

	once  sync.Once
	types map[string]tftypes.Type
}

func (s *recordingServer) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	resp, err := s.ProviderServer.PlanResourceChange(ctx, req)
	if err != nil || resp == nil {
		return resp, err
	}
	call := plannedCall{typeName: req.TypeName, noop: s.noop(ctx, req, resp)}
	for _, d := range resp.Diagnostics {
		if d.Severity == tfprotov6.DiagnosticSeverityWarning {
			call.warnings = append(call.warnings, d)
		}
	}
	s.rec.mu.Lock()
	s.rec.calls = append(s.rec.calls, call)
	s.rec.mu.Unlock()
	return resp, nil
}

// noop reports whether the planned state equals the prior state of an existing resource.
func (s *recordingServer) noop(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest, resp *tfprotov6.PlanResourceChangeResponse) bool {
	s.once.Do(func() {
		s.types = map[string]tftypes.Type{}
		schemas, err := s.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
		if err != nil || schemas == nil {
			return
		}
		for name, sch := range schemas.ResourceSchemas {
			s.types[name] = sch.ValueType()
		}
	})
	typ, ok := s.types[req.TypeName]
	if !ok || req.PriorState == nil || resp.PlannedState == nil {
		return false
	}
	prior, err := req.PriorState.Unmarshal(typ)
	if err != nil || prior.IsNull() {
		return false
	}
	planned, err := resp.PlannedState.Unmarshal(typ)
	return err == nil && prior.Equal(planned)
}

// secretPattern matches what must never be in a warning: nkey seeds, signer strings, creds.
var secretPattern = regexp.MustCompile(`\bS[OAUNCPX][A-Z2-7]{54}\b|natsping-signer:|BEGIN NATS USER JWT|NKEY SEED`)

// expectWarnings checks that some plan of typeName warned with summary and every fragment in
// its detail, that no warning of typeName contains any of absent, and that no warning at all
// carries a secret.
func (r *planRecorder) expectWarnings(typeName, summary string, fragments []string, absent ...string) plancheck.PlanCheck {
	return recorderCheck{r, func(calls []plannedCall) error {
		if err := noSecrets(calls); err != nil {
			return err
		}
		var seen []string
		found := false
		for _, c := range calls {
			if c.typeName != typeName {
				continue
			}
			for _, w := range c.warnings {
				seen = append(seen, w.Summary+": "+w.Detail)
				for _, a := range absent {
					if strings.Contains(w.Summary+w.Detail, a) {
						return fmt.Errorf("a %s warning must not say %q:\n%s", typeName, a, w.Detail)
					}
				}
				if w.Summary == summary && containsAll(w.Detail, fragments) {
					found = true
				}
			}
		}
		if !found {
			return fmt.Errorf("no %s warning %q saying %q; its warnings were:\n%s", typeName, summary, fragments, strings.Join(seen, "\n---\n"))
		}
		return nil
	}}
}

// expectNoWarnings checks that no plan of typeName warned (all types when typeName is "").
func (r *planRecorder) expectNoWarnings(typeName string) plancheck.PlanCheck {
	return recorderCheck{r, func(calls []plannedCall) error {
		for _, c := range calls {
			if (typeName == "" || c.typeName == typeName) && len(c.warnings) > 0 {
				return fmt.Errorf("%s warned unexpectedly: %s: %s", c.typeName, c.warnings[0].Summary, c.warnings[0].Detail)
			}
		}
		return nil
	}}
}

// expectQuietNoops checks that no plan that changed nothing warned, and that no warning carries
// a secret.
func (r *planRecorder) expectQuietNoops() plancheck.PlanCheck {
	return recorderCheck{r, func(calls []plannedCall) error {
		if err := noSecrets(calls); err != nil {
			return err
		}
		for _, c := range calls {
			if c.noop && len(c.warnings) > 0 {
				return fmt.Errorf("a no-op plan of %s warned: %s: %s", c.typeName, c.warnings[0].Summary, c.warnings[0].Detail)
			}
		}
		return nil
	}}
}

type recorderCheck struct {
	r     *planRecorder
	check func([]plannedCall) error
}

func (c recorderCheck) CheckPlan(_ context.Context, _ plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	resp.Error = c.check(c.r.snapshot())
}

func noSecrets(calls []plannedCall) error {
	for _, c := range calls {
		for _, w := range c.warnings {
			if secretPattern.MatchString(w.Summary + w.Detail) {
				return fmt.Errorf("a %s warning carries a secret: %s", c.typeName, w.Summary)
			}
		}
	}
	return nil
}

func containsAll(s string, fragments []string) bool {
	for _, f := range fragments {
		if !strings.Contains(s, f) {
			return false
		}
	}
	return true
}
