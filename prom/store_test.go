package prom

import (
	"reflect"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callbackd/callbackd"
)

// nilStore panics on every call: the test below only looks at what the
// wrapper records around the call.
type nilStore struct{ callbackd.Store }

// TestInstrumentedStoreTimesEveryMethod calls every method of
// callbackd.Store on the wrapper and wants a sample under the method's
// name: a method added to the interface but not wrapped is promoted from
// the embedded store untimed, and fails here.
func TestInstrumentedStoreTimesEveryMethod(t *testing.T) {
	ops := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ops"}, []string{"op"})
	reg := prometheus.NewRegistry()
	reg.MustRegister(ops)
	var s callbackd.Store = &instrumentedStore{Store: nilStore{}, ops: ops}
	iface := reflect.TypeFor[callbackd.Store]()
	for i := range iface.NumMethod() {
		m := iface.Method(i)
		fn := reflect.ValueOf(s).MethodByName(m.Name)
		args := make([]reflect.Value, fn.Type().NumIn())
		for j := range args {
			args[j] = reflect.Zero(fn.Type().In(j))
		}
		func() {
			defer func() { _ = recover() }()
			fn.Call(args)
		}()
	}
	timed := map[string]uint64{}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			timed[m.GetLabel()[0].GetValue()] = m.GetHistogram().GetSampleCount()
		}
	}
	for i := range iface.NumMethod() {
		if name := iface.Method(i).Name; timed[name] != 1 {
			t.Errorf("Store.%s is not timed by instrumentedStore (%d samples): add a wrapper in prom/store.go", name, timed[name])
		}
	}
}
