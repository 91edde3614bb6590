package models

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"
)

// The master license (seed 001) is the installation's own key: created on
// first start, entitled to every product on every channel, never expiring,
// never deleted. It has no workflow; revoking it issues a new key at once
// (RotateKey) instead of leaving the vendor without access.
const (
	// MasterLicenseID is the one master license's id: the primary key
	// makes a second one impossible, however many processes start at once.
	MasterLicenseID = "lic_master"
	// MasterOrderID fills the license's order id: no order has it, and no
	// CRM can give it (an order id starts with a letter or digit).
	MasterOrderID = "#master"
	// MasterTierKey names no tier: the master license is entitled to every
	// product, whatever the catalog says.
	MasterTierKey = "master"
	// MasterEmail is the master license's customer: a reserved address
	// (.invalid) that no one can sign in to the portal with.
	MasterEmail = "master-license@licenseflow.invalid"
	// MasterMaxDomains is the number of the vendor's own sites and staging
	// copies the master key may be activated on.
	MasterMaxDomains = 1000
	// TypeMaster is the master license's type.
	TypeMaster LicenseType = "master"
	// SourceMaster marks the entitlements the master license has because
	// it is the master license (read from the catalog, never stored).
	SourceMaster EntitlementSource = "master"
	// AllChannels is the master license's one channel: every channel a
	// release can be on. Channel names are lower-case letters, digits,
	// '-' and '_', so no tier can grant it.
	AllChannels = "*"
	// CodeMasterLicense answers a change the master license does not take.
	CodeMasterLicense = "master_license"
	// LedgerRotateKey is the ledger action of a master key rotation.
	LedgerRotateKey = "rotate-key"
)

// IsMaster reports the master license.
func (l License) IsMaster() bool { return l.Type == TypeMaster }

// NewMasterLicense is the master license as first stored, before its key.
func NewMasterLicense(customerID string, now time.Time) License {
	return License{ID: MasterLicenseID, CustomerID: customerID, TierKey: MasterTierKey, Name: "Master license",
		Status: StatusActive, Type: TypeMaster, StartsAt: &now, MaxDomains: MasterMaxDomains,
		Channels: StringList{AllChannels}, OrderID: MasterOrderID}
}

// MasterKeyDigest is how the master key is stored: its SHA-256, as API
// token secrets are, so no reader of the database holds the key.
func MasterKeyDigest(dlid string) string {
	sum := sha256.Sum256([]byte(dlid))
	return hex.EncodeToString(sum[:])
}

// CheckNotMaster refuses a lifecycle change (suspend, renew, PATCH, …) of
// the master license, which has no workflow to apply it.
func CheckNotMaster(l License, what string) error {
	if !l.IsMaster() {
		return nil
	}
	return Conflict(CodeMasterLicense, "the master license cannot be %s: it never expires and has no lifecycle; revoke it or POST …/rotate-key to issue a new key", what)
}

// CheckRotatable allows key rotation of the master license only: every
// other license keeps its DLID for life.
func CheckRotatable(l License) error {
	if l.IsMaster() {
		return nil
	}
	return Conflict("not_master_license", "only the master license's key can be rotated; license %s keeps its key for life (revoke it and issue a new license instead)", l.ID)
}

// GrantsChannel reports whether a license on channels may have a release
// on channel.
func GrantsChannel(channels []string, channel string) bool {
	return slices.Contains(channels, AllChannels) || slices.Contains(channels, channel)
}
