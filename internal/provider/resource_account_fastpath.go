package provider

// natsping_account takes the server's fast paths (fastpath.go) for the calls every plan makes
// per account; TestFastPathMatchesFramework compares them with the framework's answers.

// readPassesStateThrough: Read keeps the state (there is no remote object), so ReadResource
// is answered with the state itself. Remove this if Read ever changes anything.
func (r *accountResource) readPassesStateThrough() {}

// unchangedPlansMayPassThrough: ModifyPlan only reads, so a no-change plan that ModifyPlan
// leaves alone and says nothing about is answered with the proposed state.
func (r *accountResource) unchangedPlansMayPassThrough() {}
