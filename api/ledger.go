package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/models"
)

// LedgerLineView is one line of a license's ledger.
type LedgerLineView struct {
	ID       uint64    `json:"id"`
	At       time.Time `json:"at"`
	Revision int64     `json:"revision"`
	Action   string    `json:"action"`
	Actor    string    `json:"actor"`
	Field    string    `json:"field,omitempty"`
	Old      string    `json:"old,omitempty"`
	New      string    `json:"new,omitempty"`
	Note     string    `json:"note,omitempty"`
}

func ledgerLineView(e models.LicenseEvent) LedgerLineView {
	return LedgerLineView{
		ID: e.ID, At: e.At, Revision: e.Revision, Action: e.Action, Actor: e.Actor,
		Field: e.Field, Old: e.Old, New: e.New, Note: e.Note,
	}
}

// licenseEvents pages through a license's ledger, newest first; the cursor
// is the id of the last line of the previous page.
func (s *server) licenseEvents(c *gin.Context) {
	l, err := s.Store.GetLicense(c.Request.Context(), c.Param("id"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	f := models.LedgerFilter{LicenseID: l.ID, Limit: 100}
	var ok bool
	if f.Limit, ok = pageLimit(c, f.Limit, 500); !ok {
		return
	}
	if raw := c.Query("cursor"); raw != "" {
		n, err := strconv.ParseUint(raw, 10, 64)
		if err != nil || n == 0 {
			httpx.Fail(c, httpx.Invalid("invalid_cursor", "cursor", "cursor must be the next_cursor of the previous page"))
			return
		}
		f.Before = n
	}
	lines, err := s.Store.LicenseLedger(c.Request.Context(), f)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	page := pageOf(lines, ledgerLineView)
	if len(lines) == f.Limit {
		page.NextCursor = fmt.Sprint(lines[len(lines)-1].ID)
	}
	c.JSON(http.StatusOK, page)
}

// pageLimit reads a list's ?limit= (1 to max; def when absent); a bad one
// is answered 422 and ok is false.
func pageLimit(c *gin.Context, def, max int) (limit int, ok bool) {
	raw := c.Query("limit")
	if raw == "" {
		return def, true
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > max {
		httpx.Fail(c, httpx.Invalid("invalid_limit", "limit", fmt.Sprintf("limit must be between 1 and %d", max)))
		return 0, false
	}
	return n, true
}
