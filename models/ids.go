package models

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// newID returns prefix + 20 random hex characters.
func newID(prefix string) string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return prefix + hex.EncodeToString(b[:])
}

// NewCustomerID returns an id for a new customer.
func NewCustomerID() string { return newID("cus_") }

// NewOrderID returns an id for an order that came without one.
func NewOrderID() string { return newID("ord_") }

// LicenseIDForOrder derives a license id from the order that creates it, so a
// paid order can never mint two licenses.
func LicenseIDForOrder(orderID string) string {
	sum := sha256.Sum256([]byte("order:" + orderID))
	return "lic_" + hex.EncodeToString(sum[:10])
}
