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
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
)

// maxArtifactBytes bounds an uploaded release artifact.
const maxArtifactBytes = 1 << 30

// publishRelease stores an uploaded release (multipart form: version,
// channel, notes, element, type, target_platform, php_minimum, requires,
// tested, file).
// Every field and the file name are checked before anything is written.
// The artifact goes into a directory of its own (one per upload), hashed on
// the way, synced and renamed into place; only then is the release row
// inserted, and the row's unique (product, version) decides between
// concurrent uploads of one version: the loser removes its own directory
// and answers 409, the winner's artifact is never touched. Publishing
// starts the workflow that tells entitled customers about it.
func (s *server) publishRelease(c *gin.Context) {
	ctx := c.Request.Context()
	product, err := s.Store.GetProduct(ctx, c.Param("code"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxArtifactBytes)
	if err := c.Request.ParseMultipartForm(32 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httpx.Fail(c, httpx.NewError(http.StatusRequestEntityTooLarge, "file_too_large", "file", "the upload is larger than 1 GiB"))
			return
		}
		httpx.Fail(c, httpx.NewError(http.StatusBadRequest, "invalid_form", "",
			"send the release as multipart/form-data with the fields version, channel, notes… and the artifact as \"file\": "+err.Error()))
		return
	}
	defer func() { _ = c.Request.MultipartForm.RemoveAll() }()
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
	if err := r.Validate(); err != nil {
		httpx.Fail(c, err)
		return
	}
	file, header, err := c.Request.FormFile("file")
	if err != nil {
		httpx.Fail(c, httpx.Invalid("missing_file", "file", "attach the release artifact as the multipart field \"file\" (at most 1 GiB)"))
		return
	}
	defer file.Close()
	if r.Filename, err = models.SafeFilename(header.Filename); err != nil {
		httpx.Fail(c, err)
		return
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
		_ = os.RemoveAll(filepath.Dir(r.Path)) // this upload's own directory, nobody else's
		httpx.Fail(c, err)
		return
	}
	if err := s.Lifecycle.AnnounceRelease(ctx, product, created); err != nil {
		httpx.Logger(c).Error("starting the new-release notification failed; publish again is not needed, start it from the Web UI or retry", "release", created.Version, "error", err)
	}
	c.Header("Location", "/api/v1/products/"+product.Code+"/releases/"+created.Version)
	c.JSON(http.StatusCreated, releaseView(created))
}

// storeArtifact writes the upload to
// <releases dir>/<product>/<version>/<upload id>/<file name>, a path no
// other upload uses: through a temporary name, synced, then renamed.
func (s *server) storeArtifact(r *models.Release, src io.Reader) (err error) {
	parent := filepath.Join(s.ReleasesDir, r.ProductCode, r.Version)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("create release directory: %w", err)
	}
	dir, err := os.MkdirTemp(parent, "upload-")
	if err != nil {
		return fmt.Errorf("create upload directory: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	tmp, err := os.CreateTemp(dir, ".part-*")
	if err != nil {
		return fmt.Errorf("create release file: %w", err)
	}
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
	if err := os.Rename(tmp.Name(), r.Path); err != nil {
		return fmt.Errorf("move release file into place: %w", err)
	}
	return nil
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
