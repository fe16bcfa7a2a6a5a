package callbackd

import "github.com/callbackd/callbackd/calendar"

// parseCalendar compiles an office-hours or capacity service, so requests
// never parse calendars.
func (svc *ServiceConfig) parseCalendar() []OptionError {
	var cerrs []calendar.OptionError
	if svc.Kind == KindOfficeHours {
		svc.OfficeHours, cerrs = calendar.ParseOfficeHours(svc.Raw)
	} else {
		svc.Capacity, cerrs = calendar.ParseCapacity(svc.Raw)
	}
	errs := make([]OptionError, len(cerrs))
	for i, e := range cerrs {
		errs[i] = OptionError{Option: e.Option, Value: e.Value, Message: e.Message}
	}
	return errs
}
