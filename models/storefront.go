package models

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Offer is one way the plans page sells a tier: a term, its length and
// its price from the catalog.
type Offer struct {
	// Term names the offer in URLs: monthly, yearly, lifetime, or
	// "<n>-months" for a custom term.
	Term       string
	Months     int
	Lifetime   bool
	PriceCents int64
}

// Offers lists the terms a tier is sold for, priced by PriceFor: its own
// term, and a monthly tier also by the year (twelve months at once). A
// tier that costs nothing is not sold through a checkout.
func (t Tier) Offers() []Offer {
	if t.PriceCents <= 0 || !t.Active {
		return nil
	}
	months, lifetime := t.Months()
	switch {
	case lifetime:
		return []Offer{{Term: "lifetime", Lifetime: true, PriceCents: t.PriceCents}}
	case months == 1:
		return []Offer{{Term: "monthly", Months: 1, PriceCents: t.PriceFor(1)}, {Term: "yearly", Months: 12, PriceCents: t.PriceFor(12)}}
	case months == 12:
		return []Offer{{Term: "yearly", Months: 12, PriceCents: t.PriceFor(12)}}
	default:
		return []Offer{{Term: fmt.Sprintf("%d-months", months), Months: months, PriceCents: t.PriceFor(months)}}
	}
}

// CheckoutChoice is what a checkout link or form asks for, as sent.
type CheckoutChoice struct {
	Term string
	// Months and Domains are optional; when sent they must agree with the
	// offer and the tier.
	Months  string
	Domains string
}

// ChooseOffer checks a checkout link's choice against the tier and returns
// the offer and the domains it buys. Anything the catalog does not sell
// (another term, other months, more domains than the tier has, numbers
// that are not numbers) is refused with what is on sale.
func (t Tier) ChooseOffer(c CheckoutChoice) (Offer, int, error) {
	offers := t.Offers()
	if len(offers) == 0 {
		return Offer{}, 0, NotFound("plan_not_sold", "plan %s is not sold online", quoted(t.Key))
	}
	terms := make([]string, len(offers))
	for i, o := range offers {
		terms[i] = o.Term
	}
	term := strings.ToLower(strings.TrimSpace(c.Term))
	if term == "" {
		term = offers[0].Term
	}
	var offer *Offer
	for i := range offers {
		if offers[i].Term == term {
			offer = &offers[i]
		}
	}
	if offer == nil {
		return Offer{}, 0, Invalid("invalid_term", "term", "plan %s is sold %s, not %s", quoted(t.Key), strings.Join(terms, " or "), quoted(Clip(c.Term, 40)))
	}
	if c.Months != "" {
		m, err := strconv.Atoi(c.Months)
		if err != nil || offer.Lifetime || m != offer.Months {
			return Offer{}, 0, Invalid("invalid_months", "months", "the %s term of plan %s is not sold for %s months", offer.Term, quoted(t.Key), quoted(Clip(c.Months, 20)))
		}
	}
	domains := t.MaxDomains
	if c.Domains != "" {
		d, err := strconv.Atoi(c.Domains)
		if err != nil || d < 1 || d > t.MaxDomains {
			return Offer{}, 0, Invalid("invalid_max_domains", "domains", "plan %s includes 1 to %d domains, not %s; more need another plan", quoted(t.Key), t.MaxDomains, quoted(Clip(c.Domains, 20)))
		}
		domains = d
	}
	return *offer, domains, nil
}

// Checkout is a Stripe Checkout Session the plans page created: which
// order it will become when paid, what it sells and to whom. The success
// page finds the order by the session id; the webhook records the
// purchase under OrderID, so a replayed event and a reloaded page land
// on the same order.
type Checkout struct {
	SessionID  string `gorm:"primaryKey;size:100"`
	OrderID    string `gorm:"size:128;not null;uniqueIndex"`
	TierKey    string `gorm:"size:64;not null"`
	Term       string `gorm:"size:16;not null"`
	Months     int    `gorm:"not null"`
	Lifetime   bool   `gorm:"not null"`
	MaxDomains int    `gorm:"not null"`
	// Email is the address the license is issued to when the buyer gave
	// it (typed on the confirm page, or the signed-in customer's); empty
	// when Stripe asks for it.
	Email string `gorm:"size:254;not null"`
	// CustomerID is the signed-in customer who started the checkout.
	CustomerID  string    `gorm:"size:64;not null"`
	AmountCents int64     `gorm:"not null"`
	Currency    string    `gorm:"size:3;not null"`
	CreatedAt   time.Time `gorm:"index"`
}

// AbandonedCheckoutAge is how long a checkout that never became an order
// is kept. Stripe lets a session be paid for at most a day, and a delayed
// payment method report within two weeks; after that the record (with
// the buyer's address) only holds data nobody will ask for.
const AbandonedCheckoutAge = 30 * 24 * time.Hour

// CheckoutStage is how far a checkout got, as its success page tells it.
type CheckoutStage string

const (
	// CheckoutAwaitingPayment: Stripe has not reported the payment yet.
	CheckoutAwaitingPayment CheckoutStage = "awaiting_payment"
	// CheckoutIssuing: paid; the license is being issued.
	CheckoutIssuing CheckoutStage = "issuing"
	// CheckoutIssued: the license is issued and its key emailed.
	CheckoutIssued CheckoutStage = "issued"
	// CheckoutOnHold: the payment waits for an operator (it did not cover
	// the price, or was reversed).
	CheckoutOnHold CheckoutStage = "on_hold"
)

// CheckoutStatus is what the success page may say about one checkout:
// nothing about the buyer, only the order's progress.
type CheckoutStatus struct {
	Stage         CheckoutStage `json:"stage"`
	OrderID       string        `json:"order_id"`
	Plan          string        `json:"plan"`
	Term          string        `json:"term"`
	LicenseStatus LicenseStatus `json:"license_status,omitempty"`
	ExpiresAt     *time.Time    `json:"expires_at,omitempty"`
}
