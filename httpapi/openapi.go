package httpapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
)

// openAPISource is the OpenAPI 3.1 document of every route, written by
// hand (a generator would know the routes but not what their parameters
// and answers mean). TestOpenAPIMatchesRoutes fails when a route is
// missing from it or it documents a route that is not served.
//
//go:embed openapi.json
var openAPISource []byte

// openAPIDocument returns the document with its server URL set to the
// configured base path, so that tools call the right URLs.
func openAPIDocument(basePath string) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(openAPISource, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	url := basePath
	if url == "" {
		url = "/"
	}
	doc["servers"] = []any{map[string]any{"url": url, "description": "the configured base_path"}}
	return json.Marshal(doc)
}

// openAPI is GET {base}/openapi.json.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	if s.docErr != nil {
		s.writeError(w, r, s.docErr)
		return
	}
	writeRawJSON(w, s.doc)
}
