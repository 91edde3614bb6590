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

// applyProvider copies a PayPal or Paddle payment's ids onto its order.
func applyProvider(o *models.Order, p models.ProviderPayment) {
	o.PaymentProvider, o.ProviderPaymentID = p.Provider, p.PaymentID
	o.ProviderSubscriptionID, o.ProviderInvoiceNumber = p.SubscriptionID, p.InvoiceNumber
}

// RecordPurchase writes the customer, the paid order and the pending license
// in one transaction. The same order recorded twice returns the first
// license (created=false); the same order id with different terms is a Conflict.
func (s *Store) RecordPurchase(ctx context.Context, p models.Purchase) (order models.Order, license models.License, created bool, err error) {
	var due []string
	err = s.transaction(ctx, func(tx *Store) error {
		customer, err := tx.UpsertCustomer(ctx, p.Email, p.CustomerName, p.Company)
		if err != nil {
			return err
		}
		if err := tx.setTaxIdentity(ctx, &customer, p.Country, p.VATID); err != nil {
			return err
		}
		paidAt := models.Instant(p.PaidAt)
		kind := models.OrderNew
		if p.Type == models.TypeTrial {
			kind = models.OrderTrial
			if err := tx.claimTrial(ctx, customer.ID, p.Tier.Key, p.OrderID, paidAt); err != nil {
				return err
			}
		}
		order = models.Order{
			ID: p.OrderID, CustomerID: customer.ID, Customer: customer, TierKey: p.Tier.Key, Kind: kind,
			Months: p.Months, Lifetime: p.Lifetime, ExpiresAt: p.ExpiresAt, MaxDomains: p.MaxDomains,
			AmountCents: p.AmountCents, Currency: p.Currency, Status: models.OrderPaid,
			PaymentRef: p.PaymentRef, LicenseID: models.LicenseIDForOrder(p.OrderID), PaidAt: &paidAt,
			AmountIncludesTax: p.AmountIncludesTax, StripeTaxCents: p.StripeTaxCents,
		}
		applyStripe(&order, p.Stripe)
		applyProvider(&order, p.Provider)
		if err := tx.db.Omit("Customer").Create(&order).Error; err != nil {
			return err
		}
		if license, err = tx.createLicenseFor(order, p.Tier, p.Type, p.LicenseName); err != nil {
			return err
		}
		if kind != models.OrderTrial { // a trial pays nothing: no order.paid
			if due, err = tx.orderPaid(order); err != nil {
				return err
			}
		}
		if len(p.Domains) == 0 {
			return nil
		}
		activated, err := tx.setDomains(license.ID, p.Domains, p.PaidAt)
		due = append(due, activated...)
		return err
	})
	if err == nil {
		s.webhooksDue(due)
		return order, license, true, nil
	}
	if !isDuplicate(err) {
		return order, license, false, err
	}
	// The order exists: this is a retry (or a concurrent duplicate). A
	// trial whose claim collided with another order's has no order.
	if order, err = s.GetOrder(ctx, p.OrderID); err != nil {
		if p.Type == models.TypeTrial && errors.Is(err, models.ErrNotFound) {
			return order, license, false, trialUsed(p.Tier.Key)
		}
		return order, license, false, err
	}
	if (order.Kind != models.OrderNew && order.Kind != models.OrderTrial) || order.TierKey != p.Tier.Key || !strings.EqualFold(order.Customer.Email, p.Email) {
		// Not naming the recorded customer: a caller guessing order ids must
		// learn nothing about whom they belong to.
		return order, license, false, models.Conflict("order_exists",
			"order %q was already recorded for another customer or tier; use a new order_id for a different purchase", p.OrderID)
	}
	license, err = s.GetLicense(ctx, order.LicenseID)
	return order, license, false, err
}

// claimTrial records the customer's trial of a tier, refusing a second one.
func (s *Store) claimTrial(ctx context.Context, customerID, tierKey, orderID string, at time.Time) error {
	var claim models.TrialClaim
	err := s.with(ctx).First(&claim, "customer_id = ? AND tier_key = ?", customerID, tierKey).Error
	switch {
	case err == nil && claim.OrderID != orderID:
		return trialUsed(tierKey)
	case err == nil:
		return nil // a retry of the same trial order
	case !isNotFound(err):
		return err
	}
	return s.db.Create(&models.TrialClaim{CustomerID: customerID, TierKey: tierKey, OrderID: orderID, CreatedAt: at}).Error
}

func trialUsed(tierKey string) error {
	return models.Conflict("trial_used", "this customer has already had the %s trial; a trial is given once per customer and tier, buy the tier to go on", tierKey)
}

// setTaxIdentity records the customer's country and VAT ID (checked by
// the caller) when an order names a country: both are replaced, so an
// order without a VAT ID makes the customer a consumer again. An order
// without a country keeps what the customer had.
func (s *Store) setTaxIdentity(ctx context.Context, c *models.Customer, country, vatID string) error {
	if country == "" || (c.Country == country && c.VATID == vatID) {
		return nil
	}
	if err := s.with(ctx).Model(&models.Customer{}).Where("id = ?", c.ID).
		Updates(map[string]any{"country": country, "vat_id": vatID}).Error; err != nil {
		return err
	}
	c.Country, c.VATID = country, vatID
	return nil
}

// createLicenseFor writes the pending license a paid new order creates.
func (s *Store) createLicenseFor(o models.Order, tier models.Tier, typ models.LicenseType, name string) (models.License, error) {
	l := models.License{
		ID: o.LicenseID, CustomerID: o.CustomerID, Customer: o.Customer, TierKey: tier.Key, Name: name,
		Status: models.StatusPending, Type: typ, MaxDomains: o.MaxDomains, Channels: tier.Channels,
		OrderID: o.ID, WorkflowID: models.LicenseWorkflowID(o.LicenseID),
		StripeCustomerID: o.StripeCustomerID, StripeSubscriptionID: o.StripeSubscriptionID,
		PaymentProvider: o.PaymentProvider, ProviderSubscriptionID: o.ProviderSubscriptionID,
		AutoRenew: o.StripeSubscriptionID != "" || o.ProviderSubscriptionID != "",
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

// RecordLicenseOrder writes a paid renewal or add-on order for a license;
// recording the same order id again returns the existing order.
func (s *Store) RecordLicenseOrder(ctx context.Context, r models.LicenseOrder) (models.Order, error) {
	paidAt := models.Instant(r.PaidAt)
	kind := models.OrderRenewal
	if r.Product != "" {
		kind = models.OrderAddon
	}
	o := models.Order{
		ID: r.OrderID, CustomerID: r.License.CustomerID, TierKey: r.License.TierKey, Kind: kind, Product: r.Product,
		Months: r.Months, MaxDomains: r.License.MaxDomains, AmountCents: r.AmountCents, Currency: r.Currency,
		Status: models.OrderPaid, PaymentRef: r.PaymentRef, LicenseID: r.License.ID, PaidAt: &paidAt,
		AmountIncludesTax: r.AmountIncludesTax, StripeTaxCents: r.StripeTaxCents,
	}
	applyStripe(&o, r.Stripe)
	applyProvider(&o, r.Provider)
	var due []string
	err := s.transaction(ctx, func(tx *Store) error {
		if err := tx.db.Create(&o).Error; err != nil {
			return err
		}
		var err error
		due, err = tx.orderPaid(o)
		return err
	})
	if err == nil {
		s.webhooksDue(due)
	}
	if isDuplicate(err) {
		existing, err := s.GetOrder(ctx, r.OrderID)
		if err != nil {
			return existing, err
		}
		if existing.LicenseID != r.License.ID || existing.Kind != kind || existing.Product != r.Product {
			return existing, models.Conflict("order_exists", "order %q already belongs to another purchase; use a new order id", r.OrderID)
		}
		return existing, nil
	}
	return o, err
}

// CreateOrder records a pending order. The same id with the same terms
// returns the existing order (created=false); with other terms it is a Conflict.
func (s *Store) CreateOrder(ctx context.Context, n models.NewOrder) (models.Order, bool, error) {
	var (
		o   models.Order
		due []string
	)
	err := s.transaction(ctx, func(tx *Store) error {
		customer, err := tx.UpsertCustomer(ctx, n.Email, n.CustomerName, n.Company)
		if err != nil {
			return err
		}
		if err := tx.setTaxIdentity(ctx, &customer, n.Country, n.VATID); err != nil {
			return err
		}
		licenseID := n.LicenseID
		if n.Kind == models.OrderNew {
			licenseID = models.LicenseIDForOrder(n.ID)
		}
		o = models.Order{
			ID: n.ID, CustomerID: customer.ID, Customer: customer, TierKey: n.Tier.Key, Kind: n.Kind, Product: n.Product,
			Months: n.Months, Lifetime: n.Lifetime, MaxDomains: n.MaxDomains, AmountCents: n.AmountCents,
			Currency: n.Currency, Status: models.OrderPending, LicenseID: licenseID,
		}
		if err := tx.db.Omit("Customer").Create(&o).Error; err != nil {
			return err
		}
		due, err = tx.orderCreated(o, n.Requested)
		return err
	})
	if err == nil {
		s.webhooksDue(due)
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
		existing.AmountCents != n.AmountCents || existing.Product != n.Product || (n.Kind != models.OrderNew && existing.LicenseID != n.LicenseID) {
		return existing, false, models.Conflict("order_exists", "order %q already exists with other terms; use a new order id", n.ID)
	}
	return existing, false, nil
}

// PayOrder marks an order paid (once; paying a paid order again changes
// nothing) and, for a new order, writes its pending license in the same
// transaction. It returns the order and the license it creates or extends.
func (s *Store) PayOrder(ctx context.Context, id, paymentRef string, paidAt time.Time) (models.Order, models.License, error) {
	var (
		o   models.Order
		l   models.License
		due []string
	)
	err := s.transaction(ctx, func(tx *Store) error {
		var err error
		if o, err = tx.GetOrder(ctx, id); err != nil {
			return err
		}
		paidNow := o.Status == models.OrderPending
		if l, err = tx.payOrder(ctx, o, paymentRef, paidAt); err != nil || !paidNow {
			return err
		}
		o.Status, o.PaymentRef = models.OrderPaid, paymentRef
		at := models.Instant(paidAt)
		o.PaidAt = &at
		due, err = tx.orderPaid(o)
		return err
	})
	if isDuplicate(err) { // paid concurrently: the other call wrote the license
		if o, err = s.GetOrder(ctx, id); err == nil {
			l, err = s.GetLicense(ctx, o.LicenseID)
		}
	} else if err == nil {
		s.webhooksDue(due)
	}
	return o, l, err
}

// payOrder marks a pending order paid and returns its license, writing the
// pending license of a new order.
func (s *Store) payOrder(ctx context.Context, o models.Order, paymentRef string, paidAt time.Time) (models.License, error) {
	switch o.Status {
	case models.OrderPending:
		at := models.Instant(paidAt)
		res := s.db.Model(&models.Order{}).Where("id = ? AND status = ?", o.ID, models.OrderPending).
			Updates(map[string]any{"status": models.OrderPaid, "payment_ref": paymentRef, "paid_at": &at})
		if res.Error != nil {
			return models.License{}, res.Error
		}
	case models.OrderPaid:
	default:
		return models.License{}, models.Conflict("order_not_payable", "order %q is %s and cannot be paid; create a new order", o.ID, o.Status)
	}
	l, err := s.GetLicense(ctx, o.LicenseID)
	if o.Kind != models.OrderNew || !errors.Is(err, models.ErrNotFound) {
		return l, err
	}
	tier, err := s.GetTier(ctx, o.TierKey)
	if err != nil {
		return l, err
	}
	return s.createLicenseFor(o, tier, models.TypeCommercial, "")
}

// orderPaid writes the order.paid event of an order that became paid in
// this transaction.
func (s *Store) orderPaid(o models.Order) ([]string, error) {
	e, err := orderPaidEvent(s.db, o)
	if err != nil {
		return nil, err
	}
	return writeWebhookEvents(s.db, []models.WebhookEvent{e})
}

// orderCreated writes the events of an order recorded as pending in this
// transaction: order.created, and renewal.requested when the customer asked
// for the renewal and the vendor has to collect the payment.
func (s *Store) orderCreated(o models.Order, requested bool) ([]string, error) {
	created := models.WebhookEvent{
		Type: models.EventOrderCreated, LicenseID: o.LicenseID, OccurredAt: o.CreatedAt,
		Data: models.JSONValue[models.WebhookData]{V: models.WebhookData{Order: models.WebhookOrderOf(o)}},
	}
	if o.Kind != models.OrderNew { // the license it renews or adds to, as it is now
		var err error
		if created, err = licenseEvent(s.db, o.LicenseID, models.EventOrderCreated, o.CreatedAt, created.Data.V); err != nil {
			return nil, err
		}
	}
	created.Source = "order:" + o.ID + ":created"
	events := []models.WebhookEvent{created}
	if requested && o.Kind == models.OrderRenewal {
		e, err := licenseEvent(s.db, o.LicenseID, models.EventRenewalRequested, o.CreatedAt, models.WebhookData{Order: models.WebhookOrderOf(o)})
		if err != nil {
			return nil, err
		}
		e.Source = "order:" + o.ID + ":requested"
		events = append(events, e)
	}
	return writeWebhookEvents(s.db, events)
}

// FilterOrders lists orders newest first, a page at a time.
func (s *Store) FilterOrders(ctx context.Context, f models.OrderFilter) (models.OrderPage, error) {
	q := s.with(ctx).Preload("Customer").Order("created_at DESC").Order("id DESC")
	if f.Email != "" {
		q = q.Where("customer_id IN (?)", s.with(ctx).Model(&models.Customer{}).Select("id").Where("email = ?", strings.ToLower(f.Email)))
	}
	if f.CustomerID != "" {
		q = q.Where("customer_id = ?", f.CustomerID)
	}
	if f.LicenseID != "" {
		q = q.Where("license_id = ?", f.LicenseID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if !f.CreatedFrom.IsZero() {
		q = q.Where("created_at >= ?", f.CreatedFrom)
	}
	if !f.CreatedBefore.IsZero() {
		q = q.Where("created_at < ?", f.CreatedBefore)
	}
	if f.Cursor != "" {
		at, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return models.OrderPage{}, err
		}
		q = q.Where("created_at < ? OR (created_at = ? AND id < ?)", at, at, id)
	}
	var rows []models.Order
	if err := q.Limit(f.Limit + 1).Find(&rows).Error; err != nil {
		return models.OrderPage{}, err
	}
	page := models.OrderPage{Orders: rows}
	if len(rows) > f.Limit {
		page.Orders = rows[:f.Limit]
		last := page.Orders[f.Limit-1]
		page.NextCursor = encodeCursor(last.CreatedAt, last.ID)
	}
	return page, nil
}

// MarkOrder sets an order's status after a payment event (failed, refunded).
func (s *Store) MarkOrder(ctx context.Context, id string, status models.OrderStatus) error {
	return s.with(ctx).Model(&models.Order{}).Where("id = ?", id).Update("status", status).Error
}
