package workflows_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/licenseflow/licenseflow/activities"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/workflows"
)

// addonOrder records a paid add-on order, as the API and the payment
// webhooks do before the add-on reaches the workflow.
func (h *harness) addonOrder(licenseID, orderID, product string) models.AddEntitlementRequest {
	p, err := h.store.GetProduct(context.Background(), product)
	require.NoError(h.t, err)
	o, err := h.store.RecordLicenseOrder(context.Background(), models.LicenseOrder{
		OrderID: orderID, License: h.license(licenseID), Product: p.Code, AmountCents: p.AddonPriceCents,
		Currency: p.AddonCurrency, PaymentRef: "pay-" + orderID, PaidAt: t0,
	})
	require.NoError(h.t, err)
	require.Equal(h.t, models.OrderAddon, o.Kind)
	return models.AddEntitlementRequest{Product: product, OrderID: o.ID}
}

func TestABoughtAddonIsGrantedInvoicedOnceAndKeptAcrossATierChange(t *testing.T) {
	h := newHarness(t)
	in := purchase("addon-1", "pos", 12)
	h.paidOrder(in)
	id := in.Purchase.LicenseID
	var bought, again workflows.LicenseState
	var boughtErr, againErr, changeErr error
	r := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			req := h.addonOrder(id, "addon-1-child", "child")
			update(env, req, func(st workflows.LicenseState, err error) { bought, boughtErr = st, err })
			// Stripe redelivers the payment: the same order changes nothing.
			signal(env, req)
			update(env, req, func(st workflows.LicenseState, err error) { again, againErr = st, err })
		}, day)
		env.RegisterDelayedCallback(func() {
			update(env, models.ChangeTierRequest{Tier: "crm"}, func(_ workflows.LicenseState, err error) { changeErr = err })
		}, 2*day)
		env.RegisterDelayedCallback(func() { signal(env, models.RevokeRequest{Reason: "end of test"}) }, 3*day)
	})
	require.NoError(t, r.err)
	require.NoError(t, boughtErr)
	require.NoError(t, againErr)
	require.NoError(t, changeErr)
	assert.Contains(t, refProducts(bought.Entitlements), "child", "the add-on is granted")
	assert.Equal(t, bought.Entitlements, again.Entitlements)

	invoices, err := h.store.ListInvoices(context.Background(), id)
	require.NoError(t, err)
	require.Len(t, invoices, 2, "the purchase and the add-on, each once")
	addon := invoices[1]
	assert.Equal(t, "addon-1-child", addon.OrderID)
	assert.Equal(t, int64(2900), addon.TotalCents, "the catalog's add-on price")
	require.Len(t, addon.Lines.V, 1)
	assert.Contains(t, addon.Lines.V[0].Description, "MokoSuite Child Theme add-on")
	assert.Len(t, h.sent("invoice"), 2, "one invoice email per paid order")

	ents, err := h.store.GetEntitlements(context.Background(), id)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"base", "crm", "child"}, products(ents), "the tier's products are replaced; the bought add-on stays")
}

func TestAnAddonOfAProductNotInTheCatalogIsRefusedAndNotInvoiced(t *testing.T) {
	h := newHarness(t)
	in := purchase("addon-2", "pos", 12)
	h.paidOrder(in)
	id := in.Purchase.LicenseID
	var refused error
	r := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			update(env, models.AddEntitlementRequest{Product: "nosuch", OrderID: "addon-2-x"}, func(_ workflows.LicenseState, err error) { refused = err })
		}, day)
		env.RegisterDelayedCallback(func() { signal(env, models.RevokeRequest{Reason: "end of test"}) }, 2*day)
	})
	require.NoError(t, r.err)
	assert.Equal(t, "product_not_found", rejectionCode(t, refused, workflows.RejectInvalidValue))
	invoices, err := h.store.ListInvoices(context.Background(), id)
	require.NoError(t, err)
	assert.Len(t, invoices, 1, "only the purchase: nothing granted, nothing invoiced")
}

func refProducts(ents []activities.EntitlementRef) []string {
	var codes []string
	for _, e := range ents {
		codes = append(codes, e.Product)
	}
	return codes
}

func products(ents []models.Entitlement) []string {
	var codes []string
	for _, e := range ents {
		codes = append(codes, e.ProductCode)
	}
	return codes
}

func TestARemovedAddonIsTakenBackAndTheTiersProductsStay(t *testing.T) {
	h := newHarness(t)
	in := purchase("addon-3", "pos", 12)
	h.paidOrder(in)
	id := in.Purchase.LicenseID
	var removed, tierOwn workflows.LicenseState
	var removedErr, tierErr, notAddon error
	r := h.run(in, t0, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			update(env, h.addonOrder(id, "addon-3-child", "child"), func(_ workflows.LicenseState, err error) { require.NoError(t, err) })
			// A product of the tier granted by hand too becomes custom.
			update(env, models.AddEntitlementRequest{Product: "pos"}, func(_ workflows.LicenseState, err error) { require.NoError(t, err) })
		}, day)
		env.RegisterDelayedCallback(func() {
			update(env, models.RemoveEntitlementRequest{Product: "child", Reason: "refunded", RequestID: "evt_refund"},
				func(st workflows.LicenseState, err error) { removed, removedErr = st, err })
			update(env, models.RemoveEntitlementRequest{Product: "pos", RequestID: "withdrawn"},
				func(st workflows.LicenseState, err error) { tierOwn, tierErr = st, err })
			update(env, models.RemoveEntitlementRequest{Product: "base"}, func(_ workflows.LicenseState, err error) { notAddon = err })
		}, 2*day)
		env.RegisterDelayedCallback(func() { signal(env, models.RevokeRequest{Reason: "end of test"}) }, 3*day)
	})
	require.NoError(t, r.err)
	require.NoError(t, removedErr)
	require.NoError(t, tierErr)
	assert.NotContains(t, refProducts(removed.Entitlements), "child", "the refunded add-on is taken back")
	assert.ElementsMatch(t, []string{"base", "pos"}, refProducts(tierOwn.Entitlements), "the tier's own product stays")
	for _, e := range tierOwn.Entitlements {
		assert.Equal(t, models.SourceTier, e.Source, "%s is the tier's again", e.Product)
	}
	assert.Equal(t, "not_an_addon", rejectionCode(t, notAddon, workflows.RejectInvalidValue), "the tier's products are changed by changing the tier")

	ledger, err := h.store.LicenseLedger(context.Background(), models.LedgerFilter{LicenseID: id, Limit: 100})
	require.NoError(t, err)
	var noted bool
	for _, line := range ledger {
		if line.Action == "remove-entitlement" && line.Note == "refunded" {
			noted = true
		}
	}
	assert.True(t, noted, "the ledger notes why the add-on was taken back")
}
