package payments_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v79/webhook"

	"github.com/licenseflow/licenseflow/payments"
)

const fuzzSecret = "whsec_fuzz"

// FuzzStripeEvent: any payload, correctly signed or not, and any
// Stripe-Signature header are verified without panicking; a refusal is
// ErrBadSignature; a signature more than the tolerance old or ahead is
// refused; a verified event's object decodes (or fails to) into
// every struct licenseflow reads without panicking.
func FuzzStripeEvent(f *testing.F) {
	f.Add([]byte(`{"id":"evt_1","object":"event","type":"checkout.session.completed","created":1700000000,"livemode":false,"data":{"object":{"id":"cs_1","customer":{"id":"cus_1"},"metadata":{"tier":"pos","months":"12"},"customer_details":{"email":"a@example.com"}}}}`), int64(0), "")
	f.Add([]byte(`{"id":"evt_2","type":"invoice.paid","data":{"object":{"id":"in_1","subscription":"sub_1","lines":{"data":[{"period":{"start":1,"end":99999999999}}]}}}}`), int64(-3600), "")
	f.Add([]byte(`{"id":"evt_3","type":"charge.refunded","data":{"object":{"id":"ch_1","payment_intent":{"id":null},"refunded":true}}}`), int64(600), "")
	f.Add([]byte(`{"id":"evt_4","type":"charge.dispute.created","data":{"object":[]}}`), int64(0), "t=1,v1=00")
	f.Add([]byte(`{}`), int64(0), "t=abc,v1=")
	f.Add([]byte(`not json`), int64(301), "")
	f.Add([]byte(`{"id":"evt_5","type":"customer.subscription.deleted","data":{"object":{"id":"sub_1","customer":42}}}`), int64(0), ",,t=,")
	f.Fuzz(func(t *testing.T, payload []byte, skew int64, header string) {
		now := time.Unix(1_800_000_000, 0)
		offset := time.Duration(skew%100000) * time.Second
		signedHere := header == ""
		if signedHere {
			signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: fuzzSecret, Timestamp: now.Add(offset)})
			header = signed.Header
		}
		ev, err := payments.VerifyAt(payload, header, []string{"whsec_other", fuzzSecret}, now)
		if err == nil && signedHere && (offset > payments.SignatureTolerance || offset < -payments.SignatureTolerance) {
			t.Fatalf("a signature %s off was accepted", offset)
		}
		if err != nil {
			if !errors.Is(err, payments.ErrBadSignature) {
				t.Fatalf("refused without ErrBadSignature: %v", err)
			}
			return
		}
		var cs payments.CheckoutSession
		if ev.Decode(&cs) == nil {
			_ = cs.Email()
			_ = cs.MetadataInt("months")
		}
		var inv payments.Invoice
		if ev.Decode(&inv) == nil {
			_, _ = inv.ServiceEnd()
		}
		_ = ev.Decode(&payments.Charge{})
		_ = ev.Decode(&payments.Dispute{})
		_ = ev.Decode(&payments.Subscription{})
	})
}
