package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/callbackd/callbackd"
)

// SQLSTATE codes the store reacts to. Errors are told apart by these codes
// only, never by message text, which depends on the server's lc_messages.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeCharacterNotInRepert = "22021" // NUL or invalid UTF-8 in a text value
	codeUntranslatableChar   = "22P05"
	codeReadOnlyTransaction  = "25006" // connected to a standby, e.g. mid-failover
	codeLockNotAvailable     = "55P03" // lock_timeout
	codeQueryCanceled        = "57014" // statement_timeout
	codeAdminShutdown        = "57P01"
	codeCrashShutdown        = "57P02"
	codeCannotConnectNow     = "57P03" // starting up or shutting down
	codeIdleSessionTimeout   = "57P05"
	codeTooManyConnections   = "53300"
)

// unavailableMessage is what a client reads while the database is away.
const unavailableMessage = "The store is temporarily unavailable; retry later."

// unavailable is the SERVICE_UNAVAILABLE API error, wrapped together with
// its cause: callbackd.AsError finds the API error, whose message says
// nothing of the database, while the cause stays in err.Error() for the
// log and reachable through errors.As.
func unavailable(cause error) error {
	return fmt.Errorf("%w: %w", &callbackd.Error{Code: callbackd.CodeUnavailable, Message: unavailableMessage}, cause)
}

// translate turns driver errors into domain errors, by SQLSTATE code:
//
//   - 23505 unique violation: callbackd.ErrConflict (only the callbacks
//     primary key can raise it; every other insert has ON CONFLICT);
//   - connection loss, server shutdown or start-up, too many connections,
//     insufficient resources, a standby after failover, timeouts, and
//     serialization failures or deadlocks that outlived their retries:
//     SERVICE_UNAVAILABLE, which a client may retry;
//   - a value PostgreSQL cannot store in text (a NUL byte, invalid UTF-8):
//     BAD_PARAMETER, since SQLite stores them and only the client sent them.
//
// Every other error, including the caller's own context errors and the
// store's domain errors (ErrNotFound, *LimitError), is returned unchanged.
func translate(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == codeUniqueViolation:
			return fmt.Errorf("%w: %v", callbackd.ErrConflict, err)
		case pe.Code == codeCharacterNotInRepert || pe.Code == codeUntranslatableChar:
			return callbackd.BadParameter(nil, "A value contains a character that cannot be stored (NUL or invalid UTF-8)")
		case transientCode(pe.Code):
			return unavailable(err)
		}
		return err
	}
	if connectionLost(err) {
		return unavailable(err)
	}
	return err
}

// transientCode reports whether a server error says "not now" rather than
// "never": retrying later, maybe on another connection, may succeed.
func transientCode(code string) bool {
	switch code {
	case codeSerializationFailure, codeDeadlockDetected, codeReadOnlyTransaction, codeLockNotAvailable,
		codeQueryCanceled, codeAdminShutdown, codeCrashShutdown, codeCannotConnectNow, codeIdleSessionTimeout,
		codeTooManyConnections:
		return true
	}
	// 08: connection exception; 53: insufficient resources (disk full, out
	// of memory, too many connections); 58: system error (I/O).
	return strings.HasPrefix(code, "08") || strings.HasPrefix(code, "53") || strings.HasPrefix(code, "58")
}

// connectionLost reports whether err is the driver losing, or failing to
// make, its connection, rather than the server refusing a statement.
func connectionLost(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, pgconn.ErrConnClosed)
}

// retryable reports whether running the whole operation again can only
// help: the server rolled the transaction back for a reason another
// attempt may not meet (serialization failure, deadlock), or the driver
// failed before sending anything (pgconn.SafeToRetry). A connection lost
// after a COMMIT was sent is not retryable: the commit may have happened.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == codeSerializationFailure || pe.Code == codeDeadlockDetected
	}
	return pgconn.SafeToRetry(err)
}
