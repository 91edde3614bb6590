package models

import "time"

// OrderKind separates first purchases from renewals of an existing license.
type OrderKind string

const (
	OrderNew     OrderKind = "new"
	OrderRenewal OrderKind = "renewal"
	// OrderTrial starts a free trial: nothing is paid or invoiced, and it
	// is not a sale.
	OrderTrial OrderKind = "trial"
	// OrderAddon buys one product on top of an existing license's tier
	// (the order's Product); it is invoiced and counted as a sale.
	OrderAddon OrderKind = "addon"
)

// OrderStatus follows the payment.
type OrderStatus string

const (
	OrderPending  OrderStatus = "pending"
	OrderPaid     OrderStatus = "paid"
	OrderFailed   OrderStatus = "failed"
	OrderRefunded OrderStatus = "refunded"
)

// Order is a purchase or renewal, as the CRM or Stripe reported it. Its id is
// the CRM's order id when there is one, so the same order is never counted twice.
type Order struct {
	ID         string    `gorm:"primaryKey;size:128" json:"id"`
	CustomerID string    `gorm:"size:64;not null;index" json:"customer_id"`
	Customer   Customer  `gorm:"foreignKey:CustomerID" json:"-"`
	TierKey    string    `gorm:"size:64;not null" json:"tier"`
	Kind       OrderKind `gorm:"size:16;not null" json:"kind"`
	// Product is the product an add-on order buys (kind addon only).
	Product  string `gorm:"size:64;not null;default:''" json:"product,omitempty"`
	Months   int    `gorm:"not null" json:"months"`
	Lifetime bool   `gorm:"not null" json:"lifetime"`
	// ExpiresAt is an expiry bought as a date instead of the term's months.
	ExpiresAt   *time.Time  `json:"expires_at,omitempty"`
	MaxDomains  int         `gorm:"not null" json:"max_domains"`
	AmountCents int64       `gorm:"not null" json:"amount_cents"`
	Currency    string      `gorm:"size:3;not null" json:"currency"`
	Status      OrderStatus `gorm:"size:16;not null;index" json:"status"`
	PaymentRef  string      `gorm:"size:200;not null" json:"payment_ref"`
	// AmountIncludesTax: the amount is what the customer paid, tax
	// included (a Stripe payment), whatever the catalog's setting says.
	AmountIncludesTax bool `gorm:"not null;default:false" json:"amount_includes_tax"`
	// StripeTaxCents is the tax Stripe Checkout computed (0: none), used
	// on the invoice instead of the rate table.
	StripeTaxCents int64 `gorm:"not null;default:0" json:"stripe_tax_cents,omitempty"`
	// Stripe links, when the order was paid through Stripe.
	StripeCustomerID        string `gorm:"size:100;not null;index" json:"stripe_customer_id,omitempty"`
	StripeSubscriptionID    string `gorm:"size:100;not null;index" json:"stripe_subscription_id,omitempty"`
	StripeCheckoutSessionID string `gorm:"size:100;not null;index" json:"stripe_checkout_session_id,omitempty"`
	StripePaymentIntentID   string `gorm:"size:100;not null;index" json:"stripe_payment_intent_id,omitempty"`
	StripeInvoiceID         string `gorm:"size:100;not null;index" json:"stripe_invoice_id,omitempty"`
	// The provider and its ids, when PayPal or Paddle took the payment.
	PaymentProvider        PaymentProvider `gorm:"size:16;not null;default:''" json:"payment_provider,omitempty"`
	ProviderPaymentID      string          `gorm:"size:100;not null;default:'';index" json:"provider_payment_id,omitempty"`
	ProviderSubscriptionID string          `gorm:"size:100;not null;default:'';index" json:"provider_subscription_id,omitempty"`
	// ProviderInvoiceNumber is the merchant of record's invoice (Paddle).
	ProviderInvoiceNumber string `gorm:"size:32;not null;default:''" json:"provider_invoice_number,omitempty"`
	// LicenseID is the license the order created (new) or extends (renewal).
	LicenseID string     `gorm:"size:64;not null;index" json:"license_id"`
	PaidAt    *time.Time `json:"paid_at"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// StripeLinks are the Stripe objects behind a payment, stored on the order
// (and the customer and subscription on the license too), so an operator
// can go from a license to its payments and back.
type StripeLinks struct {
	CustomerID        string
	SubscriptionID    string
	CheckoutSessionID string
	PaymentIntentID   string
	InvoiceID         string
}

// Purchase is a paid order for a new license, as the CRM or a payment reported it.
type Purchase struct {
	OrderID      string
	Email        string
	CustomerName string
	Company      string
	// LicenseName labels the license bought (seed 003), e.g. the shop it runs.
	LicenseName string
	Tier        Tier
	MaxDomains  int
	// Domains are activated with the purchase (normalized, within MaxDomains).
	Domains  []string
	Months   int
	Lifetime bool
	// ExpiresAt, when set, is the expiry bought instead of Months from the
	// day of issue (Months then prices the term).
	ExpiresAt   *time.Time
	Type        LicenseType
	AmountCents int64
	Currency    string
	PaymentRef  string
	Stripe      StripeLinks
	Provider    ProviderPayment
	PaidAt      time.Time
	// Country and VATID update the customer's (when set).
	Country string
	VATID   string
	// AmountIncludesTax and StripeTaxCents are recorded on the order.
	AmountIncludesTax bool
	StripeTaxCents    int64
}

// LicenseOrder describes a paid order for an existing license: a renewal
// of Months, or, when Product is set, an add-on of that product.
type LicenseOrder struct {
	OrderID     string
	License     License
	Months      int
	Product     string
	AmountCents int64
	Currency    string
	PaymentRef  string
	Stripe      StripeLinks
	Provider    ProviderPayment
	PaidAt      time.Time
	// AmountIncludesTax and StripeTaxCents are recorded on the order.
	AmountIncludesTax bool
	StripeTaxCents    int64
}

// NewOrder is an order the CRM records before it is paid.
type NewOrder struct {
	ID           string
	Email        string
	CustomerName string
	Company      string
	Tier         Tier
	Kind         OrderKind
	// LicenseID is the license a renewal extends or an add-on is for.
	LicenseID string
	// Product is the product an add-on order buys.
	Product     string
	Months      int
	Lifetime    bool
	MaxDomains  int
	AmountCents int64
	Currency    string
	// Country and VATID update the customer's (when set).
	Country string
	VATID   string
	// Requested marks a renewal the customer asked for (the portal's Renew
	// without a payment provider): the vendor's CRM is told to collect it.
	Requested bool
}

// OrderStatuses lists every order status, as filters accept them.
var OrderStatuses = []OrderStatus{OrderPending, OrderPaid, OrderFailed, OrderRefunded}

// OrderFilter narrows an order list; zero fields do not filter.
type OrderFilter struct {
	Status     OrderStatus
	Email      string
	CustomerID string
	LicenseID  string
	// CreatedFrom and CreatedBefore bound the creation time: from inclusive,
	// before exclusive.
	CreatedFrom   time.Time
	CreatedBefore time.Time
	Limit         int
	Cursor        string
}

// OrderPage is one page of an order list; NextCursor is empty on the last page.
type OrderPage struct {
	Orders     []Order
	NextCursor string
}
