// Package httpx holds what licenseflow's HTTP packages share: the JSON
// error answer and Fail, the one function that sends it; strict JSON
// decoding; Idempotency-Key handling; API-token scopes; rate limiters; and
// the router every audience mounts its routes on (request ids, logging,
// panic recovery).
package httpx
