package models

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
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

var (
	elementPattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	extTypePattern  = regexp.MustCompile(`^[a-z]{1,32}$`)
	platformPattern = regexp.MustCompile(`^[0-9A-Za-z.*+?|()\[\]\\^$-]{1,64}$`)
	phpPattern      = regexp.MustCompile(`^[0-9]{1,3}(\.[0-9]{1,3}){0,2}$`)
	filenameCleaner = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
)

// Validate checks a release's fields before anything is stored: they end
// up in Joomla's update feed (XML), emails and file names.
// hostVersionPattern is a version of the application a release installs
// into (WordPress 6.7, Joomla 5.2.1).
var hostVersionPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+){0,3}$`)

func (r *Release) Validate() error {
	switch {
	case !ValidVersion(r.Version):
		return Invalid("invalid_version", "version", "version %s must be a semantic version such as 2.1.0 or 2.1.0-beta.1", quoted(r.Version))
	case len(r.Version) > 64:
		return Invalid("invalid_version", "version", "version must be at most 64 characters")
	case !keyPattern.MatchString(r.Channel):
		return Invalid("invalid_channel", "channel", "channel %s must be lower-case letters, digits, '-' or '_', e.g. stable or beta", quoted(r.Channel))
	case !elementPattern.MatchString(r.Element):
		return Invalid("invalid_element", "element", "element %s must be 1-128 letters, digits, '.', '-' or '_', e.g. pkg_mokosuitepos", quoted(r.Element))
	case !extTypePattern.MatchString(r.ExtensionType):
		return Invalid("invalid_type", "type", "type %s must be a Joomla extension type such as package, component or plugin", quoted(r.ExtensionType))
	case !platformPattern.MatchString(r.TargetPlatform):
		return Invalid("invalid_target_platform", "target_platform", "target_platform %s must be a Joomla version pattern such as 5.* or 4.[34] (at most 64 characters)", quoted(r.TargetPlatform))
	case r.PHPMinimum != "" && !phpPattern.MatchString(r.PHPMinimum):
		return Invalid("invalid_php_minimum", "php_minimum", "php_minimum %s must be a PHP version such as 8.1", quoted(r.PHPMinimum))
	case r.Requires != "" && !hostVersionPattern.MatchString(r.Requires):
		return Invalid("invalid_requires", "requires", "requires %s must be a host application version such as 6.2", quoted(r.Requires))
	case r.Tested != "" && !hostVersionPattern.MatchString(r.Tested):
		return Invalid("invalid_tested", "tested", "tested %s must be a host application version such as 6.7", quoted(r.Tested))
	}
	return CheckMultiline("notes", r.Notes, MaxNotesLength)
}

// SafeFilename derives the stored name of an uploaded artifact from the
// name the client sent: the part after the last / or \, letters, digits,
// '.', '-' and '_' kept and every other run replaced by '_', no leading
// dots. A name that cannot be a file (empty, ".", "..", a bare path, NUL
// or other control characters, longer than MaxFilenameLength bytes) is an
// error.
func SafeFilename(raw string) (string, error) {
	refuse := func(why string) (string, error) {
		return "", Invalid("invalid_filename", "file", "the file name %s %s; send the artifact's own name, such as pkg_mokosuitepos-2.1.0.zip", quoted(raw), why)
	}
	if len(raw) > MaxFilenameLength {
		return refuse(fmt.Sprintf("is longer than %d bytes", MaxFilenameLength))
	}
	if !utf8.ValidString(raw) || strings.IndexFunc(raw, unicode.IsControl) >= 0 {
		return refuse("contains control characters or is not UTF-8")
	}
	base := raw[strings.LastIndexAny(raw, `/\`)+1:]
	if strings.Trim(base, ".") == "" {
		return refuse("names no file")
	}
	name := strings.TrimLeft(filenameCleaner.ReplaceAllString(base, "_"), ".")
	if name == "" || strings.Trim(name, "._-") == "" {
		return refuse("names no file")
	}
	return name, nil
}

var semverPattern = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$`)

// OnChannels keeps the releases published on one of channels, in order.
func OnChannels(releases []Release, channels []string) []Release {
	var out []Release
	for _, r := range releases {
		if GrantsChannel(channels, r.Channel) {
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
