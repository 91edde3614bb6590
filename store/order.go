package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/licenseflow/licenseflow/models"
)

// applyStripe copies a payment's Stripe ids onto its order.
func applyStripe(o *models.Order, l models.StripeLinks) {
	o.StripeCustomerID, o.StripeSubscriptionID = l.CustomerID, l.SubscriptionID
	o.StripeCheckoutSessionID, o.StripePaymentIntentID, o.StripeInvoiceID = l.CheckoutSessionID, l.PaymentIntentID, l.InvoiceID
}

// RecordPurchase writes the customer, the paid order and the pending license
// in one transaction. The same order recorded twice returns the first
// license (created=false); the same order id with different terms is a Conflict.
func (s *Store) RecordPurchase(ctx context.Context, p models.Purchase) (order models.Order, license models.License, created bool, err error) {
	err = s.transaction(ctx, func(tx *Store) error {
		customer, err := tx.UpsertCustomer(ctx, p.Email, p.CustomerName, p.Company)
		if err != nil {
			return err
		}
		paidAt := models.Instant(p.PaidAt)
		order = models.Order{
			ID: p.OrderID, CustomerID: customer.ID, Customer: customer, TierKey: p.Tier.Key, Kind: models.OrderNew,
			Months: p.Months, Lifetime: p.Lifetime, MaxDomains: p.MaxDomains,
			AmountCents: p.AmountCents, Currency: p.Currency, Status: models.OrderPaid,
			PaymentRef: p.PaymentRef, LicenseID: models.LicenseIDForOrder(p.OrderID), PaidAt: &paidAt,
		}
		applyStripe(&order, p.Stripe)
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
	if order.Kind != models.OrderNew || order.TierKey != p.Tier.Key || !strings.EqualFold(order.Customer.Email, p.Email) {
		return order, license, false, models.Conflict("order_exists",
			"order %q was already recorded for %s on tier %q; use a new order_id for a different purchase",
			p.OrderID, order.Customer.Email, order.TierKey)
	}
	license, err = s.GetLicense(ctx, order.LicenseID)
	return order, license, false, err
}

// createLicenseFor writes the pending license a paid new order creates.
func (s *Store) createLicenseFor(o models.Order, tier models.Tier, typ models.LicenseType, workflowID func(string) string) (models.License, error) {
	l := models.License{
		ID: o.LicenseID, CustomerID: o.CustomerID, Customer: o.Customer, TierKey: tier.Key,
		Status: models.StatusPending, Type: typ, MaxDomains: o.MaxDomains, Channels: tier.Channels,
		OrderID: o.ID, WorkflowID: workflowID(o.LicenseID),
		StripeCustomerID: o.StripeCustomerID, StripeSubscriptionID: o.StripeSubscriptionID,
		AutoRenew: o.StripeSubscriptionID != "",
	}
	return l, s.db.Omit("Customer").Create(&l).Error
}

// GetOrder finds an order by id, with its customer.
func (s *Store) GetOrder(ctx context.Context, id string) (models.Order, error) {
	var o models.Order
	err := s.with(ctx).Preload("Customer").First(&o, "id = ?", id).Error
	if isNotFound(err) {
		return o, models.NotFound("order_not_found", "order %q does not exist", id)
	}
	return o, err
}

// ListOrders lists a license's orders, oldest first.
func (s *Store) ListOrders(ctx context.Context, licenseID string) ([]models.Order, error) {
	var out []models.Order
	return out, s.with(ctx).Where("license_id = ?", licenseID).Order("created_at, id").Find(&out).Error
}

// RecordRenewal writes a paid renewal order for a license; recording the same
// order id again returns the existing order.
func (s *Store) RecordRenewal(ctx context.Context, r models.RenewalOrder) (models.Order, error) {
	paidAt := models.Instant(r.PaidAt)
	o := models.Order{
		ID: r.OrderID, CustomerID: r.License.CustomerID, TierKey: r.License.TierKey, Kind: models.OrderRenewal,
		Months: r.Months, MaxDomains: r.License.MaxDomains, AmountCents: r.AmountCents, Currency: r.Currency,
		Status: models.OrderPaid, PaymentRef: r.PaymentRef, LicenseID: r.License.ID, PaidAt: &paidAt,
	}
	applyStripe(&o, r.Stripe)
	err := s.with(ctx).Create(&o).Error
	if isDuplicate(err) {
		existing, err := s.GetOrder(ctx, r.OrderID)
		if err != nil {
			return existing, err
		}
		if existing.LicenseID != r.License.ID || existing.Kind != models.OrderRenewal {
			return existing, models.Conflict("order_exists", "order %q already belongs to another purchase; use a new order id", r.OrderID)
		}
		return existing, nil
	}
	return o, err
}

// CreateOrder records a pending order. The same id with the same terms
// returns the existing order (created=false); with other terms it is a Conflict.
func (s *Store) CreateOrder(ctx context.Context, n models.NewOrder) (models.Order, bool, error) {
	var o models.Order
	err := s.transaction(ctx, func(tx *Store) error {
		customer, err := tx.UpsertCustomer(ctx, n.Email, n.CustomerName, n.Company)
		if err != nil {
			return err
		}
		licenseID := n.LicenseID
		if n.Kind == models.OrderNew {
			licenseID = models.LicenseIDForOrder(n.ID)
		}
		o = models.Order{
			ID: n.ID, CustomerID: customer.ID, Customer: customer, TierKey: n.Tier.Key, Kind: n.Kind,
			Months: n.Months, Lifetime: n.Lifetime, MaxDomains: n.MaxDomains, AmountCents: n.AmountCents,
			Currency: n.Currency, Status: models.OrderPending, LicenseID: licenseID,
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
		existing.AmountCents != n.AmountCents || (n.Kind == models.OrderRenewal && existing.LicenseID != n.LicenseID) {
		return existing, false, models.Conflict("order_exists", "order %q already exists with other terms; use a new order id", n.ID)
	}
	return existing, false, nil
}

// PayOrder marks an order paid (once; paying a paid order again changes
// nothing) and, for a new order, writes its pending license in the same
// transaction. It returns the order and the license it creates or extends.
func (s *Store) PayOrder(ctx context.Context, id, paymentRef string, paidAt time.Time, workflowID func(string) string) (models.Order, models.License, error) {
	var (
		o models.Order
		l models.License
	)
	err := s.transaction(ctx, func(tx *Store) error {
		var err error
		if o, err = tx.GetOrder(ctx, id); err != nil {
			return err
		}
		switch o.Status {
		case models.OrderPending:
			at := models.Instant(paidAt)
			res := tx.db.Model(&models.Order{}).Where("id = ? AND status = ?", id, models.OrderPending).
				Updates(map[string]any{"status": models.OrderPaid, "payment_ref": paymentRef, "paid_at": &at})
			if res.Error != nil {
				return res.Error
			}
			o.Status, o.PaymentRef, o.PaidAt = models.OrderPaid, paymentRef, &at
		case models.OrderPaid:
		default:
			return models.Conflict("order_not_payable", "order %q is %s and cannot be paid; create a new order", id, o.Status)
		}
		if o.Kind == models.OrderRenewal {
			l, err = tx.GetLicense(ctx, o.LicenseID)
			return err
		}
		l, err = tx.GetLicense(ctx, o.LicenseID)
		if !errors.Is(err, models.ErrNotFound) {
			return err
		}
		tier, err := tx.GetTier(ctx, o.TierKey)
		if err != nil {
			return err
		}
		l, err = tx.createLicenseFor(o, tier, models.TypeCommercial, workflowID)
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
func (s *Store) MarkOrder(ctx context.Context, id string, status models.OrderStatus) error {
	return s.with(ctx).Model(&models.Order{}).Where("id = ?", id).Update("status", status).Error
}
