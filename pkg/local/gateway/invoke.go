package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"time"
)

// Errors of an invocation that are not the function's own.
var (
	errPanic   = errors.New("function panicked")
	errTimeout = errors.New("function timed out")
)

// invoke calls fn as the Lambda service would: the event and the answer
// travel as JSON, the function gets a deadline, and a panic or an overrun
// becomes an error instead of taking the gateway down. A function still
// running at the deadline is left to finish in the background; its answer
// is dropped, as Lambda drops it.
func invoke[In, Out any](ctx context.Context, timeout time.Duration, fn func(context.Context, In) (Out, error), event In) (Out, error) {
	var zero Out
	in, err := viaJSON(event)
	if err != nil {
		return zero, fmt.Errorf("encode event: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	type result struct {
		out Out
		err error
	}
	done := make(chan result, 1) // buffered: a late answer must not block the goroutine
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: fmt.Errorf("%w: %v\n%s", errPanic, p, debug.Stack())}
			}
		}()
		out, err := fn(ctx, in)
		done <- result{out: out, err: err}
	}()

	select {
	case r := <-done:
		if r.err != nil {
			return zero, r.err
		}
		out, err := viaJSON(r.out)
		if err != nil {
			return zero, fmt.Errorf("decode answer: %w", err)
		}
		return out, nil
	case <-ctx.Done():
		return zero, fmt.Errorf("%w: %w", errTimeout, ctx.Err())
	}
}

// viaJSON returns v after a trip through encoding/json, the wire format
// between API Gateway and Lambda: whatever does not survive the trip never
// reaches the other side on AWS either.
func viaJSON[T any](v T) (T, error) {
	var out T
	b, err := json.Marshal(v)
	if err != nil {
		return out, err
	}
	err = json.Unmarshal(b, &out)
	return out, err
}
