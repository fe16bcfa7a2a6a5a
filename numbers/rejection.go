package numbers

// Rejection is a request refused by number policy; the caller answers it
// as NUMBER_REJECTED (40040) with Message, whose wording clients and
// operators match on.
type Rejection struct {
	// Option is the service option that refused the request:
	// _disallow_impossible_phone_numbers, _disallow_premium_phone_numbers
	// or _exceptions.
	Option string
	// Message is the client-facing text, verbatim from the specification
	// where it gives one.
	Message string
	// Number is the customer number as the client sent it.
	Number string
	// Group and Entry name the [pattern.Group] section and the entry in it
	// that matched, for _exceptions only.
	Group, Entry string
	// Param and Value are the request parameter that matched, for
	// _exceptions only: Param is "_customer_number" when the customer
	// number matched, and Value is then the +-prefixed form that was
	// matched.
	Param, Value string
}

// Error returns Message, so that a Rejection logged as an error reads the
// way the client saw it.
func (r *Rejection) Error() string { return r.Message }

// Properties are the error body's "properties" for a rejection, so that a
// client or a support engineer can see which option and pattern refused it
// without parsing Message. Values of other request parameters are left out:
// Message already names the one that matched.
func (r *Rejection) Properties() map[string]any {
	props := map[string]any{"option": r.Option}
	if r.Group != "" {
		props["group"] = r.Group
		props["entry"] = r.Entry
		props["parameter"] = r.Param
	}
	return props
}
