package api

import (
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/backoffice"
	"github.com/licenseflow/licenseflow/httpx"
)

// publishRelease stores an uploaded release (multipart form: version,
// channel, notes, element, type, target_platform, php_minimum, requires,
// tested, file) through backoffice.Office.Publish, as the dashboard's form
// does.
func (s *server) publishRelease(c *gin.Context) {
	ctx := c.Request.Context()
	product, err := s.Store.GetProduct(ctx, c.Param("code"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, backoffice.MaxArtifactBytes)
	if err := c.Request.ParseMultipartForm(32 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httpx.Fail(c, backoffice.TooLarge())
			return
		}
		httpx.Fail(c, httpx.NewError(http.StatusBadRequest, "invalid_form", "",
			"send the release as multipart/form-data with the fields version, channel, notes… and the artifact as \"file\": "+err.Error()))
		return
	}
	defer func() { _ = c.Request.MultipartForm.RemoveAll() }()
	form := backoffice.ReleaseForm{Version: c.PostForm("version"), Channel: c.PostForm("channel"), Notes: c.PostForm("notes"),
		Element: c.PostForm("element"), Type: c.PostForm("type"), TargetPlatform: c.PostForm("target_platform"),
		PHPMinimum: c.PostForm("php_minimum"), Requires: c.PostForm("requires"), Tested: c.PostForm("tested")}
	var (
		name string
		file io.Reader
	)
	if f, header, err := c.Request.FormFile("file"); err == nil {
		defer f.Close()
		name, file = header.Filename, f
	}
	created, err := s.office().Publish(ctx, product, form, name, file)
	if errors.Is(err, backoffice.ErrAnnounceNotStarted) {
		httpx.Logger(c).Error("starting the new-release notification failed; publish again is not needed, start it from the Web UI or retry", "release", created.Version, "error", err)
	} else if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/products/"+product.Code+"/releases/"+created.Version)
	c.JSON(http.StatusCreated, releaseView(created))
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
