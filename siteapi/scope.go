package siteapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/licenseflow/licenseflow/httpx"
)

// Scope says which question a signed answer answers, inside the signed
// body: a relay that forwards a site's nonce with another key, domain or
// product gets an answer the site can tell is not about itself.
type Scope struct {
	// KeySHA256 is the hex SHA-256 of the key asked about (lower-cased),
	// never the key itself: answers are cached on disk by sites.
	KeySHA256 string `json:"key_sha256"`
	// Domain is the normalized domain asked about, "" when none was sent.
	Domain string `json:"domain"`
	// Product is the product asked about, as sent, "" when none was.
	Product string `json:"product"`
}

func scopeOf(req SiteRequest) Scope {
	sum := sha256.Sum256([]byte(req.DLID))
	return Scope{KeySHA256: hex.EncodeToString(sum[:]), Domain: req.Domain, Product: req.Product}
}

// nonceVersion1 starts the text a committing nonce hashes.
const nonceVersion1 = "licenseflow-nonce-v1"

// checkNonceCommitment refuses a committing nonce that was made for
// another question. Clients (the PHP client among them) send
// "<random>.<commitment>", where the commitment is the first 16 bytes of
// SHA-256("licenseflow-nonce-v1\n" random "\n" key "\n" domain "\n"
// product), base64url without padding, over the key lower-cased and
// trimmed and the domain and product exactly as sent. A relay that keeps
// the site's nonce but swaps the key, the domain or the product is refused
// here instead of answered. A nonce without that shape commits to nothing
// and is only echoed (the scope in the answer still names the question).
func checkNonceCommitment(req SiteRequest) error {
	random, commitment, found := strings.Cut(req.Nonce, ".")
	if !found || random == "" || strings.Contains(commitment, ".") || len(commitment) != base64.RawURLEncoding.EncodedLen(16) {
		return nil
	}
	question := strings.Join([]string{nonceVersion1, random, req.DLID, req.Domain, req.Product}, "\n")
	sum := sha256.Sum256([]byte(question))
	want := base64.RawURLEncoding.EncodeToString(sum[:16])
	if subtle.ConstantTimeCompare([]byte(want), []byte(commitment)) == 1 {
		return nil
	}
	return httpx.NewError(http.StatusUnprocessableEntity, "nonce_mismatch", "nonce",
		"the nonce was made for another key, domain or product than this request carries; send the request as the site made it")
}
