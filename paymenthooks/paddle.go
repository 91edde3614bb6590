package paymenthooks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/payments/paddle"
)

// paddleWebhook receives Paddle Billing's notifications: verified with the
// endpoint's secret keys (Paddle-Signature), then through the door.
func (s *server) paddleWebhook(c *gin.Context) {
	if len(s.PaddleSecrets) == 0 {
		notConfigured(c, models.ProviderPaddle, "PADDLE_WEBHOOK_SECRETS to the notification destination's secret key")
		return
	}
	payload, ok := readEvent(c)
	if !ok {
		return
	}
	ev, err := paddle.Verify(payload, c.GetHeader("Paddle-Signature"), s.PaddleSecrets, s.Now())
	switch {
	case errors.Is(err, paddle.ErrInvalidEvent):
		httpx.Fail(c, httpx.NewError(http.StatusBadRequest, "invalid_event", "", err.Error()))
		return
	case err != nil:
		s.badSignature(c, models.ProviderPaddle, "Paddle-Signature", err)
		return
	}
	// Paddle's sandbox and live environments have their own secret keys: an
	// event that verifies belongs to this endpoint's environment.
	s.receive(c, verified{provider: models.ProviderPaddle, id: ev.ID, typ: ev.Type, livemode: true, payload: payload,
		movesMoney: paddleMovesMoney(ev.Type)}, func(ctx context.Context) (outcome, error) { return s.handlePaddleEvent(ctx, ev) })
}

func paddleMovesMoney(typ string) bool {
	return typ == paddle.TransactionCompleted || typ == paddle.AdjustmentCreated || typ == paddle.AdjustmentUpdated
}

func (s *server) handlePaddleEvent(ctx context.Context, ev paddle.Event) (outcome, error) {
	switch ev.Type {
	case paddle.TransactionCompleted:
		return s.onPaddleTransaction(ctx, ev)
	case paddle.TransactionPaymentFailed:
		return s.onPaddlePaymentFailed(ctx, ev)
	case paddle.SubscriptionCanceled:
		var sub paddle.Subscription
		if err := decodePaddle(ev, &sub); err != nil {
			return outcome{}, err
		}
		l, err := s.Store.LicenseForProviderSubscription(ctx, models.ProviderPaddle, sub.ID)
		if err != nil {
			return outcome{}, err
		}
		return s.autoRenewOff(ctx, l)
	case paddle.AdjustmentCreated, paddle.AdjustmentUpdated:
		return s.onPaddleAdjustment(ctx, ev)
	case paddle.CustomerCreated, paddle.CustomerUpdated:
		var cu paddle.Customer
		if err := decodePaddle(ev, &cu); err != nil {
			return outcome{}, err
		}
		if !providerRef(cu.ID) {
			return outcome{}, models.Invalid("invalid_event", "id", "the customer id is not a Paddle id licenseflow can record")
		}
		return outcome{}, s.Store.RecordProviderCustomer(ctx, models.ProviderCustomer{Provider: models.ProviderPaddle, ID: cu.ID,
			Email: models.Clip(cu.Email, models.MaxEmailLength), Name: models.CleanLine(cu.Name, models.MaxNameLength)})
	}
	return ignored("licenseflow does not act on " + ev.Type), nil
}

func decodePaddle(ev paddle.Event, v any) error {
	if err := ev.Decode(v); err != nil {
		return models.Invalid("invalid_event", "", "%v", err)
	}
	return nil
}

// onPaddleTransaction turns a completed transaction into a renewal (a
// subscription's recurring payment, or custom_data.license_id) or a
// purchase (custom_data.tier). Paddle is the merchant of record: the order
// keeps Paddle's invoice number, which stands for licenseflow's invoice.
func (s *server) onPaddleTransaction(ctx context.Context, ev paddle.Event) (outcome, error) {
	var t paddle.Transaction
	if err := decodePaddle(ev, &t); err != nil {
		return outcome{}, err
	}
	if t.Status != "completed" {
		return ignored("transaction " + t.ID + " is " + t.Status + ", not completed"), nil
	}
	for _, id := range []string{t.ID, t.CustomerID, t.SubscriptionID} {
		if id != "" && !providerRef(id) {
			return outcome{}, models.Invalid("invalid_event", "id", "the transaction names an id that is not a Paddle id licenseflow can record")
		}
	}
	totals, err := t.Totals()
	if err != nil {
		return outcome{}, models.Invalid("invalid_event", "details.totals", "%v", err)
	}
	// What the buyer paid before the vendor's discounts, tax included (as
	// with Stripe, tiers are priced as the buyer pays).
	paid := totals.Total + totals.Discount
	orderID := "paddle:" + t.ID
	payment := models.ProviderPayment{Provider: models.ProviderPaddle, PaymentID: t.ID, SubscriptionID: t.SubscriptionID,
		InvoiceNumber: models.Clip(t.InvoiceNumber, 32)}
	renewal := paidRenewal{orderID: orderID, amount: totals.Total, currency: t.CurrencyCode, paymentRef: t.ID, provider: payment}
	if t.SubscriptionID != "" {
		l, err := s.Store.LicenseForProviderSubscription(ctx, models.ProviderPaddle, t.SubscriptionID)
		switch {
		case err == nil && !t.Recurring() && totals.Total == 0:
			return ignored("transaction " + t.ID + " charged nothing (origin " + t.Origin + ")"), nil
		case err == nil && !t.Recurring():
			// A one-time charge or a plan change on the subscription is no
			// renewal's term: an operator decides what it bought.
			return needsReview(fmt.Sprintf("transaction %s (origin %s) on subscription %s is not a renewal: nothing is renewed", t.ID, t.Origin, t.SubscriptionID), l.ID, orderID), nil
		case err == nil:
			if end, ok := t.PeriodEnd(); ok {
				renewal.expiresAt = &end
			}
			return s.renewPaid(ctx, l, 0, paid, renewal)
		}
		if p, ok := models.AsProblem(err); !ok || !errors.Is(p, models.ErrNotFound) {
			return outcome{}, err
		}
	}
	if licenseID := t.Custom("license_id"); licenseID != "" {
		l, err := s.Store.GetLicense(ctx, licenseID)
		if err != nil {
			return outcome{licenseID: licenseID, orderID: orderID}, err
		}
		out, err := s.renewPaid(ctx, l, 0, paid, renewal)
		if err != nil || out.outcome == models.PaymentEventNeedsReview {
			return out, err
		}
		return out, s.Store.LinkProviderSubscription(ctx, l.ID, models.ProviderPaddle, t.SubscriptionID)
	}
	if t.Recurring() {
		return outcome{orderID: orderID}, models.NotFound("license_not_found", "no license is linked to Paddle subscription %s", t.SubscriptionID)
	}
	tier, err := s.Store.GetTier(ctx, t.Custom("tier"))
	if err != nil {
		return outcome{orderID: orderID}, err
	}
	email, name, err := s.paddleBuyer(ctx, t, ev.OccurredAt)
	if err != nil {
		return outcome{orderID: orderID}, err
	}
	currency, err := paidCurrency(t.CurrencyCode, tier)
	if err != nil {
		return outcome{orderID: orderID}, err
	}
	months, lifetime := tier.Months()
	if reason := paidFor(paid, currency, tier, months); reason != "" {
		return needsReview(reason, "", orderID), nil
	}
	return s.purchase(ctx, models.Purchase{
		OrderID: orderID, Email: email, CustomerName: name, Tier: tier, MaxDomains: tier.MaxDomains,
		Months: months, Lifetime: lifetime, Type: models.TypeCommercial, AmountCents: totals.Total, Currency: currency,
		PaymentRef: t.ID, Provider: payment, PaidAt: s.Now(), AmountIncludesTax: true,
	})
}

// paddleCustomerWait is how long a transaction waits for its customer's
// customer.created before it is held for an operator.
const paddleCustomerWait = time.Hour

// paddleBuyer is the address a transaction's license goes to: the one the
// vendor's checkout put in custom_data.email, or the one Paddle sent in
// customer.created. A customer not received yet is a transient error:
// Paddle redelivers the transaction, by when its customer has arrived.
// After paddleCustomerWait it never will (the destination is not
// subscribed to customer.created): the paid transaction is held for
// review, so an operator hears of it.
func (s *server) paddleBuyer(ctx context.Context, t paddle.Transaction, occurred time.Time) (email, name string, err error) {
	raw := t.Custom("email")
	if raw == "" {
		c, err := s.Store.GetProviderCustomer(ctx, models.ProviderPaddle, t.CustomerID)
		if p, ok := models.AsProblem(err); ok && errors.Is(p, models.ErrNotFound) && s.Now().Sub(occurred) > paddleCustomerWait {
			return "", "", models.NotFound("customer_not_found", "Paddle customer %s never arrived (is the notification destination subscribed to customer.created?): no one to issue the license to", t.CustomerID)
		} else if ok && errors.Is(p, models.ErrNotFound) {
			return "", "", httpx.NewError(http.StatusServiceUnavailable, "paddle_customer_pending", "",
				fmt.Sprintf("Paddle customer %s has not arrived yet (customer.created); Paddle redelivers this transaction", t.CustomerID))
		} else if err != nil {
			return "", "", err
		}
		raw, name = c.Email, c.Name
	}
	email, err = models.NormalizeEmail(raw, "customer.email")
	return email, name, err
}

// onPaddlePaymentFailed emails the customer whose subscription payment
// failed (Paddle retries it and emails too; this is licenseflow's notice).
func (s *server) onPaddlePaymentFailed(ctx context.Context, ev paddle.Event) (outcome, error) {
	var t paddle.Transaction
	if err := decodePaddle(ev, &t); err != nil {
		return outcome{}, err
	}
	if t.SubscriptionID == "" {
		return ignored("a failed one-time payment issues nothing"), nil
	}
	l, err := s.Store.LicenseForProviderSubscription(ctx, models.ProviderPaddle, t.SubscriptionID)
	if err != nil {
		return outcome{}, err
	}
	totals, _ := t.Totals()
	return s.paymentFailed(ctx, l, ev.ID, totals.GrandTotal, t.CurrencyCode, "")
}

// onPaddleAdjustment acts on an approved refund (suspends the license a
// full refund paid for; Paddle credits its own invoice) or a chargeback.
func (s *server) onPaddleAdjustment(ctx context.Context, ev paddle.Event) (outcome, error) {
	var a paddle.Adjustment
	if err := decodePaddle(ev, &a); err != nil {
		return outcome{}, err
	}
	switch {
	case a.Action == "chargeback":
	case a.Action != "refund":
		return ignored("adjustment " + a.ID + " is a " + a.Action + ", which changes no license"), nil
	case a.Status != "approved":
		return ignored("refund " + a.ID + " is " + a.Status + "; licenseflow acts once Paddle approves it"), nil
	}
	o, err := s.Store.OrderForProviderPayment(ctx, models.ProviderPaddle, a.TransactionID)
	if err != nil {
		return outcome{}, err
	}
	if a.Action == "chargeback" {
		return s.reverse(ctx, reversal{order: o, dispute: true, eventID: ev.ID, reason: "payment charged back (Paddle adjustment " + a.ID + ")"})
	}
	full := a.Full(o.AmountCents)
	credited := "Paddle, the merchant of record, credits its invoice"
	if !full {
		return outcome{licenseID: o.LicenseID, orderID: o.ID, reason: "partial refund: " + credited + "; the license stays active"}, nil
	}
	return s.reverse(ctx, reversal{order: o, full: true, eventID: ev.ID, credited: credited,
		reason: "payment refunded (Paddle adjustment " + a.ID + ")"})
}
