// Package openapicheck holds licenseflow's real answers to its OpenAPI
// document: wrapped around the HTTP handler in tests, it checks every JSON
// answer under /api/v1 against the schema documented for its route and
// status (undocumented statuses included), so the integration tests keep
// the document honest.
package openapicheck

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/licenseflow/licenseflow/openapi"
)

// Checker validates answers and keeps what it found.
type Checker struct {
	doc    *openapi3.T
	routes []route

	mu       sync.Mutex
	problems []string
	checked  map[string]int // "METHOD /path status" -> answers checked
}

// route is a documented path as a pattern; fewer parameters is more
// specific (/licenses/{id}/renewal-link before /licenses/{id}/{action}).
type route struct {
	path    string
	pattern *regexp.Regexp
	params  []string
}

// New loads the document licenseflow serves.
func New() (*Checker, error) {
	doc, err := openapi3.NewLoader().LoadFromData(openapi.Document())
	if err != nil {
		return nil, fmt.Errorf("load the OpenAPI document: %w", err)
	}
	c := &Checker{doc: doc, checked: map[string]int{}}
	param := regexp.MustCompile(`\{([^}]+)\}`)
	for _, path := range doc.Paths.InMatchingOrder() {
		var names []string
		for _, m := range param.FindAllStringSubmatch(path, -1) {
			names = append(names, m[1])
		}
		expr := strings.ReplaceAll(regexp.QuoteMeta(param.ReplaceAllString(path, "\x00")), "\x00", "([^/]+)")
		c.routes = append(c.routes, route{path: path, pattern: regexp.MustCompile("^" + expr + "$"), params: names})
	}
	sort.SliceStable(c.routes, func(i, j int) bool { return len(c.routes[i].params) < len(c.routes[j].params) })
	return c, nil
}

// Wrap checks the answers h gives under /api/v1.
func (c *Checker) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/v1/") {
			h.ServeHTTP(w, r)
			return
		}
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		c.check(r, rec.status, w.Header(), rec.body.Bytes())
	})
}

// Problems are the answers that did not match the document.
func (c *Checker) Problems() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.problems...)
}

// Checked counts the answers checked per "METHOD /documented/path status".
func (c *Checker) Checked() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.checked))
	for k, v := range c.checked {
		out[k] = v
	}
	return out
}

func (c *Checker) check(r *http.Request, status int, header http.Header, body []byte) {
	media, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	if media != "application/json" || status == http.StatusNotFound && len(body) > 0 && bytes.Contains(body, []byte(`"route_not_found"`)) {
		return // not JSON (PDF, no content), or a path no route serves
	}
	found, params := c.find(r.URL.Path)
	if found == "" {
		return
	}
	item := c.doc.Paths.Value(found)
	op := item.GetOperation(r.Method)
	if op == nil {
		return // 405: the router answers for methods it does not serve
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params,
			Route: &routers.Route{Spec: c.doc, Path: found, PathItem: item, Method: r.Method, Operation: op}},
		Status: status, Header: header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	input.SetBodyBytes(body)
	err := openapi3filter.ValidateResponse(context.Background(), input)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checked[fmt.Sprintf("%s %s %d", r.Method, found, status)]++
	if err != nil {
		c.problems = append(c.problems, fmt.Sprintf("%s %s answered %d %s\n  does not match the OpenAPI document: %v", r.Method, r.URL.Path, status, truncate(body), err))
	}
}

func (c *Checker) find(path string) (string, map[string]string) {
	for _, rt := range c.routes {
		m := rt.pattern.FindStringSubmatch(path)
		if m == nil {
			continue
		}
		params := map[string]string{}
		for i, name := range rt.params {
			params[name] = m[i+1]
		}
		return rt.path, params
	}
	return "", nil
}

func truncate(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

// recorder copies the answer's status and body on their way out.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}
