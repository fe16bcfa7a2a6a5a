package callbackd

// parseCalendarService validates an office-hours or capacity service.
func parseCalendarService(kind string, raw map[string]string) []OptionError {
	return nil
}
