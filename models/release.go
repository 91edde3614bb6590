package models

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Release is one published version of a product, with its artifact.
type Release struct {
	ID             uint   `gorm:"primaryKey" json:"-"`
	ProductCode    string `gorm:"size:64;not null;uniqueIndex:ux_release_product_version,priority:1" json:"product"`
	Version        string `gorm:"size:64;not null;uniqueIndex:ux_release_product_version,priority:2" json:"version"`
	Channel        string `gorm:"size:64;not null" json:"channel"`
	Notes          string `gorm:"type:text;not null" json:"notes"`
	Element        string `gorm:"size:128;not null" json:"element"`
	ExtensionType  string `gorm:"size:32;not null" json:"type"`
	TargetPlatform string `gorm:"size:64;not null" json:"target_platform"`
	PHPMinimum     string `gorm:"size:16;not null" json:"php_minimum,omitempty"`
	// Requires and Tested are the oldest host application version the
	// release installs on and the newest it was tested with (WordPress'
	// "Requires at least" and "Tested up to").
	Requires    string    `gorm:"size:16;not null;default:''" json:"requires,omitempty"`
	Tested      string    `gorm:"size:16;not null;default:''" json:"tested,omitempty"`
	Filename    string    `gorm:"size:255;not null" json:"filename"`
	Path        string    `gorm:"size:1024;not null" json:"-"`
	Size        int64     `gorm:"not null" json:"size"`
	SHA256      string    `gorm:"size:64;not null" json:"sha256"`
	PublishedAt time.Time `gorm:"not null" json:"published_at"`
}

var semverPattern = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$`)

// OnChannels keeps the releases published on one of channels, in order.
func OnChannels(releases []Release, channels []string) []Release {
	var out []Release
	for _, r := range releases {
		if slices.Contains(channels, r.Channel) {
			out = append(out, r)
		}
	}
	return out
}

// ValidVersion reports whether v is a semantic version (1.2.3, 2.0.0-beta.1).
func ValidVersion(v string) bool { return semverPattern.MatchString(v) }

// CompareVersions orders semantic versions: -1, 0 or 1. Pre-releases sort
// before their release; build metadata is ignored.
func CompareVersions(a, b string) int {
	ma, mb := semverPattern.FindStringSubmatch(a), semverPattern.FindStringSubmatch(b)
	if ma == nil || mb == nil {
		return strings.Compare(a, b)
	}
	for i := 1; i <= 3; i++ {
		x, _ := strconv.Atoi(ma[i])
		y, _ := strconv.Atoi(mb[i])
		if x != y {
			return sign(x - y)
		}
	}
	switch pa, pb := ma[4], mb[4]; {
	case pa == pb:
		return 0
	case pa == "":
		return 1
	case pb == "":
		return -1
	default:
		return comparePrerelease(pa, pb)
	}
}

func comparePrerelease(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, errX := strconv.Atoi(as[i])
		y, errY := strconv.Atoi(bs[i])
		switch {
		case errX == nil && errY == nil:
			if x != y {
				return sign(x - y)
			}
		case errX == nil:
			return -1 // numeric identifiers sort before alphanumeric ones
		case errY == nil:
			return 1
		default:
			if c := strings.Compare(as[i], bs[i]); c != 0 {
				return c
			}
		}
	}
	return sign(len(as) - len(bs))
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
