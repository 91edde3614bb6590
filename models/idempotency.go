package models

import (
	"encoding/json"
	"time"
)

// IdempotencyRecord remembers the answer to a creating request sent with an
// Idempotency-Key, so a retry gets the same answer instead of a duplicate.
type IdempotencyRecord struct {
	Key          string    `gorm:"primaryKey;size:300"`
	RequestHash  string    `gorm:"size:64;not null"`
	Done         bool      `gorm:"not null"`
	StatusCode   int       `gorm:"not null"`
	ResponseBody string    `gorm:"type:text;not null"`
	CreatedAt    time.Time `gorm:"index"`
}

// IdempotencyTTL is how long an Idempotency-Key is remembered.
const IdempotencyTTL = 24 * time.Hour

// SecretShownOnceCode is the error code a retry of a request whose answer
// held a secret gets: the secret was shown once and is not stored.
const SecretShownOnceCode = "secret_shown_once"

// SecretShownOnceBody is what is stored instead of an answer that held a
// secret (a new API token): the error a retry with the same
// Idempotency-Key gets, 409. what says what the first request created.
func SecretShownOnceBody(what string) string {
	msg := "the first request with this Idempotency-Key succeeded"
	if what != "" {
		msg += " and created " + what
	}
	msg += "; its answer held a secret, which is shown once and never stored, so it cannot be replayed. " +
		"Nothing was created now. If the secret was lost, revoke what was created and make a new one with a new Idempotency-Key"
	body, _ := json.Marshal(map[string]any{"error": map[string]string{"code": SecretShownOnceCode, "message": msg}})
	return string(body)
}
