package models

import (
	"regexp"
	"strings"
	"time"
)

// Platform says which host application a product installs into.
type Platform string

const (
	PlatformJoomla    Platform = "joomla"
	PlatformDolibarr  Platform = "dolibarr"
	PlatformWordPress Platform = "wordpress"
	// PlatformBoth is a product that installs into Joomla and Dolibarr.
	PlatformBoth Platform = "both"
)

// Product is one installable extension: its code (used in tiers), the
// repository / extension name entitlements point at, and its platform.
type Product struct {
	Code        string   `gorm:"primaryKey;size:64" json:"code"`
	Repo        string   `gorm:"size:128;not null;uniqueIndex" json:"repo"`
	Name        string   `gorm:"size:200;not null" json:"name"`
	Platform    Platform `gorm:"size:16;not null" json:"platform"`
	RequiresKey bool     `gorm:"not null" json:"requires_key"`
	// DomainRequired serves the product to activated domains only: a
	// validation, feed, version check or download for it that names no
	// domain is refused (DOMAIN_REQUIRED), so one key cannot update sites
	// that never took a slot.
	DomainRequired bool `gorm:"not null;default:false" json:"domain_required"`
	// AddonPriceCents sells the product as an add-on: on top of a license's
	// tier, for one payment that lasts as long as the license (0: not sold
	// on its own). AddonCurrency is that price's currency.
	AddonPriceCents int64     `gorm:"not null;default:0" json:"addon_price_cents"`
	AddonCurrency   string    `gorm:"size:3;not null;default:''" json:"addon_currency,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// Term is how long one purchase of a tier lasts.
type Term string

const (
	TermMonthly  Term = "monthly"
	TermAnnual   Term = "annual"
	TermLifetime Term = "lifetime"
	TermCustom   Term = "custom"
)

// Tier is a sellable package: which products it grants, on which update
// channels, for how many domains and how long, at what price.
type Tier struct {
	Key  string `gorm:"primaryKey;size:64" json:"key"`
	Name string `gorm:"size:200;not null" json:"name"`
	// Description tells buyers what the plan is for (seed 004's plan
	// description): plain text, shown wherever the plan is offered.
	Description string     `gorm:"size:2000;not null;default:''" json:"description"`
	Products    StringList `gorm:"not null" json:"products"`
	MaxDomains  int        `gorm:"not null" json:"max_domains"`
	Term        Term       `gorm:"size:16;not null" json:"term"`
	TermMonths  int        `gorm:"not null" json:"term_months"`
	PriceCents  int64      `gorm:"not null" json:"price_cents"`
	Currency    string     `gorm:"size:3;not null" json:"currency"`
	Channels    StringList `gorm:"not null" json:"channels"`
	Active      bool       `gorm:"not null" json:"active"`
	// TrialDays is how long a free trial of the tier lasts; 0 sells no
	// trial. A trial is never invoiced and ends without grace.
	TrialDays int `gorm:"not null;default:0" json:"trial_days"`
	// StripePriceID maps a Stripe price to this tier, for Checkout Sessions
	// created outside licenseflow without tier metadata.
	StripePriceID string    `gorm:"size:100;not null;index" json:"stripe_price_id,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Months is the length of one term; lifetime tiers report lifetime=true.
func (t Tier) Months() (months int, lifetime bool) {
	switch t.Term {
	case TermMonthly:
		return 1, false
	case TermAnnual:
		return 12, false
	case TermLifetime:
		return 0, true
	default:
		return t.TermMonths, false
	}
}

// PriceFor prices a purchase or renewal of the given number of months,
// pro rata to the tier's term; lifetime tiers cost their price once.
func (t Tier) PriceFor(months int) int64 {
	termMonths, lifetime := t.Months()
	if lifetime || termMonths <= 0 || months <= 0 {
		return t.PriceCents
	}
	return t.PriceCents * int64(months) / int64(termMonths)
}

var (
	keyPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	repoPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	stripeID    = regexp.MustCompile(`^[A-Za-z0-9_]{1,100}$`)
)

// Normalize trims and lower-cases what is case-insensitive.
func (p *Product) Normalize() {
	p.Code = strings.ToLower(strings.TrimSpace(p.Code))
	p.Repo = strings.TrimSpace(p.Repo)
	p.Name = strings.TrimSpace(p.Name)
	p.Platform = Platform(strings.ToLower(strings.TrimSpace(string(p.Platform))))
	p.AddonCurrency = upperASCII(strings.TrimSpace(p.AddonCurrency))
}

// Validate checks the product's own fields.
func (p *Product) Validate() error {
	if !keyPattern.MatchString(p.Code) {
		return Invalid("invalid_code", "code", "product code %s must be 1-64 lower-case letters, digits, '-' or '_'", quoted(p.Code))
	}
	if !repoPattern.MatchString(p.Repo) {
		return Invalid("invalid_repo", "repo", "repo %s must be 1-128 letters, digits, '.', '-' or '_'", quoted(p.Repo))
	}
	if p.Name == "" {
		return Invalid("missing_name", "name", "product name is required")
	}
	if err := CheckLine("name", p.Name, MaxNameLength); err != nil { // the name is in email subjects and feeds
		return err
	}
	switch p.Platform {
	case PlatformJoomla, PlatformDolibarr, PlatformWordPress, PlatformBoth:
	default:
		return Invalid("invalid_platform", "platform", "platform %s must be one of joomla, dolibarr, wordpress, both (Joomla and Dolibarr)", quoted(string(p.Platform)))
	}
	switch {
	case p.AddonPriceCents < 0:
		return Invalid("invalid_addon_price", "addon_price_cents", "addon_price_cents cannot be negative (0: the product is not sold as an add-on)")
	case p.AddonPriceCents == 0 && p.AddonCurrency != "":
		return Invalid("invalid_addon_currency", "addon_currency", "addon_currency goes with an addon_price_cents above 0")
	case p.AddonPriceCents > 0:
		if _, err := NormalizeCurrency(p.AddonCurrency, "addon_currency"); err != nil {
			return err
		}
	}
	return nil
}

// SoldAsAddon says whether the product can be bought on top of a tier.
func (p Product) SoldAsAddon() bool { return p.AddonPriceCents > 0 }

// Normalize trims, lower-cases and de-duplicates what is case-insensitive.
func (t *Tier) Normalize() {
	t.Key = strings.ToLower(strings.TrimSpace(t.Key))
	t.Name = strings.TrimSpace(t.Name)
	t.Description = strings.TrimSpace(t.Description)
	t.Term = Term(strings.ToLower(strings.TrimSpace(string(t.Term))))
	t.Currency = upperASCII(strings.TrimSpace(t.Currency))
	t.Products = normalizedSet(t.Products)
	t.Channels = normalizedSet(t.Channels)
	t.StripePriceID = strings.TrimSpace(t.StripePriceID)
	if t.Term != TermCustom {
		t.TermMonths = 0
	}
}

// Validate checks the tier's own fields; that its products exist is checked
// by the store against the catalog.
func (t *Tier) Validate() error {
	if !keyPattern.MatchString(t.Key) {
		return Invalid("invalid_key", "key", "tier key %s must be 1-64 lower-case letters, digits, '-' or '_'", quoted(t.Key))
	}
	if t.Name == "" {
		return Invalid("missing_name", "name", "tier name is required")
	}
	if err := CheckLine("name", t.Name, MaxNameLength); err != nil { // the name is in email subjects
		return err
	}
	if err := CheckMultiline("description", t.Description, MaxDescriptionLength); err != nil {
		return err
	}
	if len(t.Products) == 0 {
		return Invalid("missing_products", "products", "a tier must grant at least one product code")
	}
	if t.MaxDomains < 1 || t.MaxDomains > MaxDomainsLimit {
		return Invalid("invalid_max_domains", "max_domains", "max_domains must be between 1 and %d", MaxDomainsLimit)
	}
	switch t.Term {
	case TermMonthly, TermAnnual, TermLifetime:
	case TermCustom:
		if t.TermMonths < 1 || t.TermMonths > MaxTermMonths {
			return Invalid("invalid_term_months", "term_months", "a custom term needs term_months between 1 and %d", MaxTermMonths)
		}
	default:
		return Invalid("invalid_term", "term", "term %s must be one of monthly, annual, lifetime, custom", quoted(string(t.Term)))
	}
	if t.TrialDays < 0 || t.TrialDays > MaxTrialDays {
		return Invalid("invalid_trial_days", "trial_days", "trial_days must be between 0 (no trial) and %d", MaxTrialDays)
	}
	if t.TrialDays > 0 && t.Term == TermLifetime {
		return Invalid("lifetime_trial", "trial_days", "a lifetime tier cannot offer a trial: a trial converts by a renewal, and a lifetime license has none; sell the trial on a term tier")
	}
	if t.PriceCents < 0 {
		return Invalid("invalid_price", "price_cents", "price_cents cannot be negative")
	}
	if !ValidCurrency(t.Currency) {
		return Invalid("invalid_currency", "currency", "currency %s must be an ISO 4217 currency code such as EUR or USD", quoted(t.Currency))
	}
	if len(t.Channels) == 0 {
		return Invalid("missing_channels", "channels", "a tier must grant at least one update channel, e.g. stable")
	}
	for _, ch := range t.Channels {
		if !keyPattern.MatchString(ch) {
			return Invalid("invalid_channel", "channels", "channel %s must be lower-case letters, digits, '-' or '_'", quoted(ch))
		}
	}
	if t.StripePriceID != "" {
		if err := CheckLine("stripe_price_id", t.StripePriceID, MaxRefLength); err != nil {
			return err
		}
		if !stripeID.MatchString(t.StripePriceID) {
			return Invalid("invalid_stripe_price_id", "stripe_price_id", "stripe_price_id %s must be a Stripe price id such as price_1Nx…", quoted(t.StripePriceID))
		}
	}
	return nil
}

// Limits that keep input sane.
const (
	MaxDomainsLimit = 10000
	MaxTermMonths   = 120
	// MaxTrialDays bounds a tier's free trial.
	MaxTrialDays = 90
	// MaxExpiryYears bounds how far an expiry given as a date may lie
	// ahead, in calendar years: as far as the longest term reaches.
	MaxExpiryYears = 10
)

// CheckExplicitExpiry checks an expiry given as a date (at purchase, in a
// renewal or a correction): in the future, at most MaxExpiryYears calendar
// years away.
func CheckExplicitExpiry(at, now time.Time) error {
	switch {
	case !at.After(now):
		return Invalid("expires_at_in_past", "expires_at", "expires_at %s is not in the future", at.UTC().Format(time.RFC3339))
	case at.After(now.AddDate(MaxExpiryYears, 0, 0)):
		return Invalid("expires_at_too_far", "expires_at", "expires_at may be at most %d years ahead", MaxExpiryYears)
	}
	return nil
}

// MonthsUntil is the number of months, counting a started month as whole,
// from now to an expiry given as a date: what a term ending then is priced as.
func MonthsUntil(now, at time.Time) int {
	months := 1
	for months < MaxTermMonths+1 && AddMonths(now, months).Before(at) {
		months++
	}
	return months
}

// ExampleCatalog is the catalog seeded on first start: the MokoSuite
// extensions and a handful of tiers, so a fresh install can sell at once.
func ExampleCatalog() ([]Product, []Tier) {
	product := func(code, repo, name string, platform Platform) Product {
		return Product{Code: code, Repo: repo, Name: name, Platform: platform, RequiresKey: true}
	}
	products := []Product{
		product("base", "MokoSuite", "MokoSuite", PlatformBoth),
		product("crm", "MokoSuiteCRM", "MokoSuite CRM", PlatformBoth),
		product("erp", "MokoSuiteERP", "MokoSuite ERP", PlatformDolibarr),
		product("child", "MokoSuiteChild", "MokoSuite Child Theme", PlatformJoomla),
		product("create", "MokoSuiteCreate", "MokoSuite Create", PlatformJoomla),
		product("npo", "MokoSuiteNPO", "MokoSuite NPO", PlatformBoth),
		product("pos", "MokoSuitePOS", "MokoSuite POS", PlatformBoth),
		product("shop", "MokoSuiteShop", "MokoSuite Shop", PlatformJoomla),
		product("hrm", "MokoSuiteHRM", "MokoSuite HRM", PlatformDolibarr),
		product("mrp", "MokoSuiteMRP", "MokoSuite MRP", PlatformDolibarr),
		product("restaurant", "MokoSuiteRestaurant", "MokoSuite Restaurant", PlatformBoth),
	}
	for i := range products { // sold on their own too, on top of any tier
		switch products[i].Code {
		case "child":
			products[i].AddonPriceCents, products[i].AddonCurrency = 2900, "EUR"
		case "npo":
			products[i].AddonPriceCents, products[i].AddonCurrency = 4900, "EUR"
		}
	}
	all := make(StringList, len(products))
	for i, p := range products {
		all[i] = p.Code
	}
	tier := func(key, name string, codes StringList, domains int, term Term, price int64, channels ...string) Tier {
		return Tier{Key: key, Name: name, Products: codes, MaxDomains: domains, Term: term,
			PriceCents: price, Currency: "EUR", Channels: channels, Active: true}
	}
	tiers := []Tier{
		tier("pos", "Point of Sale", StringList{"base", "pos"}, 3, TermAnnual, 14900, "stable"),
		tier("restaurant", "Restaurant", StringList{"base", "pos", "restaurant"}, 3, TermAnnual, 24900, "stable"),
		tier("crm", "CRM", StringList{"base", "crm"}, 3, TermAnnual, 19900, "stable"),
		tier("erp", "ERP", StringList{"base", "erp", "hrm", "mrp"}, 5, TermAnnual, 39900, "stable"),
		tier("suite", "Complete Suite", all, 10, TermAnnual, 59900, "stable", "beta"),
		tier("suite-monthly", "Complete Suite (monthly)", all, 10, TermMonthly, 5900, "stable", "beta"),
		tier("suite-lifetime", "Complete Suite (lifetime)", all, 10, TermLifetime, 199900, "stable", "beta"),
	}
	descriptions := map[string]string{
		"pos":            "Sell over the counter: MokoSuite with its point of sale, for up to 3 sites, updated for a year.",
		"restaurant":     "Point of sale plus tables, kitchen tickets and menus, for up to 3 sites, updated for a year.",
		"crm":            "MokoSuite with customer relations: contacts, pipeline and follow-ups, for up to 3 sites, updated for a year.",
		"erp":            "Run the business: ERP, human resources and manufacturing, for up to 5 sites, updated for a year.",
		"suite":          "Every MokoSuite extension, the beta channel included, for up to 10 sites, updated for a year.",
		"suite-monthly":  "Every MokoSuite extension for up to 10 sites, paid month by month.",
		"suite-lifetime": "Every MokoSuite extension for up to 10 sites, paid once, updated for as long as it is sold.",
	}
	for i := range tiers {
		tiers[i].Description = descriptions[tiers[i].Key]
		if tiers[i].Key == "suite" {
			tiers[i].TrialDays = 14 // try everything before buying the suite
		}
		tiers[i].Normalize()
	}
	return products, tiers
}
