package prom

import (
	"reflect"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callbackd/callbackd"
)

// nilStore panics on every call: the tests below only look at what the
// wrapper records around the call.
type nilStore struct{ callbackd.Store }

// nilAgentStore is a nilStore that also keeps agents, as both real stores
// do.
type nilAgentStore struct {
	callbackd.Store
	callbackd.AgentStore
}

// TestInstrumentedStoreTimesEveryMethod calls every method of
// callbackd.Store, and of callbackd.AgentStore, on the wrapper and wants a
// sample under the method's name: a method added to an interface but not
// wrapped is promoted from the embedded store untimed, and fails here.
func TestInstrumentedStoreTimesEveryMethod(t *testing.T) {
	ops := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ops"}, []string{"op"})
	reg := prometheus.NewRegistry()
	reg.MustRegister(ops)
	s := instrument(&instrumentedStore{Store: nilAgentStore{}, ops: ops})
	if _, ok := s.(callbackd.AgentStore); !ok {
		t.Fatalf("the wrapper of an AgentStore, %T, is no AgentStore", s)
	}
	ifaces := []reflect.Type{reflect.TypeFor[callbackd.Store](), reflect.TypeFor[callbackd.AgentStore]()}
	for _, iface := range ifaces {
		for i := range iface.NumMethod() {
			fn := reflect.ValueOf(s).MethodByName(iface.Method(i).Name)
			args := make([]reflect.Value, fn.Type().NumIn())
			for j := range args {
				args[j] = reflect.Zero(fn.Type().In(j))
			}
			func() {
				defer func() { _ = recover() }()
				fn.Call(args)
			}()
		}
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
	for _, iface := range ifaces {
		for i := range iface.NumMethod() {
			if name := iface.Method(i).Name; timed[name] != 1 {
				t.Errorf("%s.%s is not timed by the wrapper (%d samples): add one in prom/store.go or prom/agents.go",
					iface.Name(), name, timed[name])
			}
		}
	}
}

// TestWrapperOfStoreWithoutAgents: the wrapper of a store that keeps no
// agents is no AgentStore either, so that code looking for one learns it
// is missing instead of getting methods that can only fail.
func TestWrapperOfStoreWithoutAgents(t *testing.T) {
	s := instrument(&instrumentedStore{Store: nilStore{}})
	if _, ok := s.(callbackd.AgentStore); ok {
		t.Fatalf("the wrapper of a store without agents, %T, is an AgentStore", s)
	}
}
