package store_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licenseflow/licenseflow/database"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
	"github.com/licenseflow/licenseflow/testsupport"
)

var ctx = context.Background()

func purchase(t *testing.T, store *store.Store, orderID, email, tierKey string) (models.Order, models.License) {
	t.Helper()
	tier, err := store.GetTier(ctx, tierKey)
	require.NoError(t, err)
	order, license, _, err := store.RecordPurchase(ctx, models.Purchase{
		OrderID: orderID, Email: email, Tier: tier, MaxDomains: tier.MaxDomains, Months: 12,
		Type: models.TypeCommercial, AmountCents: tier.PriceCents, Currency: tier.Currency, PaidAt: time.Now(),
	})
	require.NoError(t, err)
	return order, license
}

func TestMigrateSeedsExampleCatalogOnce(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		require.NoError(t, store.Migrate(ctx), "migrating twice is safe")
		products, err := store.ListProducts(ctx)
		require.NoError(t, err)
		assert.Len(t, products, 11)
		suite, err := store.GetTier(ctx, "suite")
		require.NoError(t, err)
		assert.Len(t, suite.Products, 11, "suite grants every product")
		for _, key := range []string{"pos", "restaurant"} {
			_, err := store.GetTier(ctx, key)
			assert.NoError(t, err, key)
		}
		_, err = store.GetTier(ctx, "gold")
		p, ok := models.AsProblem(err)
		require.True(t, ok)
		assert.Equal(t, "tier_not_found", p.Code)
		assert.Contains(t, p.Message, "known tiers: crm, erp, pos, restaurant, suite")
	})
}

func TestRecordPurchaseIsIdempotentOnOrderID(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		_, first := purchase(t, store, "crm-1001", "Customer@Example.com", "pos")
		assert.Equal(t, models.LicenseIDForOrder("crm-1001"), first.ID)
		assert.Equal(t, models.StatusPending, first.Status)
		_, again := purchase(t, store, "crm-1001", "customer@example.com", "pos")
		assert.Equal(t, first.ID, again.ID)

		tier, _ := store.GetTier(ctx, "suite")
		_, _, _, err := store.RecordPurchase(ctx, models.Purchase{OrderID: "crm-1001", Email: "customer@example.com",
			Tier: tier, MaxDomains: 1, Months: 12, PaidAt: time.Now()})
		p, ok := models.AsProblem(err)
		require.True(t, ok, "same order id, different tier: %v", err)
		assert.Equal(t, "order_exists", p.Code)
		assert.NotContains(t, p.Message, "customer@example.com", "the refusal names no customer")

		var customers, licenses int64
		store.DB().Model(&models.Customer{}).Count(&customers)
		store.DB().Model(&models.License{}).Count(&licenses)
		assert.Equal(t, int64(1), customers, "email is unique case-insensitively")
		assert.Equal(t, int64(1), licenses)
	})
}

func TestConcurrentPurchasesOfOneOrderCreateOneLicense(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		tier, err := store.GetTier(ctx, "pos")
		require.NoError(t, err)
		var wg sync.WaitGroup
		ids := make([]string, 8)
		errs := make([]error, 8)
		for i := range ids {
			wg.Go(func() {
				_, l, _, err := store.RecordPurchase(ctx, models.Purchase{OrderID: "crm-7", Email: "c@example.com",
					Tier: tier, MaxDomains: 3, Months: 12, PaidAt: time.Now()})
				ids[i], errs[i] = l.ID, err
			})
		}
		wg.Wait()
		for i := range ids {
			require.NoError(t, errs[i])
			assert.Equal(t, models.LicenseIDForOrder("crm-7"), ids[i])
		}
	})
}

func TestMintIsIdempotentAndKeepsTheDLID(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		_, l := purchase(t, store, "o-1", "c@example.com", "pos")
		exp := models.Instant(time.Now().AddDate(1, 0, 0))
		m := models.Mint{LicenseID: l.ID, TierKey: "pos", MaxDomains: 3, StartsAt: time.Now(), ExpiresAt: &exp}
		first, err := store.MintLicense(ctx, m)
		require.NoError(t, err)
		require.True(t, models.ValidDLID(first.Key()))
		assert.Equal(t, models.StatusActive, first.Status)
		assert.True(t, first.ExpiresAt.Equal(exp), "expiry round-trips exactly: %v vs %v", first.ExpiresAt, exp)
		second, err := store.MintLicense(ctx, m)
		require.NoError(t, err)
		assert.Equal(t, first.Key(), second.Key())
		byKey, err := store.GetLicenseByDLID(ctx, first.Key())
		require.NoError(t, err)
		assert.Equal(t, l.ID, byKey.ID)

		// A workflow started without the API creates the row itself.
		created, err := store.MintLicense(ctx, models.Mint{LicenseID: "lic_direct", OrderID: "o-direct", Email: "new@example.com",
			TierKey: "crm", Type: models.TypeCommercial, MaxDomains: 1, StartsAt: time.Now()})
		require.NoError(t, err)
		assert.True(t, models.ValidDLID(created.Key()))
		assert.Equal(t, "new@example.com", created.Customer.Email)
	})
}

func TestEntitlementsFollowTheTierAndKeepCustomAddOns(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		_, l := purchase(t, store, "o-2", "c@example.com", "pos")
		_, ents, err := store.SetEntitlements(ctx, l.ID, "pos")
		require.NoError(t, err)
		assert.Equal(t, []string{"MokoSuite", "MokoSuitePOS"}, repos(ents))

		_, err = store.AddCustomEntitlement(ctx, l.ID, "crm")
		require.NoError(t, err)
		has, err := store.HasEntitlement(ctx, l.ID, "MokoSuiteCRM")
		require.NoError(t, err)
		assert.True(t, has)

		tier, ents, err := store.SetEntitlements(ctx, l.ID, "restaurant")
		require.NoError(t, err)
		assert.Equal(t, "restaurant", tier.Key)
		assert.Equal(t, []string{"MokoSuite", "MokoSuiteCRM", "MokoSuitePOS", "MokoSuiteRestaurant"}, repos(ents))

		// Back to a smaller tier: tier rows shrink, the custom add-on stays.
		_, ents, err = store.SetEntitlements(ctx, l.ID, "pos")
		require.NoError(t, err)
		assert.Equal(t, []string{"MokoSuite", "MokoSuiteCRM", "MokoSuitePOS"}, repos(ents))
		has, err = store.HasEntitlement(ctx, l.ID, "MokoSuiteRestaurant")
		require.NoError(t, err)
		assert.False(t, has)

		_, _, err = store.SetEntitlements(ctx, l.ID, "gold")
		p, ok := models.AsProblem(err)
		require.True(t, ok)
		assert.Equal(t, "tier_not_found", p.Code)
		_, ents, _ = store.SetEntitlements(ctx, l.ID, "pos")
		assert.Len(t, ents, 3, "a failed rebuild changes nothing")
	})
}

func repos(es []models.Entitlement) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Repo
	}
	sort.Strings(out)
	return out
}

func TestInvoiceNumbersAreGaplessUnderConcurrency(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		const n = 24
		orders := make([]string, n)
		for i := range orders {
			o, _ := purchase(t, store, fmt.Sprintf("inv-%02d", i), fmt.Sprintf("c%d@example.com", i), "pos")
			orders[i] = o.ID
		}
		issuedAt := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		render := func(models.Invoice) ([]byte, error) { return []byte("%PDF-1.3"), nil }
		var wg sync.WaitGroup
		numbers := make([]string, n*2)
		errs := make([]error, n*2)
		for i := range numbers { // every order is issued twice, concurrently
			wg.Go(func() {
				inv, _, err := store.IssueInvoice(ctx, orders[i%n], issuedAt, models.TaxPolicy{}, render)
				numbers[i], errs[i] = inv.Number, err
			})
		}
		wg.Wait()
		perOrder := map[string]string{}
		for i := range numbers {
			require.NoError(t, errs[i])
			if prev, ok := perOrder[orders[i%n]]; ok {
				assert.Equal(t, prev, numbers[i], "one invoice per order")
			}
			perOrder[orders[i%n]] = numbers[i]
		}
		var got []string
		for _, num := range perOrder {
			got = append(got, num)
		}
		sort.Strings(got)
		for i := range got {
			assert.Equal(t, models.InvoiceNumber(2026, i+1), got[i])
		}
	})
}

func TestInvoiceRenderFailureConsumesNoNumber(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		o1, _ := purchase(t, store, "r-1", "a@example.com", "pos")
		o2, _ := purchase(t, store, "r-2", "b@example.com", "pos")
		at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
		_, _, err := store.IssueInvoice(ctx, o1.ID, at, models.TaxPolicy{}, func(models.Invoice) ([]byte, error) { return nil, fmt.Errorf("disk full") })
		require.Error(t, err)
		inv, created, err := store.IssueInvoice(ctx, o2.ID, at, models.TaxPolicy{}, func(models.Invoice) ([]byte, error) { return []byte("pdf"), nil })
		require.NoError(t, err)
		assert.True(t, created)
		assert.Equal(t, "INV-2026-000001", inv.Number)
		assert.Equal(t, "pdf", string(inv.PDF))
	})
}

func TestProjectionNeverGoesBackInRevision(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		_, l := purchase(t, store, "p-1", "c@example.com", "pos")
		project := func(rev int64, status models.LicenseStatus, domains int) {
			require.NoError(t, store.ProjectLicense(ctx, models.Projection{LicenseID: l.ID, Revision: rev, Status: status,
				TierKey: "pos", MaxDomains: domains, Channels: models.StringList{"stable"}}))
		}
		project(2, models.StatusSuspended, 5)
		project(1, models.StatusActive, 3) // a late retry of an older projection
		got, err := store.GetLicense(ctx, l.ID)
		require.NoError(t, err)
		assert.Equal(t, models.StatusSuspended, got.Status)
		assert.Equal(t, 5, got.MaxDomains)
		assert.Equal(t, int64(2), got.Revision)
	})
}

func TestListLicensesFiltersAndPages(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		now := time.Now().UTC()
		for i := range 5 {
			_, l := purchase(t, store, fmt.Sprintf("l-%d", i), "many@example.com", "pos")
			exp := models.Instant(now.Add(time.Duration(10+i*20) * 24 * time.Hour))
			require.NoError(t, store.ProjectLicense(ctx, models.Projection{LicenseID: l.ID, Revision: 1,
				Status: models.StatusActive, TierKey: "pos", ExpiresAt: &exp, MaxDomains: 3}))
		}
		purchase(t, store, "other", "other@example.com", "suite")

		page, err := store.ListLicenses(ctx, models.LicenseFilter{Email: "MANY@example.com", Limit: 2})
		require.NoError(t, err)
		require.Len(t, page.Licenses, 2)
		seen := map[string]bool{}
		for cursor := ""; ; {
			page, err := store.ListLicenses(ctx, models.LicenseFilter{Email: "many@example.com", Limit: 2, Cursor: cursor})
			require.NoError(t, err)
			for _, l := range page.Licenses {
				assert.False(t, seen[l.ID], "pages do not overlap")
				seen[l.ID] = true
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		assert.Len(t, seen, 5)

		expiring, err := store.ListLicenses(ctx, models.LicenseFilter{ExpiringWithin: 31 * 24 * time.Hour, Now: now, Limit: 50})
		require.NoError(t, err)
		assert.Len(t, expiring.Licenses, 2, "expiring in 10 and 30 days")

		suite, err := store.ListLicenses(ctx, models.LicenseFilter{Tier: "suite", Status: models.StatusPending, Limit: 50})
		require.NoError(t, err)
		require.Len(t, suite.Licenses, 1)
		assert.Equal(t, "other@example.com", suite.Licenses[0].Customer.Email)

		_, err = store.ListLicenses(ctx, models.LicenseFilter{Cursor: "garbage", Limit: 5})
		p, ok := models.AsProblem(err)
		require.True(t, ok)
		assert.Equal(t, "cursor", p.Field)
	})
}

func TestEnqueueEmailOncePerKey(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		msg := models.EmailMessage{IdempotencyKey: "license-x/delivery", To: "c@example.com", Template: "delivery",
			Subject: "first", LicenseID: "x"}
		first, err := store.EnqueueEmail(ctx, msg)
		require.NoError(t, err)
		msg.Subject = "second"
		again, err := store.EnqueueEmail(ctx, msg)
		require.NoError(t, err)
		assert.Equal(t, first.ID, again.ID)
		assert.Equal(t, "first", again.Subject, "the stored message is what gets sent")
		require.NoError(t, store.CountEmailAttempt(ctx, first.ID))
		require.NoError(t, store.RecordEmailOutcome(ctx, first.ID, models.EmailOutcome{Status: models.EmailSent, At: time.Now()}))
		list, err := store.ListEmails(ctx, models.EmailFilter{LicenseID: "x"})
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Equal(t, models.EmailSent, list[0].Status)
		assert.Equal(t, 1, list[0].Attempts)
		assert.NotNil(t, list[0].SentAt)
	})
}

func TestTokensAreHashedAndScoped(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		secret, tok, err := store.CreateToken(ctx, "crm", models.StringList{"licenses:write"})
		require.NoError(t, err)
		assert.NotContains(t, tok.SecretHash, secret)
		got, err := store.AuthenticateToken(ctx, secret, time.Now())
		require.NoError(t, err)
		assert.True(t, got.Allows(models.ScopeLicensesWrite))
		assert.False(t, got.Allows(models.ScopeCatalogWrite))
		require.NoError(t, store.RevokeToken(ctx, tok.ID, time.Now()))
		_, err = store.AuthenticateToken(ctx, secret, time.Now())
		assert.ErrorIs(t, err, models.ErrNotFound)

		n, err := store.CountAdminTokens(ctx)
		require.NoError(t, err)
		assert.Zero(t, n)
		_, err = store.EnsureToken(ctx, "bootstrap", "lft_known", models.StringList{"admin"})
		require.NoError(t, err)
		_, err = store.EnsureToken(ctx, "bootstrap", "lft_known", models.StringList{"admin"})
		require.NoError(t, err, "ensuring twice is a no-op")
		n, _ = store.CountAdminTokens(ctx)
		assert.Equal(t, 1, n)
	})
}

func TestIdempotencyKeyClaims(t *testing.T) {
	testsupport.EachBackend(t, func(t *testing.T, store *store.Store) {
		now := time.Now()
		_, claimed, err := store.ClaimIdempotencyKey(ctx, "k1", "h1", now)
		require.NoError(t, err)
		assert.True(t, claimed)
		rec, claimed, err := store.ClaimIdempotencyKey(ctx, "k1", "h1", now)
		require.NoError(t, err)
		assert.False(t, claimed)
		assert.False(t, rec.Done)
		require.NoError(t, store.CompleteIdempotencyKey(ctx, "k1", 201, `{"ok":true}`))
		rec, _, _ = store.ClaimIdempotencyKey(ctx, "k1", "h1", now)
		assert.True(t, rec.Done)
		assert.Equal(t, 201, rec.StatusCode)
		assert.JSONEq(t, `{"ok":true}`, rec.ResponseBody)
		// Expired keys are forgotten.
		_, claimed, err = store.ClaimIdempotencyKey(ctx, "k1", "h2", now.Add(25*time.Hour))
		require.NoError(t, err)
		assert.True(t, claimed)
	})
}

// Issue 21: four processes starting at once on an empty PostgreSQL
// database without `migrate` first failed 3 times in 12 (`relation …
// already exists`). Each process is a store with a pool of its own.
func TestProcessesStartingTogetherMigrateOneAfterTheOther(t *testing.T) {
	db := testsupport.NewIsolatedPostgres(t)
	stores := make([]*store.Store, 4)
	for i := range stores {
		gdb, err := database.Open(db.URL, database.Options{MaxOpenConns: 4})
		require.NoError(t, err)
		stores[i] = store.New(gdb)
		t.Cleanup(func() {
			if sqlDB, err := gdb.DB(); err == nil {
				sqlDB.Close()
			}
		})
	}
	errs := make([]error, len(stores))
	var wg sync.WaitGroup
	for i, st := range stores {
		wg.Go(func() { errs[i] = st.Migrate(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "process %d", i)
	}
	tiers, err := stores[0].ListTiers(ctx, false)
	require.NoError(t, err)
	assert.NotEmpty(t, tiers, "the catalog is seeded once")
}
