package backoffice

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
)

// MaxArtifactBytes bounds an uploaded release artifact.
const MaxArtifactBytes = 1 << 30

// ReleaseForm is an upload's fields, as posted (multipart form: version,
// channel, notes, element, type, target_platform, php_minimum, requires,
// tested, and the file).
type ReleaseForm struct {
	Version, Channel, Notes, Element, Type, TargetPlatform, PHPMinimum, Requires, Tested string
}

// ErrAnnounceNotStarted: the release is published but the workflow that
// tells entitled customers did not start (start it from the Web UI).
var ErrAnnounceNotStarted = errors.New("the new-release notification did not start")

// Publish stores an uploaded release of product. Every field and the file
// name are checked before anything is written. The artifact goes into a
// directory of its own (one per upload), hashed on the way, synced and
// renamed into place; only then is the release row inserted, and the row's
// unique (product, version) decides between concurrent uploads of one
// version: the loser removes its own directory and gets a conflict, the
// winner's artifact is never touched. Publishing starts the workflow that
// tells entitled customers about it; when that start fails the release is
// returned with ErrAnnounceNotStarted.
func (o Office) Publish(ctx context.Context, product models.Product, f ReleaseForm, filename string, file io.Reader) (models.Release, error) {
	r := models.Release{
		ProductCode:    product.Code,
		Version:        strings.TrimSpace(f.Version),
		Channel:        strings.ToLower(strings.TrimSpace(cmp.Or(f.Channel, "stable"))),
		Notes:          strings.TrimSpace(f.Notes),
		Element:        strings.TrimSpace(cmp.Or(f.Element, strings.ToLower(product.Repo))),
		ExtensionType:  strings.TrimSpace(cmp.Or(f.Type, "package")),
		TargetPlatform: strings.TrimSpace(cmp.Or(f.TargetPlatform, "5.*")),
		PHPMinimum:     strings.TrimSpace(f.PHPMinimum),
		Requires:       strings.TrimSpace(f.Requires),
		Tested:         strings.TrimSpace(f.Tested),
		PublishedAt:    models.Instant(o.Now()),
	}
	if err := r.Validate(); err != nil {
		return r, err
	}
	if file == nil {
		return r, httpx.Invalid("missing_file", "file", "attach the release artifact as the multipart field \"file\" (at most 1 GiB)")
	}
	var err error
	if r.Filename, err = models.SafeFilename(filename); err != nil {
		return r, err
	}
	if _, err := o.Store.GetRelease(ctx, r.ProductCode, r.Version); err == nil {
		return r, models.Conflict("release_exists", "%s %s is already published; publish a new version", r.ProductCode, r.Version)
	}
	if err := o.storeArtifact(&r, file); err != nil {
		return r, err
	}
	created, err := o.Store.CreateRelease(ctx, r)
	if err != nil {
		_ = os.RemoveAll(filepath.Dir(r.Path)) // this upload's own directory, nobody else's
		return r, err
	}
	if err := o.Lifecycle.AnnounceRelease(ctx, product, created); err != nil {
		return created, fmt.Errorf("%w: %v", ErrAnnounceNotStarted, err)
	}
	return created, nil
}

// storeArtifact writes the upload to
// <releases dir>/<product>/<version>/<upload id>/<file name>, a path no
// other upload uses: through a temporary name, synced, then renamed.
func (o Office) storeArtifact(r *models.Release, src io.Reader) (err error) {
	parent := filepath.Join(o.ReleasesDir, r.ProductCode, r.Version)
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
		return TooLarge()
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
