package httpapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var httpMethods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

// TestOpenAPIMatchesRoutes keeps openapi.json true: every served route is
// documented with its path parameters, every documented operation is
// served, root routes say so, and every error answer is the spec's error
// body.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(openAPISource, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", doc["openapi"])
	}
	paths := doc["paths"].(map[string]any)
	served := map[string]bool{}
	for _, rt := range (&Server{}).routes() {
		key := strings.ToLower(rt.method) + " " + rt.path
		served[key] = true
		item, ok := paths[rt.path].(map[string]any)
		if !ok {
			t.Errorf("route %s %s is not documented", rt.method, rt.path)
			continue
		}
		op, ok := item[strings.ToLower(rt.method)].(map[string]any)
		if !ok {
			t.Errorf("route %s %s: path documented without that method", rt.method, rt.path)
			continue
		}
		if root := isRootItem(item); root != rt.root {
			t.Errorf("route %s %s: served at the root = %v, documented at the root (servers [/]) = %v", rt.method, rt.path, rt.root, root)
		}
		for _, m := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(rt.path, -1) {
			if !hasPathParam(t, doc, item, op, m[1]) {
				t.Errorf("route %s %s: path parameter %s not documented", rt.method, rt.path, m[1])
			}
		}
		checkResponses(t, doc, rt.method+" "+rt.path, op)
	}
	for path, v := range paths {
		for _, m := range httpMethods {
			if _, ok := v.(map[string]any)[m]; ok && !served[m+" "+path] {
				t.Errorf("documented %s %s is not served", strings.ToUpper(m), path)
			}
		}
	}
	errSchema := resolve(t, doc, "#/components/schemas/Error")
	required, _ := errSchema["required"].([]any)
	for _, f := range []string{"code", "phrase", "message", "exception", "properties"} {
		if !slices.Contains(required, any(f)) {
			t.Errorf("Error schema does not require %q", f)
		}
		if _, ok := errSchema["properties"].(map[string]any)[f]; !ok {
			t.Errorf("Error schema lacks property %q", f)
		}
	}
	checkRefs(t, doc, doc)
}

func isRootItem(item map[string]any) bool {
	servers, _ := item["servers"].([]any)
	return len(servers) == 1 && servers[0].(map[string]any)["url"] == "/"
}

func hasPathParam(t *testing.T, doc, item, op map[string]any, name string) bool {
	for _, holder := range []map[string]any{item, op} {
		params, _ := holder["parameters"].([]any)
		for _, p := range params {
			pm := p.(map[string]any)
			if ref, ok := pm["$ref"].(string); ok {
				pm = resolve(t, doc, ref)
			}
			if pm["in"] == "path" && pm["name"] == name && pm["required"] == true {
				return true
			}
		}
	}
	return false
}

// checkResponses wants a 200, and the Error schema for every 4xx and 5xx.
func checkResponses(t *testing.T, doc map[string]any, name string, op map[string]any) {
	responses, _ := op["responses"].(map[string]any)
	if _, ok := responses["200"]; !ok {
		t.Errorf("%s: no 200 response", name)
	}
	for status, r := range responses {
		if status[0] != '4' && status[0] != '5' {
			continue
		}
		rm := r.(map[string]any)
		if ref, ok := rm["$ref"].(string); ok {
			rm = resolve(t, doc, ref)
		}
		schema, _ := rm["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)
		if schema["$ref"] != "#/components/schemas/Error" {
			t.Errorf("%s: response %s is not the Error body: %v", name, status, schema)
		}
	}
}

func resolve(t *testing.T, doc map[string]any, ref string) map[string]any {
	t.Helper()
	var cur any = doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("$ref %s does not resolve", ref)
		}
		cur = m[part]
	}
	m, ok := cur.(map[string]any)
	if !ok {
		t.Fatalf("$ref %s does not resolve", ref)
	}
	return m
}

// checkRefs resolves every $ref in the document.
func checkRefs(t *testing.T, doc map[string]any, v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "$ref" {
				resolve(t, doc, s)
			}
			checkRefs(t, doc, x)
		}
	case []any:
		for _, x := range v {
			checkRefs(t, doc, x)
		}
	}
}

// TestOpenAPIServedWithBasePath checks that the served document names the
// configured base path as its server, and is served under it.
func TestOpenAPIServedWithBasePath(t *testing.T) {
	s := &Server{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ts := httptest.NewServer(s.Handler("/cb-api"))
	defer ts.Close()
	res, err := http.Get(ts.URL + "/cb-api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc struct {
		OpenAPI string           `json:"openapi"`
		Servers []map[string]any `json:"servers"`
		Paths   map[string]any   `json:"paths"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, Content-Type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if doc.OpenAPI != "3.1.0" || len(doc.Servers) != 1 || doc.Servers[0]["url"] != "/cb-api" || doc.Paths["/1/service/callback/{service}"] == nil {
		t.Fatalf("served document: openapi %q, servers %v, %d paths", doc.OpenAPI, doc.Servers, len(doc.Paths))
	}
}
