package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/licenseflow/licenseflow/lifecycle"
	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/store"
)

// KeySharing shapes the worker's key-sharing watch; zero fields take the
// defaults.
type KeySharing struct {
	// Rule says what is suspicious (default models.DefaultKeySharingRule).
	Rule models.KeySharingRule
	// Every is how often the day's usage is read (default ten minutes).
	Every time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Checked, when set, hears the outcome of every check: the licenses it
	// reported (tests wait on it).
	Checked func(reported []string, err error)
}

// DefaultKeySharingCheck is how often the watch reads the day's usage.
const DefaultKeySharingCheck = 10 * time.Minute

// WatchKeySharing reads, every o.Every, the usage of the current UTC day
// (and of the day before, whose last hits a check after midnight has not
// read yet) and reports each license used beyond the rule to its workflow
// (models.SuspiciousUsageNotice), which notes it in the ledger and tells
// the CRM. Nothing is suspended. A license is reported once per day: the
// watch remembers what it reported, and the workflow ignores a day it was
// told of (several workers each report at most once).
func WatchKeySharing(st *store.Store, flows lifecycle.Client, o KeySharing, log *slog.Logger) *Watch {
	if log == nil {
		log = slog.Default()
	}
	if o.Rule == (models.KeySharingRule{}) {
		o.Rule = models.DefaultKeySharingRule()
	}
	if o.Every <= 0 {
		o.Every = DefaultKeySharingCheck
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	reported := map[string]map[string]bool{} // day -> license ids
	return watchEvery(o.Every, func() {
		ids, err := reportKeySharing(st, flows, o, reported)
		if err != nil {
			log.Warn("key sharing not checked; trying again later", "error", err)
		}
		if o.Checked != nil {
			o.Checked(ids, err)
		}
	})
}

// reportKeySharing reports the suspects of today and yesterday not
// reported yet, and returns the licenses it reported.
func reportKeySharing(st *store.Store, flows lifecycle.Client, o KeySharing, reported map[string]map[string]bool) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ctx = models.WithActor(ctx, "watch:key-sharing")
	today := o.Now().UTC().Truncate(24 * time.Hour)
	days := []time.Time{today.AddDate(0, 0, -1), today}
	for day := range reported {
		if day != days[0].Format(time.DateOnly) && day != days[1].Format(time.DateOnly) {
			delete(reported, day)
		}
	}
	var out []string
	for _, day := range days {
		seen := reported[day.Format(time.DateOnly)]
		if seen == nil {
			seen = map[string]bool{}
			reported[day.Format(time.DateOnly)] = seen
		}
		suspects, err := st.KeySharingSuspects(ctx, day, day.AddDate(0, 0, 1), o.Rule)
		if err != nil {
			return out, err
		}
		for _, s := range suspects {
			notice := models.SuspiciousUsageNotice{Day: day.Format(time.DateOnly), Addresses: s.Addresses,
				UnactivatedDomains: s.UnactivatedDomains, UnactivatedCount: s.Unactivated, MaxDomains: s.MaxDomains}
			if seen[s.LicenseID] {
				continue
			}
			l, err := st.GetLicense(ctx, s.LicenseID)
			if err != nil {
				return out, err
			}
			if l.IsMaster() { // the vendor's own key, on as many sites as it likes; it has no workflow
				continue
			}
			if err := flows.SignalLicense(ctx, l, &notice); err != nil {
				return out, err
			}
			seen[s.LicenseID] = true
			out = append(out, s.LicenseID)
		}
	}
	return out, nil
}
