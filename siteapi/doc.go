// Package siteapi is what installed sites call: key validation, domain
// activation and heartbeats, offline tokens, the public signing keys, the
// Joomla and Dolibarr update feeds and downloads. Answers are signed, and
// keys are looked up through an in-memory cache that the store's change
// notices keep fresh.
package siteapi
