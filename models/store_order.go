package models

import (
	"context"
	"errors"
	"strings"
	"time"
)

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

func (l StripeLinks) apply(o *Order) {
	o.StripeCustomerID, o.StripeSubscriptionID = l.CustomerID, l.SubscriptionID
	o.StripeCheckoutSessionID, o.StripePaymentIntentID, o.StripeInvoiceID = l.CheckoutSessionID, l.PaymentIntentID, l.InvoiceID
}

// Purchase is a paid order for a new license, as the CRM or a payment reported it.
type Purchase struct {
	OrderID      string
	Email        string
	CustomerName string
	Company      string
	Tier         Tier
	MaxDomains   int
	Months       int
	Lifetime     bool
	Type         LicenseType
	AmountCents  int64
	Currency     string
	PaymentRef   string
	Stripe       StripeLinks
	WorkflowID   func(licenseID string) string
	PaidAt       time.Time
}

// RecordPurchase writes the customer, the paid order and the pending license
// in one transaction. The same order recorded twice returns the first
// license (created=false); the same order id with different terms is a Conflict.
func (s *Store) RecordPurchase(ctx context.Context, p Purchase) (order Order, license License, created bool, err error) {
	err = s.transaction(ctx, func(tx *Store) error {
		customer, err := tx.UpsertCustomer(ctx, p.Email, p.CustomerName, p.Company)
		if err != nil {
			return err
		}
		paidAt := Instant(p.PaidAt)
		order = Order{
			ID: p.OrderID, CustomerID: customer.ID, Customer: customer, TierKey: p.Tier.Key, Kind: OrderNew,
			Months: p.Months, Lifetime: p.Lifetime, MaxDomains: p.MaxDomains,
			AmountCents: p.AmountCents, Currency: p.Currency, Status: OrderPaid,
			PaymentRef: p.PaymentRef, LicenseID: LicenseIDForOrder(p.OrderID), PaidAt: &paidAt,
		}
		p.Stripe.apply(&order)
		if err := tx.db.Omit("Customer").Create(&order).Error; err != nil {
			return err
		}
		license, err = tx.createLicenseFor(order, p.Tier, p.Type, p.WorkflowID)
		return err
	})
	if err == nil {
		return order, license, true, nil
	}
	if !isDuplicate(err) {
		return order, license, false, err
	}
	// The order exists: this is a retry (or a concurrent duplicate).
	if order, err = s.GetOrder(ctx, p.OrderID); err != nil {
		return order, license, false, err
	}
	if order.Kind != OrderNew || order.TierKey != p.Tier.Key || !strings.EqualFold(order.Customer.Email, p.Email) {
		return order, license, false, Conflict("order_exists",
			"order %q was already recorded for %s on tier %q; use a new order_id for a different purchase",
			p.OrderID, order.Customer.Email, order.TierKey)
	}
	license, err = s.GetLicense(ctx, order.LicenseID)
	return order, license, false, err
}

// createLicenseFor writes the pending license a paid new order creates.
func (s *Store) createLicenseFor(o Order, tier Tier, typ LicenseType, workflowID func(string) string) (License, error) {
	l := License{
		ID: o.LicenseID, CustomerID: o.CustomerID, Customer: o.Customer, TierKey: tier.Key,
		Status: StatusPending, Type: typ, MaxDomains: o.MaxDomains, Channels: tier.Channels,
		OrderID: o.ID, WorkflowID: workflowID(o.LicenseID),
		StripeCustomerID: o.StripeCustomerID, StripeSubscriptionID: o.StripeSubscriptionID,
		AutoRenew: o.StripeSubscriptionID != "",
	}
	return l, s.db.Omit("Customer").Create(&l).Error
}

// GetOrder finds an order by id, with its customer.
func (s *Store) GetOrder(ctx context.Context, id string) (Order, error) {
	var o Order
	err := s.with(ctx).Preload("Customer").First(&o, "id = ?", id).Error
	if isNotFound(err) {
		return o, NotFound("order_not_found", "order %q does not exist", id)
	}
	return o, err
}

// ListOrders lists a license's orders, oldest first.
func (s *Store) ListOrders(ctx context.Context, licenseID string) ([]Order, error) {
	var out []Order
	return out, s.with(ctx).Where("license_id = ?", licenseID).Order("created_at, id").Find(&out).Error
}

// RenewalOrder describes a paid renewal of an existing license.
type RenewalOrder struct {
	OrderID     string
	License     License
	Months      int
	AmountCents int64
	Currency    string
	PaymentRef  string
	Stripe      StripeLinks
	PaidAt      time.Time
}

// RecordRenewal writes a paid renewal order for a license; recording the same
// order id again returns the existing order.
func (s *Store) RecordRenewal(ctx context.Context, r RenewalOrder) (Order, error) {
	paidAt := Instant(r.PaidAt)
	o := Order{
		ID: r.OrderID, CustomerID: r.License.CustomerID, TierKey: r.License.TierKey, Kind: OrderRenewal,
		Months: r.Months, MaxDomains: r.License.MaxDomains, AmountCents: r.AmountCents, Currency: r.Currency,
		Status: OrderPaid, PaymentRef: r.PaymentRef, LicenseID: r.License.ID, PaidAt: &paidAt,
	}
	r.Stripe.apply(&o)
	err := s.with(ctx).Create(&o).Error
	if isDuplicate(err) {
		existing, err := s.GetOrder(ctx, r.OrderID)
		if err != nil {
			return existing, err
		}
		if existing.LicenseID != r.License.ID || existing.Kind != OrderRenewal {
			return existing, Conflict("order_exists", "order %q already belongs to another purchase; use a new order id", r.OrderID)
		}
		return existing, nil
	}
	return o, err
}

// NewOrder is an order the CRM records before it is paid.
type NewOrder struct {
	ID           string
	Email        string
	CustomerName string
	Company      string
	Tier         Tier
	Kind         OrderKind
	// LicenseID is the license a renewal extends.
	LicenseID   string
	Months      int
	Lifetime    bool
	MaxDomains  int
	AmountCents int64
	Currency    string
}

// CreateOrder records a pending order. The same id with the same terms
// returns the existing order (created=false); with other terms it is a Conflict.
func (s *Store) CreateOrder(ctx context.Context, n NewOrder) (Order, bool, error) {
	var o Order
	err := s.transaction(ctx, func(tx *Store) error {
		customer, err := tx.UpsertCustomer(ctx, n.Email, n.CustomerName, n.Company)
		if err != nil {
			return err
		}
		licenseID := n.LicenseID
		if n.Kind == OrderNew {
			licenseID = LicenseIDForOrder(n.ID)
		}
		o = Order{
			ID: n.ID, CustomerID: customer.ID, Customer: customer, TierKey: n.Tier.Key, Kind: n.Kind,
			Months: n.Months, Lifetime: n.Lifetime, MaxDomains: n.MaxDomains, AmountCents: n.AmountCents,
			Currency: n.Currency, Status: OrderPending, LicenseID: licenseID,
		}
		return tx.db.Omit("Customer").Create(&o).Error
	})
	if err == nil {
		return o, true, nil
	}
	if !isDuplicate(err) {
		return o, false, err
	}
	existing, err := s.GetOrder(ctx, n.ID)
	if err != nil {
		return existing, false, err
	}
	if existing.Kind != n.Kind || existing.TierKey != n.Tier.Key || !strings.EqualFold(existing.Customer.Email, n.Email) ||
		existing.AmountCents != n.AmountCents || (n.Kind == OrderRenewal && existing.LicenseID != n.LicenseID) {
		return existing, false, Conflict("order_exists", "order %q already exists with other terms; use a new order id", n.ID)
	}
	return existing, false, nil
}

// PayOrder marks an order paid (once; paying a paid order again changes
// nothing) and, for a new order, writes its pending license in the same
// transaction. It returns the order and the license it creates or extends.
func (s *Store) PayOrder(ctx context.Context, id, paymentRef string, paidAt time.Time, workflowID func(string) string) (Order, License, error) {
	var (
		o Order
		l License
	)
	err := s.transaction(ctx, func(tx *Store) error {
		var err error
		if o, err = tx.GetOrder(ctx, id); err != nil {
			return err
		}
		switch o.Status {
		case OrderPending:
			at := Instant(paidAt)
			res := tx.db.Model(&Order{}).Where("id = ? AND status = ?", id, OrderPending).
				Updates(map[string]any{"status": OrderPaid, "payment_ref": paymentRef, "paid_at": &at})
			if res.Error != nil {
				return res.Error
			}
			o.Status, o.PaymentRef, o.PaidAt = OrderPaid, paymentRef, &at
		case OrderPaid:
		default:
			return Conflict("order_not_payable", "order %q is %s and cannot be paid; create a new order", id, o.Status)
		}
		if o.Kind == OrderRenewal {
			l, err = tx.GetLicense(ctx, o.LicenseID)
			return err
		}
		l, err = tx.GetLicense(ctx, o.LicenseID)
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		tier, err := tx.GetTier(ctx, o.TierKey)
		if err != nil {
			return err
		}
		l, err = tx.createLicenseFor(o, tier, TypeCommercial, workflowID)
		return err
	})
	if isDuplicate(err) { // paid concurrently: the other call wrote the license
		if o, err = s.GetOrder(ctx, id); err == nil {
			l, err = s.GetLicense(ctx, o.LicenseID)
		}
	}
	return o, l, err
}

// MarkOrder sets an order's status after a payment event (failed, refunded).
func (s *Store) MarkOrder(ctx context.Context, id string, status OrderStatus) error {
	return s.with(ctx).Model(&Order{}).Where("id = ?", id).Update("status", status).Error
}
