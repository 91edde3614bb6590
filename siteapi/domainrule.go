package siteapi

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/licenseflow/licenseflow/store"
)

// domainRule knows which products serve activated domains only
// (models.Product.DomainRequired). Sites ask on every call and products
// change rarely, so the catalog is read at most once a minute: a change
// takes effect on every instance within a minute.
type domainRule struct {
	store     *store.Store
	current   atomic.Pointer[domainRuleSet]
	reloading atomic.Bool
}

// domainRuleSet is one reading of the catalog.
type domainRuleSet struct {
	required map[string]bool // by product code and by repo
	read     time.Time
}

// domainRuleAge is how long one reading of the catalog is used.
const domainRuleAge = time.Minute

// requires reports whether product (a code or a repo; "" names none)
// serves activated domains only.
func (r *domainRule) requires(product string) bool {
	if product == "" {
		return false
	}
	set := r.current.Load()
	if set == nil || time.Since(set.read) >= domainRuleAge {
		set = r.reload(set)
	}
	return set != nil && set.required[product]
}

// reload reads the catalog again; while one request does, the others use
// the reading they have. When the database fails, the last reading stands
// and is tried again in a few seconds.
func (r *domainRule) reload(last *domainRuleSet) *domainRuleSet {
	if last != nil {
		if !r.reloading.CompareAndSwap(false, true) {
			return last
		}
		defer r.reloading.Store(false)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	products, err := r.store.ListProducts(ctx)
	if err != nil {
		if last != nil {
			r.current.Store(&domainRuleSet{required: last.required, read: time.Now().Add(-domainRuleAge + 5*time.Second)})
		}
		return last
	}
	next := &domainRuleSet{required: map[string]bool{}, read: time.Now()}
	for _, p := range products {
		if p.DomainRequired {
			next.required[p.Code], next.required[p.Repo] = true, true
		}
	}
	r.current.Store(next)
	return next
}
