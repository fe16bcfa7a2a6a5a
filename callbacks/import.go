package callbacks

import (
	"context"
	"fmt"

	"github.com/callbackd/callbackd"
)

// Import validates callbacks exactly as Start does and stores them all in
// one transaction. It is for preloading (benchmarks, migrations from
// another system): it does not check capacity and throttles against each
// other within the batch, and it does not count throttle uses, so it must
// not face the public. The first invalid request aborts the import and is
// returned with its index.
func (m *Manager) Import(ctx context.Context, service string, requests []Params) ([]string, error) {
	imp, ok := m.Store.(callbackd.Importer)
	if !ok {
		return nil, fmt.Errorf("callbacks: the store cannot import")
	}
	cbs := make([]*callbackd.Callback, len(requests))
	ids := make([]string, len(requests))
	for i, p := range requests {
		n, err := m.prepare(ctx, service, p)
		if err != nil {
			return nil, fmt.Errorf("request %d: %w", i, err)
		}
		cbs[i], ids[i] = n.cb, n.cb.ID
	}
	return ids, imp.Import(ctx, cbs)
}
