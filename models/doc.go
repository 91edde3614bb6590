// Package models holds licenseflow's domain: licenses, tiers, entitlements,
// orders, invoices and their rules. It depends on nothing but the standard
// library (its types carry gorm tags, but no query lives here: see store).
package models
