package paypal

import (
	"net/url"
	"strings"
	"time"
)

// Order is what licenseflow reads from CHECKOUT.ORDER.COMPLETED (a v2
// Orders API order).
type Order struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Payer  struct {
		EmailAddress string     `json:"email_address"`
		Name         PersonName `json:"name"`
		Address      struct {
			CountryCode string `json:"country_code"`
		} `json:"address"`
	} `json:"payer"`
	PurchaseUnits []PurchaseUnit `json:"purchase_units"`
}

// PurchaseUnit is one unit of an order; licenseflow's checkouts have one.
type PurchaseUnit struct {
	ReferenceID string `json:"reference_id"`
	// CustomID is what licenseflow put on the order when it created it.
	CustomID  string `json:"custom_id"`
	InvoiceID string `json:"invoice_id"`
	Amount    Money  `json:"amount"`
	Payments  struct {
		Captures []Capture `json:"captures"`
	} `json:"payments"`
}

// PersonName is a payer's or subscriber's name.
type PersonName struct {
	GivenName string `json:"given_name"`
	Surname   string `json:"surname"`
}

// Full is "given surname", without the space when one is missing.
func (n PersonName) Full() string { return strings.TrimSpace(n.GivenName + " " + n.Surname) }

// Email is the payer's address.
func (o Order) Email() string { return o.Payer.EmailAddress }

// Name is the payer's full name.
func (o Order) Name() string { return o.Payer.Name.Full() }

// Country is the payer's country code ("DE").
func (o Order) Country() string { return o.Payer.Address.CountryCode }

// Unit is the order's first purchase unit.
func (o Order) Unit() (PurchaseUnit, bool) {
	if len(o.PurchaseUnits) == 0 {
		return PurchaseUnit{}, false
	}
	return o.PurchaseUnits[0], true
}

// CaptureID is the first completed capture of the first purchase unit, ""
// when the order has not been captured (a pending or declined capture
// carries no money).
func (o Order) CaptureID() string { return o.Capture().ID }

// Capture is the first completed capture of the first purchase unit (the
// zero Capture when there is none): what was actually paid, which a
// merchant's partial capture makes less than the unit's amount.
func (o Order) Capture() Capture {
	u, ok := o.Unit()
	if !ok {
		return Capture{}
	}
	for _, c := range u.Payments.Captures {
		if c.Status == "COMPLETED" {
			return c
		}
	}
	return Capture{}
}

// Capture is what licenseflow reads from PAYMENT.CAPTURE.COMPLETED and
// .DENIED (a v2 Payments API capture), and from an order's captures.
type Capture struct {
	ID                string `json:"id"`
	Status            string `json:"status"`
	Amount            Money  `json:"amount"`
	CustomID          string `json:"custom_id"`
	InvoiceID         string `json:"invoice_id"`
	SupplementaryData struct {
		RelatedIDs struct {
			OrderID string `json:"order_id"`
		} `json:"related_ids"`
	} `json:"supplementary_data"`
}

// OrderID is the order the capture paid, as PayPal relates it.
func (c Capture) OrderID() string { return c.SupplementaryData.RelatedIDs.OrderID }

// Sale is what licenseflow reads from PAYMENT.SALE.* (a v1 sale; PayPal
// still sends these for subscription payments).
type Sale struct {
	ID     string     `json:"id"`
	State  string     `json:"state"`
	Amount SaleAmount `json:"amount"`
	// BillingAgreementID is the subscription ("I-…") a recurring sale paid.
	BillingAgreementID string `json:"billing_agreement_id"`
	Custom             string `json:"custom"`
}

// Cents is the sale's amount in hundredths, and its currency.
func (s Sale) Cents() (int64, string, error) {
	cents, err := ParseAmount(s.Amount.Total, s.Amount.Currency)
	if err != nil {
		return 0, "", err
	}
	return cents, s.Amount.Currency, nil
}

// Refund is what licenseflow reads from PAYMENT.CAPTURE.REFUNDED (a v2
// Payments API refund).
type Refund struct {
	ID                     string `json:"id"`
	Status                 string `json:"status"`
	Amount                 Money  `json:"amount"`
	SellerPayableBreakdown struct {
		// TotalRefundedAmount is cumulative: every refund of the capture so far.
		TotalRefundedAmount Money `json:"total_refunded_amount"`
	} `json:"seller_payable_breakdown"`
	Links []Link `json:"links"`
}

// Link is a HATEOAS link of a PayPal resource.
type Link struct {
	Href   string `json:"href"`
	Rel    string `json:"rel"`
	Method string `json:"method"`
}

// CaptureID is the capture the refund returns money from. A v2 refund does
// not name it in a field, only in its "up" link
// (…/v2/payments/captures/{id}); "" without such a link.
func (r Refund) CaptureID() string {
	for _, l := range r.Links {
		if l.Rel != "up" {
			continue
		}
		u, err := url.Parse(l.Href)
		if err != nil {
			continue
		}
		if id, ok := strings.CutPrefix(u.Path, "/v2/payments/captures/"); ok && paypalID.MatchString(id) {
			return id
		}
	}
	return ""
}

// SaleRefund is what licenseflow reads from PAYMENT.SALE.REFUNDED (a v1
// refund of a sale).
type SaleRefund struct {
	ID     string `json:"id"`
	State  string `json:"state"`
	SaleID string `json:"sale_id"`
	// Amount is this refund alone.
	Amount SaleAmount `json:"amount"`
	// TotalRefundedAmount is cumulative: every refund of the sale so far.
	TotalRefundedAmount struct {
		Value    string `json:"value"`
		Currency string `json:"currency"`
	} `json:"total_refunded_amount"`
}

// Dispute is what licenseflow reads from CUSTOMER.DISPUTE.CREATED.
type Dispute struct {
	DisputeID            string `json:"dispute_id"`
	Reason               string `json:"reason"`
	Status               string `json:"status"`
	DisputedTransactions []struct {
		// SellerTransactionID is the seller's side of the payment: a
		// capture id (v2) or a sale id (v1).
		SellerTransactionID string `json:"seller_transaction_id"`
	} `json:"disputed_transactions"`
	DisputeAmount Money `json:"dispute_amount"`
}

// TransactionIDs are the captures or sales the dispute is about.
func (d Dispute) TransactionIDs() []string {
	var ids []string
	for _, t := range d.DisputedTransactions {
		if t.SellerTransactionID != "" {
			ids = append(ids, t.SellerTransactionID)
		}
	}
	return ids
}

// Subscription is what licenseflow reads from BILLING.SUBSCRIPTION.* (a
// v1 Subscriptions API subscription).
type Subscription struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	PlanID string `json:"plan_id"`
	// CustomID is what licenseflow put on the subscription when it created it.
	CustomID   string `json:"custom_id"`
	Subscriber struct {
		EmailAddress string     `json:"email_address"`
		Name         PersonName `json:"name"`
	} `json:"subscriber"`
	BillingInfo struct {
		// NextBillingTime is absent once the subscription stops billing.
		NextBillingTime time.Time `json:"next_billing_time"`
	} `json:"billing_info"`
}
