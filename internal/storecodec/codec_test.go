package storecodec

import (
	"testing"
	"time"

	"github.com/callbackd/callbackd"
)

func TestRoundTripAndRateHoldsDropped(t *testing.T) {
	p := map[string]string{"a": "x\u0000y", "b": ""}
	s, err := EncodeProps(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeProps(s)
	if err != nil || got["a"] != "x\u0000y" || len(got) != 2 {
		t.Fatalf("props round trip: %v %v", got, err)
	}
	if empty, _ := DecodeProps("{}"); empty == nil {
		t.Fatal("nil map for no properties")
	}
	hs := []callbackd.Hold{{Key: "slot/a", Limit: 3, While: callbackd.StateQueued}, {Key: "rate/a/1", Limit: 5, Window: time.Minute}}
	s, err = EncodeHolds(hs)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeHolds(s)
	if err != nil || len(back) != 1 || back[0] != hs[0] {
		t.Fatalf("holds round trip: %+v %v (rate holds must not be stored)", back, err)
	}
	if _, err := DecodeHolds("[{"); err == nil {
		t.Fatal("corrupt holds accepted")
	}
}
