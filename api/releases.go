package api

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
)

// maxArtifactBytes bounds an uploaded release artifact.
const maxArtifactBytes = 1 << 30

var (
	channelPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	filenameCleaner = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
	// hostVersionPattern is a version of the application a release installs
	// into (WordPress 6.7, Joomla 5.2.1).
	hostVersionPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+){0,3}$`)
)

// publishRelease stores an uploaded release (multipart form: version,
// channel, notes, element, type, target_platform, php_minimum, requires,
// tested, file). The
// artifact is written to a temporary file, hashed on the way, synced and
// renamed into place, so a half-written file is never served. Publishing
// starts the workflow that tells entitled customers about it.
func (s *server) publishRelease(c *gin.Context) {
	ctx := c.Request.Context()
	product, err := s.Store.GetProduct(ctx, c.Param("code"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxArtifactBytes)
	r := models.Release{
		ProductCode:    product.Code,
		Version:        strings.TrimSpace(c.PostForm("version")),
		Channel:        strings.ToLower(strings.TrimSpace(cmp.Or(c.PostForm("channel"), "stable"))),
		Notes:          strings.TrimSpace(c.PostForm("notes")),
		Element:        strings.TrimSpace(cmp.Or(c.PostForm("element"), strings.ToLower(product.Repo))),
		ExtensionType:  strings.TrimSpace(cmp.Or(c.PostForm("type"), "package")),
		TargetPlatform: strings.TrimSpace(cmp.Or(c.PostForm("target_platform"), "5.*")),
		PHPMinimum:     strings.TrimSpace(c.PostForm("php_minimum")),
		Requires:       strings.TrimSpace(c.PostForm("requires")),
		Tested:         strings.TrimSpace(c.PostForm("tested")),
		PublishedAt:    models.Instant(s.Now()),
	}
	switch {
	case !models.ValidVersion(r.Version):
		httpx.Fail(c, httpx.Invalid("invalid_version", "version", "version must be a semantic version such as 2.1.0 or 2.1.0-beta.1"))
		return
	case !channelPattern.MatchString(r.Channel):
		httpx.Fail(c, httpx.Invalid("invalid_channel", "channel", "channel must be lower-case letters, digits, '-' or '_', e.g. stable or beta"))
		return
	case r.Requires != "" && !hostVersionPattern.MatchString(r.Requires):
		httpx.Fail(c, httpx.Invalid("invalid_requires", "requires", "requires must be a host application version such as 6.2"))
		return
	case r.Tested != "" && !hostVersionPattern.MatchString(r.Tested):
		httpx.Fail(c, httpx.Invalid("invalid_tested", "tested", "tested must be a host application version such as 6.7"))
		return
	}
	file, header, err := c.Request.FormFile("file")
	if err != nil {
		httpx.Fail(c, httpx.Invalid("missing_file", "file", "attach the release artifact as the multipart field \"file\" (at most 1 GiB)"))
		return
	}
	defer file.Close()
	r.Filename = filenameCleaner.ReplaceAllString(filepath.Base(header.Filename), "_")
	if r.Filename == "" || r.Filename == "." {
		r.Filename = product.Code + "-" + r.Version + ".zip"
	}
	if _, err := s.Store.GetRelease(ctx, r.ProductCode, r.Version); err == nil {
		httpx.Fail(c, models.Conflict("release_exists", "%s %s is already published; publish a new version", r.ProductCode, r.Version))
		return
	}
	if err := s.storeArtifact(&r, file); err != nil {
		httpx.Fail(c, err)
		return
	}
	created, err := s.Store.CreateRelease(ctx, r)
	if err != nil {
		_ = os.Remove(r.Path)
		httpx.Fail(c, err)
		return
	}
	if err := s.Lifecycle.AnnounceRelease(ctx, product, created); err != nil {
		httpx.Logger(c).Error("starting the new-release notification failed; publish again is not needed, start it from the Web UI or retry", "release", created.Version, "error", err)
	}
	c.Header("Location", "/api/v1/products/"+product.Code+"/releases/"+created.Version)
	c.JSON(http.StatusCreated, releaseView(created))
}

// storeArtifact writes the upload under <releases dir>/<product>/<version>/.
func (s *server) storeArtifact(r *models.Release, src io.Reader) error {
	dir := filepath.Join(s.ReleasesDir, r.ProductCode, r.Version)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create release directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return fmt.Errorf("create release file: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	hash := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, hash), src)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return httpx.NewError(http.StatusRequestEntityTooLarge, "file_too_large", "file", "the artifact is larger than 1 GiB")
	}
	if err != nil {
		return fmt.Errorf("write release file: %w", err)
	}
	if n == 0 {
		return httpx.Invalid("empty_file", "file", "the uploaded artifact is empty")
	}
	r.Path, r.Size, r.SHA256 = filepath.Join(dir, r.Filename), n, hex.EncodeToString(hash.Sum(nil))
	return os.Rename(tmp.Name(), r.Path)
}

func (s *server) listReleases(c *gin.Context) {
	product, err := s.Store.GetProduct(c.Request.Context(), c.Param("code"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	releases, err := s.Store.ListReleases(c.Request.Context(), product.Code)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, pageOf(releases, releaseView))
}
