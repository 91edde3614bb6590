package api

import (
	"time"

	"github.com/licenseflow/licenseflow/models"
	"github.com/licenseflow/licenseflow/workflows"
)

// LicenseView is a license as the API shows it.
type LicenseView struct {
	ID           string               `json:"id"`
	DLID         string               `json:"dlid,omitempty"`
	DLIDMasked   string               `json:"dlid_masked,omitempty"`
	Status       models.LicenseStatus `json:"status"`
	Type         models.LicenseType   `json:"type"`
	Tier         string               `json:"tier"`
	Customer     CustomerView         `json:"customer"`
	StartsAt     *time.Time           `json:"starts_at"`
	ExpiresAt    *time.Time           `json:"expires_at"`
	GraceUntil   *time.Time           `json:"grace_until"`
	Lifetime     bool                 `json:"lifetime"`
	MaxDomains   int                  `json:"max_domains"`
	Channels     []string             `json:"channels"`
	Entitlements []EntitlementView    `json:"entitlements,omitempty"`
	OrderID      string               `json:"order_id"`
	WorkflowID   string               `json:"workflow_id"`
	WorkflowURL  string               `json:"workflow_url,omitempty"`
	// Revision increases with every change the workflow projects.
	Revision  int64         `json:"revision"`
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
	Workflow  *WorkflowView `json:"workflow,omitempty"`
}

// CustomerView is a license's customer.
type CustomerView struct {
	ID      string `json:"id"`
	Email   string `json:"email"`
	Name    string `json:"name,omitempty"`
	Company string `json:"company,omitempty"`
}

// EntitlementView is one entitled product.
type EntitlementView struct {
	Product string                   `json:"product"`
	Repo    string                   `json:"repo"`
	Source  models.EntitlementSource `json:"source"`
}

// WorkflowView is the live state of the license's workflow, when reachable.
type WorkflowView struct {
	Reachable     bool                 `json:"reachable"`
	Error         string               `json:"error,omitempty"`
	Status        models.LicenseStatus `json:"status,omitempty"`
	Revision      int64                `json:"revision,omitempty"`
	Renewals      int                  `json:"renewals"`
	Run           int                  `json:"run"`
	Issued        bool                 `json:"issued"`
	StepsDone     []string             `json:"steps_done,omitempty"`
	SuspendReason string               `json:"suspend_reason,omitempty"`
	RevokeReason  string               `json:"revoke_reason,omitempty"`
}

func (s *server) licenseView(l models.License, ents []models.Entitlement) LicenseView {
	v := LicenseView{
		ID: l.ID, DLID: l.Key(), Status: l.Status, Type: l.Type, Tier: l.TierKey,
		Customer: CustomerView{ID: l.Customer.ID, Email: l.Customer.Email, Name: l.Customer.Name, Company: l.Customer.Company},
		StartsAt: l.StartsAt, ExpiresAt: l.ExpiresAt, GraceUntil: l.GraceUntil, Lifetime: l.Lifetime(),
		MaxDomains: l.MaxDomains, Channels: l.Channels, OrderID: l.OrderID, WorkflowID: l.WorkflowID,
		WorkflowURL: s.lifecycle.WorkflowURL(l.WorkflowID), Revision: l.Revision, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt,
	}
	if v.DLID != "" {
		v.DLIDMasked = models.MaskDLID(v.DLID)
	}
	if v.Channels == nil {
		v.Channels = []string{}
	}
	for _, e := range ents {
		v.Entitlements = append(v.Entitlements, EntitlementView{Product: e.ProductCode, Repo: e.Repo, Source: e.Source})
	}
	return v
}

func workflowView(st workflows.LicenseState) *WorkflowView {
	return &WorkflowView{
		Reachable: true, Status: st.Status, Revision: st.Revision, Renewals: st.Renewals, Run: st.Run,
		Issued: st.Issued(), StepsDone: st.StepsDone, SuspendReason: st.SuspendReason, RevokeReason: st.RevokeReason,
	}
}
