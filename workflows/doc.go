// Package workflows models each license's lifecycle as one durable Temporal
// workflow: issue the license, remind before expiry, expire, and react to
// renewals and operator actions for as long as the license lives. It also
// names every signal, update, query and search attribute the API uses.
package workflows
