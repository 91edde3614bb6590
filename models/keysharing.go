package models

// KeySharingRule says when a day's use of one key looks like a key shared
// beyond its license: validations, feeds and downloads from far more client
// addresses than its domain slots explain, or from more domains that were
// never activated on it than it has slots. Such a day is reported
// (SuspiciousUsageNotice), never punished: a vendor looks before acting,
// since offices behind changing addresses and staging copies exist.
type KeySharingRule struct {
	// AddressesPerDomain and AddressAllowance: more distinct addresses than
	// AddressesPerDomain × max_domains + AddressAllowance is suspicious.
	AddressesPerDomain int
	AddressAllowance   int
	// UnactivatedAllowance: more domains that are not activated than
	// max_domains + UnactivatedAllowance is suspicious.
	UnactivatedAllowance int
}

// DefaultKeySharingRule allows three addresses per domain slot and five
// more (a site's own address changes, its admins at home), and two
// unactivated domains beyond the slots (a site asking before activating).
func DefaultKeySharingRule() KeySharingRule {
	return KeySharingRule{AddressesPerDomain: 3, AddressAllowance: 5, UnactivatedAllowance: 2}
}

// Suspicious reports whether a day's use of a license's key breaks the rule.
func (r KeySharingRule) Suspicious(maxDomains, addresses, unactivated int) bool {
	return addresses > r.AddressesPerDomain*maxDomains+r.AddressAllowance || unactivated > maxDomains+r.UnactivatedAllowance
}

// KeySharingUsage counts the kinds of use the rule counts.
var KeySharingUsage = []UsageKind{UsageValidate, UsageFeed, UsageDownload}

// KeyUsage is one license's use of its key over a day, as the rule reads it.
type KeyUsage struct {
	LicenseID  string
	MaxDomains int
	Addresses  int
	// Unactivated counts the domains that asked without being activated;
	// UnactivatedDomains names ten of them at most.
	Unactivated        int
	UnactivatedDomains []string
}
