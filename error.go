package callbackd

import (
	"errors"
	"fmt"
	"net/http"
)

// Code is an error code of the GMS Callback Services API. Clients branch on
// it, so the numbers are the specification's and must never change.
type Code int

// Error codes of spec 001, plus a few of callbackd's own (4xx00) for
// situations the original answered with an HTML page.
const (
	CodeNumberAlreadyBooked     Code = 40001
	CodeThrottleServiceLimit    Code = 40002
	CodeThrottleIntervalLimit   Code = 40003
	CodeThrottleParameterLimit  Code = 40004
	CodeBadParameter            Code = 40010
	CodeInvalidOperation        Code = 40020
	CodeCallbackNotFound        Code = 40030
	CodeNumberRejected          Code = 40040
	CodeSlotUnavailable         Code = 40050
	CodeSlotUnavailableProposal Code = 40051
	CodeUnauthorized            Code = 40100
	CodeForbidden               Code = 40300
	CodeNotFound                Code = 40400
	CodeMethodNotAllowed        Code = 40500
	CodeTooManyRequests         Code = 42900
	CodeCapacityError           Code = 50004
	CodeCalendarError           Code = 50005
	CodeORSMaxSubmitRetries     Code = 50006
	CodeBadConfiguration        Code = 50020
	CodeORSError                Code = 50030
	CodeServiceRedirectFailed   Code = 50040
	CodeUnknownError            Code = 50050
	codeUnavailable             Code = 50300
)

// CodeUnavailable is answered while the store cannot be reached; the client
// may retry.
const CodeUnavailable = codeUnavailable

const exceptionPrefix = "com.genesyslab.gsg.services.callback."

// codeInfo is one row of the status table.
type codeInfo struct {
	phrase    string
	exception string
	status    int
}

// codes is the one table from code to phrase, exception class and HTTP
// status. Nothing else in the code base decides an HTTP status for an error.
var codes = map[Code]codeInfo{
	CodeNumberAlreadyBooked:     {"NUMBER_ALREADY_BOOKED", "CallbackExceptionAlreadyBooked", http.StatusTooManyRequests},
	CodeThrottleServiceLimit:    {"THROTTLE_SERVICE_LIMIT", "CallbackExceptionThrottled", http.StatusTooManyRequests},
	CodeThrottleIntervalLimit:   {"THROTTLE_SERVICE_INTERVAL_LIMIT", "CallbackExceptionThrottled", http.StatusTooManyRequests},
	CodeThrottleParameterLimit:  {"THROTTLE_SERVICE_PARAMETER_LIMIT", "CallbackExceptionThrottled", http.StatusTooManyRequests},
	CodeBadParameter:            {"BAD_PARAMETER", "CallbackExceptionBadParameter", http.StatusBadRequest},
	CodeInvalidOperation:        {"INVALID_OPERATION", "CallbackExceptionInvalidOperation", http.StatusBadRequest},
	CodeCallbackNotFound:        {"CALLBACK_NOT_FOUND", "CallbackExceptionNotFound", http.StatusBadRequest},
	CodeNumberRejected:          {"NUMBER_REJECTED", "CallbackExceptionNumber", http.StatusBadRequest},
	CodeSlotUnavailable:         {"SLOT_UNAVAILABLE", "CallbackExceptionAvailability", http.StatusBadRequest},
	CodeSlotUnavailableProposal: {"SLOT_UNAVAILABLE_PROPOSAL", "CallbackExceptionAvailability", http.StatusBadRequest},
	CodeUnauthorized:            {"UNAUTHORIZED", "CallbackExceptionUnauthorized", http.StatusUnauthorized},
	CodeForbidden:               {"FORBIDDEN", "CallbackExceptionUnauthorized", http.StatusForbidden},
	CodeNotFound:                {"NOT_FOUND", "CallbackException", http.StatusNotFound},
	CodeMethodNotAllowed:        {"METHOD_NOT_ALLOWED", "CallbackException", http.StatusMethodNotAllowed},
	CodeTooManyRequests:         {"TOO_MANY_REQUESTS", "CallbackException", http.StatusTooManyRequests},
	CodeCapacityError:           {"CAPACITY_ERROR", "CallbackExceptionCapacityError", http.StatusInternalServerError},
	CodeCalendarError:           {"CALENDAR_ERROR", "CallbackExceptionCalendarError", http.StatusInternalServerError},
	CodeORSMaxSubmitRetries:     {"ORS_MAX_SUBMIT_RETRIES", "CallbackExceptionMaxORSSubmitAttempts", http.StatusInternalServerError},
	CodeBadConfiguration:        {"BAD_CONFIGURATION", "CallbackExceptionConfiguration", http.StatusInternalServerError},
	CodeORSError:                {"ORS_ERROR", "CallbackExceptionFromORS", http.StatusInternalServerError},
	CodeServiceRedirectFailed:   {"SERVICE_REDIRECT_FAILED", "CallbackExceptionServiceRedirect", http.StatusInternalServerError},
	CodeUnknownError:            {"UNKNOWN_ERROR", "CallbackExceptionUnknown", http.StatusInternalServerError},
	CodeUnavailable:             {"SERVICE_UNAVAILABLE", "CallbackExceptionUnknown", http.StatusServiceUnavailable},
}

// Error is the one error type that reaches a client. It carries everything
// the specification's JSON error body holds; Properties and Availability are
// rendered as given, so the wording of Message is part of the contract
// (web widgets match "Too many requests" and "Proposing time slots.").
type Error struct {
	Code       Code
	Message    string
	Properties map[string]any
	// Availability, when set, is rendered as the "availability" map of
	// time slot to remaining capacity (slot proposals, closed office).
	Availability map[string]int
}

// Errorf builds an Error with a formatted message.
func Errorf(code Code, props map[string]any, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Properties: props}
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Code, e.Phrase(), e.Message) }

// Phrase is the specification's name for the code (BAD_PARAMETER, ...).
func (e *Error) Phrase() string { return codes[e.Code].phrase }

// Exception is the Java exception class name the original returned; some
// clients log or match it.
func (e *Error) Exception() string {
	if info, ok := codes[e.Code]; ok {
		return exceptionPrefix + info.exception
	}
	return exceptionPrefix + "CallbackException"
}

// Status is the HTTP status for the error's code: the one mapping in the
// code base.
func (e *Error) Status() int {
	if info, ok := codes[e.Code]; ok {
		return info.status
	}
	return http.StatusInternalServerError
}

// AsError returns the *Error inside err, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// ErrorCode returns the code of err, or CodeUnknownError for errors that are
// not API errors.
func ErrorCode(err error) Code {
	if e, ok := AsError(err); ok {
		return e.Code
	}
	return CodeUnknownError
}

// BadParameter is shorthand for the most common client error.
func BadParameter(props map[string]any, format string, args ...any) *Error {
	return Errorf(CodeBadParameter, props, format, args...)
}

// InvalidOperation is shorthand for an operation the record's state forbids.
func InvalidOperation(props map[string]any, format string, args ...any) *Error {
	return Errorf(CodeInvalidOperation, props, format, args...)
}

// BadConfiguration reports a service configuration that cannot serve the
// request (spec 001's 50020 messages).
func BadConfiguration(service string, format string, args ...any) *Error {
	return Errorf(CodeBadConfiguration, map[string]any{"service": service}, format, args...)
}

// ErrNotFound is returned by a Store when no record has the requested id.
// Callers turn it into a CALLBACK_NOT_FOUND with the message that fits the
// operation.
var ErrNotFound = errors.New("callbackd: not found")

// ErrConflict is returned by a Store when a record with the same id already
// exists.
var ErrConflict = errors.New("callbackd: conflict")
