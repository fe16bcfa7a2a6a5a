package numbers

import "testing"

func BenchmarkCheck(b *testing.B) {
	p := Policy{DefaultCountry: "US", DisallowImpossible: true, DisallowPremium: true}
	for _, bc := range []struct{ name, number string }{
		{"Fictional555", "555-546-1206"},
		{"ValidForeign", "+44 20 7946 0958"},
		{"Premium", "+19005551234"},
		{"Unparseable", "abc"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = p.Check(bc.number)
			}
		})
	}
}

func BenchmarkNormalize(b *testing.B) {
	for _, bc := range []struct{ name, number string }{
		{"National", "(555) 546-1206"},
		{"E164", "+15555461206"},
		{"Fallback", "john doe"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = normalize(bc.number, "US") // the parse; Normalize remembers it
			}
		})
	}
}

func BenchmarkGroupCheckRequest(b *testing.B) {
	g, _ := CompileGroup("Callback_exceptions", map[string]string{
		"exception1": `\+33.*`, "exception2": `\+12345`, "email": `.*@badrobot\.com`,
	})
	params := map[string]string{"firstname": "John", "email": "john@example.com", "_desired_time": "2026-03-03T10:25:00.000Z"}
	b.ReportAllocs()
	for b.Loop() {
		_ = g.CheckRequest("5555461206", params)
	}
}
