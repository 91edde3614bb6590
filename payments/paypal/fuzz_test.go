package paypal_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/licenseflow/licenseflow/payments/paypal"
	"github.com/licenseflow/licenseflow/payments/paypal/paypaltest"
)

// FuzzPayPalDelivery: any body under any PayPal headers is verified
// without panicking; a refusal is one of the three errors callers sort on;
// a delivery whose certificate URL is not the allowed host's never
// verifies; a verified event decodes (or fails to) into every resource
// licenseflow reads without panicking.
func FuzzPayPalDelivery(f *testing.F) {
	pp := paypaltest.New(f)
	entries, _ := filepath.Glob("testdata/*.json")
	for _, name := range entries {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw, int64(0), "", "")
	}
	f.Add([]byte(`{"id":"WH-1","event_type":"PAYMENT.SALE.COMPLETED","resource":{"amount":{"total":"1e9"}}}`), int64(400), "", "")
	f.Add([]byte(`not json`), int64(0), "https://api.paypal.com.evil.example/cert", "")
	f.Add([]byte(`{}`), int64(-400), "", "SHA1withRSA")
	f.Fuzz(func(t *testing.T, payload []byte, skew int64, certURL, algo string) {
		v := pp.Verifier(webhookID)
		at := time.Now().Add(time.Duration(skew%100000) * time.Second)
		h := pp.Sign(payload, webhookID, at)
		if certURL != "" {
			h.Set("PAYPAL-CERT-URL", certURL)
		}
		if algo != "" {
			h.Set("PAYPAL-AUTH-ALGO", algo)
		}
		ev, err := v.Verify(t.Context(), payload, h)
		if err != nil {
			if !errors.Is(err, paypal.ErrBadSignature) && !errors.Is(err, paypal.ErrInvalidEvent) && !errors.Is(err, paypal.ErrCertUnavailable) {
				t.Fatalf("refused without one of the three errors: %v", err)
			}
			return
		}
		if certURL != "" && certURL != pp.CertURL() {
			t.Fatalf("verified with the certificate at %q", certURL)
		}
		for _, v := range []any{&paypal.Order{}, &paypal.Capture{}, &paypal.Sale{}, &paypal.Refund{}, &paypal.SaleRefund{}, &paypal.Dispute{}, &paypal.Subscription{}} {
			if ev.Decode(v) == nil {
				switch r := v.(type) {
				case *paypal.Order:
					_, _ = r.Capture().Amount.Cents()
				case *paypal.Sale:
					_, _, _ = r.Cents()
				case *paypal.Refund:
					_ = r.CaptureID()
				}
			}
		}
	})
}
