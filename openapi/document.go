// Package openapi describes licenseflow's /api/v1 as an OpenAPI 3.1
// document, served at /openapi.json. The operations are listed in one
// table (paths.go) with the Go types they read and answer; the schemas
// are derived from those types, so the document follows the code. Tests
// hold the table to the router (every route documented, nothing else) and
// the schemas to real answers.
package openapi

import (
	"encoding/json"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/licenseflow/licenseflow/httpx"
)

// Auth is how an operation's caller proves who it is.
type Auth int

const (
	// Token is an API token with one of the operation's scopes.
	Token Auth = iota
	// Key is a site's license key in the body: no header.
	Key
	// StripeSignature is Stripe's webhook signature.
	StripeSignature
	// PayPalSignature is PayPal's webhook signature (PAYPAL-TRANSMISSION-SIG
	// and the headers it signs).
	PayPalSignature
	// PaddleSignature is Paddle's notification signature.
	PaddleSignature
)

// Operation is one documented route.
type Operation struct {
	Method string
	// Path is the route with {parameters}, e.g. /api/v1/orders/{id}.
	Path    string
	Summary string
	Auth    Auth
	// Scopes are the token scopes that allow the call (any one of them).
	Scopes []string
	// Query lists query parameters as name: description.
	Query map[string]string
	// Body is the JSON request body's Go type; nil for none.
	Body any
	// Required names the body fields the server refuses the body without,
	// for a body type whose fields all lack omitempty although the server
	// accepts some of them missing; nil: required unless omitempty.
	Required []string
	// Multipart describes a multipart/form-data body (field: description).
	Multipart map[string]string
	// Answers maps success statuses to the Go type of their JSON body; nil
	// means no body. Errors are documented for every operation.
	Answers map[int]any
	// ContentType of the success body when it is not JSON.
	ContentType string
	// Enums constrain path parameters to values.
	Enums map[string][]string
	// Idempotent honours the Idempotency-Key header.
	Idempotent bool
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// Document is the OpenAPI document as JSON, built once.
var Document = sync.OnceValue(func() []byte {
	raw, err := json.MarshalIndent(build(Operations), "", "  ")
	if err != nil {
		panic(err)
	}
	return raw
})

// Handler serves the document.
func Handler(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(Document())
}

func build(ops []Operation) map[string]any {
	s := newSchemas()
	errorRef := s.of(httpx.ErrorBody{})
	paths := map[string]map[string]any{}
	for _, op := range ops {
		item := paths[op.Path]
		if item == nil {
			item = map[string]any{}
			paths[op.Path] = item
		}
		item[strings.ToLower(op.Method)] = operation(s, op)
	}
	return map[string]any{
		"openapi":           "3.1.0",
		"jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
		"info": map[string]any{
			"title":   "licenseflow API",
			"version": "1",
			"description": "The JSON API under /api/v1 for the vendor's CRM and operators (bearer API tokens with scopes), " +
				"what installed sites call (their license key is their credential), and Stripe's webhook. " +
				"Every error answers {\"error\":{\"code\",\"message\",\"field\"}} with a 4xx or 503 status.",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas": s.components,
			"responses": map[string]any{
				"Error": map[string]any{
					"description": "The request was refused or could not be served; code and message say why, field names the input at fault.",
					"content":     map[string]any{"application/json": map[string]any{"schema": errorRef}},
				},
			},
			"securitySchemes": map[string]any{
				"token": map[string]any{"type": "http", "scheme": "bearer",
					"description": "An API token (lft_…) with the scopes the operation lists; admin implies all."},
				"stripeSignature": map[string]any{"type": "apiKey", "in": "header", "name": "Stripe-Signature",
					"description": "Stripe's signature of the event, verified with STRIPE_WEBHOOK_SECRETS."},
				"paypalSignature": map[string]any{"type": "apiKey", "in": "header", "name": "PAYPAL-TRANSMISSION-SIG",
					"description": "PayPal's RSA-SHA256 signature of the transmission id, time, PAYPAL_WEBHOOK_ID and the body's CRC32, verified with the certificate at PAYPAL-CERT-URL (PayPal's hosts only)."},
				"paddleSignature": map[string]any{"type": "apiKey", "in": "header", "name": "Paddle-Signature",
					"description": "Paddle's HMAC-SHA256 of ts:body, verified with PADDLE_WEBHOOK_SECRETS."},
			},
		},
	}
}

func operation(s *schemas, op Operation) map[string]any {
	out := map[string]any{
		"summary":     op.Summary,
		"operationId": operationID(op),
		"tags":        []string{tag(op.Path)},
	}
	switch op.Auth {
	case Token:
		out["security"] = []any{map[string]any{"token": []string{}}}
		out["description"] = "Scopes: " + strings.Join(op.Scopes, " or ") + "."
	case Key:
		out["security"] = []any{}
		out["description"] = "Called by installed sites: the license key in the body is the credential. Answers carry an Ed25519 signature in X-Licenseflow-Signature."
	case StripeSignature:
		out["security"] = []any{map[string]any{"stripeSignature": []string{}}}
	case PayPalSignature:
		out["security"] = []any{map[string]any{"paypalSignature": []string{}}}
	case PaddleSignature:
		out["security"] = []any{map[string]any{"paddleSignature": []string{}}}
	}
	var params []any
	for _, m := range pathParam.FindAllStringSubmatch(op.Path, -1) {
		schema := Schema{"type": "string"}
		if values, ok := op.Enums[m[1]]; ok {
			schema["enum"] = values
		}
		params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": schema})
	}
	for _, name := range slices.Sorted(maps.Keys(op.Query)) {
		params = append(params, map[string]any{"name": name, "in": "query", "required": false,
			"description": op.Query[name], "schema": Schema{"type": "string"}})
	}
	if op.Idempotent {
		params = append(params, map[string]any{"name": "Idempotency-Key", "in": "header", "required": false,
			"description": "A retry with the same key gets the first answer (Idempotent-Replayed: true).", "schema": Schema{"type": "string"}})
	}
	if len(params) > 0 {
		out["parameters"] = params
	}
	switch {
	case op.Body != nil:
		schema := s.of(op.Body)
		if op.Required != nil {
			schema = s.requiring(op.Body, op.Required)
		}
		out["requestBody"] = map[string]any{"required": !optionalBody(op),
			"content": map[string]any{"application/json": map[string]any{"schema": schema}}}
	case op.Multipart != nil:
		props := map[string]any{}
		for name, desc := range op.Multipart {
			props[name] = Schema{"type": "string", "description": desc}
		}
		props["file"] = Schema{"type": "string", "contentMediaType": "application/octet-stream"}
		out["requestBody"] = map[string]any{"required": true, "content": map[string]any{"multipart/form-data": map[string]any{
			"schema": Schema{"type": "object", "properties": props, "required": []string{"version", "file"}}}}}
	}
	responses := map[string]any{"default": map[string]any{"$ref": "#/components/responses/Error"}}
	for status, body := range op.Answers {
		r := map[string]any{"description": http.StatusText(status)}
		switch {
		case op.ContentType != "":
			r["content"] = map[string]any{op.ContentType: map[string]any{"schema": Schema{"type": "string", "contentMediaType": op.ContentType}}}
		case body != nil:
			r["content"] = map[string]any{"application/json": map[string]any{"schema": s.of(body)}}
		}
		responses[strconv.Itoa(status)] = r
	}
	out["responses"] = responses
	return out
}

// optionalBody says a POST's body may be left out (actions, renewal links).
func optionalBody(op Operation) bool {
	return strings.Contains(op.Path, "{action}") || strings.HasSuffix(op.Path, "/renewal-link") || strings.HasSuffix(op.Path, "/paid")
}

// operationID names an operation from its method and path:
// POST /api/v1/orders/{id}/paid is postOrdersIdPaid.
func operationID(op Operation) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(op.Method))
	for _, part := range strings.FieldsFunc(strings.TrimPrefix(op.Path, "/api/v1"), func(r rune) bool {
		return r == '/' || r == '{' || r == '}' || r == '-'
	}) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// tag groups operations by the first segment after /api/v1.
func tag(path string) string {
	rest := strings.TrimPrefix(path, "/api/v1/")
	first, _, _ := strings.Cut(rest, "/")
	return first
}
