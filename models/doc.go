// Package models holds licenseflow's domain: licenses, tiers, entitlements,
// orders, invoices and their rules, plus the gorm store that persists them.
// It depends on nothing but gorm and the standard library.
package models
