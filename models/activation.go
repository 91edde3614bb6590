package models

import "time"

// ActivationStatus says whether a domain currently uses a license.
type ActivationStatus string

const (
	ActivationActive      ActivationStatus = "active"
	ActivationDeactivated ActivationStatus = "deactivated"
)

// Activation is one domain using a license; at most max_domains are active
// at once. A deactivated domain can be activated again (same row).
type Activation struct {
	ID        uint             `gorm:"primaryKey" json:"-"`
	LicenseID string           `gorm:"size:64;not null;uniqueIndex:ux_activation_license_domain,priority:1;index:ix_activation_license_status,priority:1" json:"-"`
	Domain    string           `gorm:"size:253;not null;uniqueIndex:ux_activation_license_domain,priority:2" json:"domain"`
	Status    ActivationStatus `gorm:"size:16;not null;index:ix_activation_license_status,priority:2" json:"status"`
	// Staging marks a staging or local copy of a site (see StagingRule): it
	// takes no domain slot.
	Staging       bool       `gorm:"not null;default:false" json:"staging"`
	FirstSeen     time.Time  `gorm:"not null" json:"first_seen"`
	LastSeen      time.Time  `gorm:"not null;index" json:"last_seen"`
	DeactivatedAt *time.Time `json:"deactivated_at,omitempty"`
}

// Heartbeat is an active domain of a license seen in use at a moment: it
// moves the activation's last_seen forward, which keeps the domain from
// being released as silent.
type Heartbeat struct {
	LicenseID string
	Domain    string
	At        time.Time
}

// UsageKind is what a site did with its key.
type UsageKind string

const (
	UsageValidate  UsageKind = "validate"
	UsageActivate  UsageKind = "activate"
	UsageHeartbeat UsageKind = "heartbeat"
	UsageFeed      UsageKind = "feed"
	UsageDownload  UsageKind = "download"
)

// UsageEvent records one site-facing hit, for usage statistics.
type UsageEvent struct {
	ID        uint      `gorm:"primaryKey" json:"-"`
	LicenseID string    `gorm:"size:64;not null;index:ix_usage_license_at,priority:1" json:"license_id"`
	Kind      UsageKind `gorm:"size:16;not null" json:"kind"`
	Domain    string    `gorm:"size:253;not null" json:"domain,omitempty"`
	IP        string    `gorm:"size:64;not null" json:"ip,omitempty"`
	Result    string    `gorm:"size:32;not null" json:"result"`
	At        time.Time `gorm:"not null;index:ix_usage_license_at,priority:2" json:"at"`
	// Hits counts identical events of the same second, kept as one row: a
	// site asking many times a second costs one insert, not many.
	Hits int `gorm:"not null;default:1" json:"hits"`
}

// UsageDay counts one day's hits by kind.
type UsageDay struct {
	Day    string            `json:"day"`
	Counts map[UsageKind]int `json:"counts"`
}

// DomainSeen is when a domain last showed up.
type DomainSeen struct {
	Domain   string    `json:"domain"`
	LastSeen time.Time `json:"last_seen"`
}

// Usage summarizes a license's usage since a moment.
type Usage struct {
	Totals  map[UsageKind]int `json:"totals"`
	Days    []UsageDay        `json:"days"`
	Domains []DomainSeen      `json:"domains"`
}
