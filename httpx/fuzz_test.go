package httpx_test

import (
	"errors"
	"testing"

	"github.com/licenseflow/licenseflow/api"
	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/siteapi"
)

// requestTypes are every JSON request body licenseflow reads.
var requestTypes = []func() any{
	func() any { return new(api.CreateLicenseRequest) },
	func() any { return new(api.PatchLicenseRequest) },
	func() any { return new(api.ActionRequest) },
	func() any { return new(api.CreateOrderRequest) },
	func() any { return new(api.PayOrderRequest) },
	func() any { return new(api.RenewalLinkRequest) },
	func() any { return new(api.ProductRequest) },
	func() any { return new(api.TierRequest) },
	func() any { return new(api.TokenRequest) },
	func() any { return new(siteapi.SiteRequest) },
}

// FuzzDecodeRequests feeds any bytes to the strict decoder as every
// request type: it never panics, and whatever it refuses is an *httpx.Error
// with a 4xx status and a code.
func FuzzDecodeRequests(f *testing.F) {
	for i := range requestTypes {
		f.Add(uint8(i), []byte(`{}`))
	}
	f.Add(uint8(0), []byte(`{"user_email":"ada@example.com","tier":"pos","max_domains":3,"expires_months":12,"amount_cents":100,"currency":"EUR"}`))
	f.Add(uint8(1), []byte(`{"expires_at":"2027-01-01T00:00:00Z","tier":"pos","max_domains":2,"status":"suspended","reason":"x"}`))
	f.Add(uint8(7), []byte(`{"key":"gold","name":"Gold","products":["base"],"max_domains":3,"term":"custom","term_months":6,"price_cents":1,"currency":"EUR","channels":["stable"],"active":true}`))
	f.Add(uint8(9), []byte(`{"dlid":"7f21b9ff979fce861bb482a1bc3e753f","domain":"https://www.example.com","product":"pos","nonce":"n"}`))
	f.Add(uint8(0), []byte(`{"user_email":"a\u0000b@example.com"}`))
	f.Add(uint8(0), []byte("{\"user_email\":\"M\xfcller\"}"))
	f.Add(uint8(2), []byte(`{"months":1e999}`))
	f.Add(uint8(2), []byte(`{"months":"12"}`))
	f.Add(uint8(3), []byte(`{"id":"x"} {"id":"y"}`))
	f.Add(uint8(4), []byte(`{"payment_ref":null,"unknown":1}`))
	f.Add(uint8(8), []byte(`{"name":"crm","scopes":[1,2]}`))
	f.Add(uint8(5), []byte(`[`))
	f.Add(uint8(6), []byte(` `))
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		dst := requestTypes[int(which)%len(requestTypes)]()
		err := httpx.DecodeBytes(body, dst)
		if err == nil {
			return
		}
		var e *httpx.Error
		if !errors.As(err, &e) {
			t.Fatalf("%T is not an *httpx.Error: %v", err, err)
		}
		if e.Status < 400 || e.Status > 499 || e.Code == "" || e.Message == "" {
			t.Fatalf("not a clear 4xx: %d %q %q", e.Status, e.Code, e.Message)
		}
	})
}
