package email

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sample() LicenseData {
	exp := time.Date(2027, 11, 22, 9, 0, 0, 0, time.UTC)
	grace := exp.AddDate(0, 0, 7)
	return LicenseData{
		Vendor: "Moko Consulting", CustomerName: "Ada <script>", CustomerEmail: "ada@example.com", LicenseID: "lic_1",
		DLID: "7f21b9ff979fce861bb482a1bc3e753f", DLIDMasked: "7f21…753f", TierKey: "pos", TierName: "Point of Sale",
		Products:   []ProductLine{{Code: "pos", Repo: "MokoSuitePOS", Name: "MokoSuite POS"}},
		MaxDomains: 5, Channels: []string{"stable"}, ExpiresAt: &exp, GraceUntil: &grace,
		InvoiceNumber: "INV-2026-000001", InvoiceTotal: "149.00 EUR",
		PublicURL: "https://licenses.example.com", PortalURL: "https://licenses.example.com/portal",
		RenewURL:  "https://licenses.example.com/portal/licenses/lic_1/renew",
		AmountDue: "149.00 EUR", PaymentURL: "https://invoice.stripe.com/i/in_1",
		Release: &ReleaseLine{Product: "MokoSuite POS", Version: "2.0.0", Channel: "stable", Notes: "Faster <b>checkout</b>."},
	}
}

func TestEveryTemplateRenders(t *testing.T) {
	r, err := NewRenderer()
	require.NoError(t, err)
	for _, name := range Templates {
		var data any = sample()
		if name == TemplateMagicLink {
			data = SignInData{Vendor: "Moko <script>", Link: "https://licenses.example.com/portal/auth?token=abc", Minutes: 15}
		}
		subject, text, html, err := r.Render(name, data)
		require.NoError(t, err, name)
		assert.NotEmpty(t, subject, name)
		assert.NotContains(t, subject, "\n", name)
		if name == TemplateMagicLink {
			assert.Contains(t, text, "https://licenses.example.com/portal/auth?token=abc")
		} else {
			assert.Contains(t, text, "Point of Sale (pos)", "%s shows the license summary", name)
		}
		assert.Contains(t, html, "<html>", name)
		assert.NotContains(t, html, "<script>", "%s escapes customer data in HTML", name)
		assert.NotContains(t, text+html, "<no value>", name)
	}
}

func TestOnlyTheDeliveryEmailShowsTheFullKey(t *testing.T) {
	r, err := NewRenderer()
	require.NoError(t, err)
	data := sample()
	for _, name := range Templates {
		if name == TemplateMagicLink {
			continue // not about a license
		}
		d := data
		if name != TemplateDelivery {
			d.DLID = "" // what the activity passes
		}
		_, text, html, err := r.Render(name, d)
		require.NoError(t, err)
		if name == TemplateDelivery {
			assert.Contains(t, text, data.DLID)
			assert.Contains(t, text, "Download Key", "Joomla setup")
			assert.Contains(t, text, "Dolibarr")
			continue
		}
		assert.NotContains(t, text+html, data.DLID, name)
	}
}

func TestRemindersCarryTheRenewalLink(t *testing.T) {
	r, err := NewRenderer()
	require.NoError(t, err)
	for _, name := range []string{TemplateReminder30, TemplateReminder7, TemplateExpired} {
		subject, text, html, err := r.Render(name, sample())
		require.NoError(t, err)
		assert.Contains(t, text, sample().RenewURL, name)
		assert.Contains(t, html, sample().RenewURL, name)
		assert.True(t, strings.Contains(subject, "22 November 2027") || name == TemplateExpired, subject)
	}
}

func TestMessageIDIsStablePerKey(t *testing.T) {
	a := MessageID("license-x/delivery", "Licenses <licenses@vendor.example>")
	assert.Equal(t, a, MessageID("license-x/delivery", "Licenses <licenses@vendor.example>"))
	assert.NotEqual(t, a, MessageID("license-x/invoice/o1", "licenses@vendor.example"))
	assert.True(t, strings.HasSuffix(a, "@vendor.example"), a)
}
