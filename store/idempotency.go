package store

import (
	"context"
	"time"

	"github.com/licenseflow/licenseflow/models"
)

// ClaimIdempotencyKey claims key for a request whose body hashes to hash.
// It returns the stored record and claimed=true when this caller owns the key
// and must run the request; otherwise the record shows the first request's
// state (Done with its answer, or still running).
func (s *Store) ClaimIdempotencyKey(ctx context.Context, key, hash string, now time.Time) (models.IdempotencyRecord, bool, error) {
	// Forget expired keys: this one always, all of them at most once a minute.
	if err := s.with(ctx).Where("key = ? AND created_at < ?", key, now.Add(-models.IdempotencyTTL)).Delete(&models.IdempotencyRecord{}).Error; err != nil {
		return models.IdempotencyRecord{}, false, err
	}
	if last := s.swept.Load(); now.Unix()-last >= 60 && s.swept.CompareAndSwap(last, now.Unix()) {
		if _, err := s.SweepIdempotencyRecords(ctx, now); err != nil {
			return models.IdempotencyRecord{}, false, err
		}
	}
	rec := models.IdempotencyRecord{Key: key, RequestHash: hash, CreatedAt: now}
	err := s.with(ctx).Create(&rec).Error
	if err == nil {
		return rec, true, nil
	}
	if !isDuplicate(err) {
		return rec, false, err
	}
	stored, err := s.GetIdempotencyRecord(ctx, key)
	return stored, false, err
}

// GetIdempotencyRecord reads a claimed key's current state; NotFound once
// its claim was released.
func (s *Store) GetIdempotencyRecord(ctx context.Context, key string) (models.IdempotencyRecord, error) {
	var rec models.IdempotencyRecord
	err := s.with(ctx).First(&rec, "key = ?", key).Error
	if isNotFound(err) {
		return rec, models.NotFound("idempotency_key_released", "no request holds this Idempotency-Key")
	}
	return rec, err
}

// TakeOverIdempotencyKey claims a key whose claim, made at claimedAt, was
// abandoned (its request never completed or released it). Of several
// callers, one gets claimed=true.
func (s *Store) TakeOverIdempotencyKey(ctx context.Context, key string, claimedAt, now time.Time) (bool, error) {
	res := s.with(ctx).Model(&models.IdempotencyRecord{}).Where("key = ? AND done = ? AND created_at <= ?", key, false, claimedAt).
		Update("created_at", now)
	return res.RowsAffected == 1, res.Error
}

// CompleteIdempotencyKey stores the answer for later retries.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, key string, status int, body string) error {
	return s.with(ctx).Model(&models.IdempotencyRecord{}).Where("key = ?", key).
		Updates(map[string]any{"done": true, "status_code": status, "response_body": body}).Error
}

// ReleaseIdempotencyKey forgets a claim whose request failed in a way a retry
// may fix (an outage), so the retry runs again.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, key string) error {
	return s.with(ctx).Where("key = ? AND done = ?", key, false).Delete(&models.IdempotencyRecord{}).Error
}

// SweepIdempotencyRecords deletes the records older than IdempotencyTTL
// and says how many went. ClaimIdempotencyKey calls it at most once a
// minute, so the table holds about a day of keys.
func (s *Store) SweepIdempotencyRecords(ctx context.Context, now time.Time) (int64, error) {
	res := s.with(ctx).Where("created_at < ?", now.Add(-models.IdempotencyTTL)).Delete(&models.IdempotencyRecord{})
	return res.RowsAffected, res.Error
}

// forgetStoredSecrets blanks answers that earlier versions stored with
// the plaintext of a new API token: a retry of those requests is told the
// secret was shown once, like today's.
func (s *Store) forgetStoredSecrets(ctx context.Context) error {
	return s.with(ctx).Model(&models.IdempotencyRecord{}).
		Where("done = ? AND key LIKE ? AND response_body LIKE ?", true, "% POST /api/v1/tokens %", "%"+models.TokenPrefix+"%").
		Updates(map[string]any{"status_code": 409, "response_body": models.SecretShownOnceBody("")}).Error
}
