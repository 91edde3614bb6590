package workflows

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every workflow.GetVersion fork in the workflow code has its line in
// versions.go, and every line there names a fork the code still has.
func TestEveryWorkflowForkIsListedInVersions(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	var parsed []*ast.File
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		require.NoError(t, err)
		parsed = append(parsed, file)
	}
	for _, problem := range forkProblems(fset, parsed, versionChanges) {
		t.Error(problem)
	}
}

func TestEveryListedForkSaysWhenItMayGo(t *testing.T) {
	for _, c := range versionChanges {
		_, err := time.Parse(time.DateOnly, c.Added)
		assert.NoError(t, err, "%s: Added must be the day the fork was added, YYYY-MM-DD", c.ID)
		assert.NotEmpty(t, c.Guards, "%s: say what the fork guards", c.ID)
		assert.NotEmpty(t, c.RemovableAfter, "%s: say when it may go", c.ID)
	}
}

// The check itself catches both mistakes, on a workflow written for it.
func TestTheForkCheckCatchesUnlistedAndUnusedChangeIDs(t *testing.T) {
	const src = `package workflows
const invoiceFirst = "invoice-before-delivery"
func wf(ctx workflow.Context) {
	_ = workflow.GetVersion(ctx, invoiceFirst, workflow.DefaultVersion, 1)
	_ = workflow.GetVersion(ctx, "listed", workflow.DefaultVersion, 1)
	_ = workflow.GetVersion(ctx, idFromSomewhere(), workflow.DefaultVersion, 1)
}`
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "wf.go", src, 0)
	require.NoError(t, err)
	problems := forkProblems(fset, []*ast.File{file}, []versionChange{{ID: "listed"}, {ID: "removed-long-ago"}})
	require.Len(t, problems, 3, "%q", problems)
	assert.Contains(t, problems[0], `"invoice-before-delivery" is not listed`)
	assert.Contains(t, problems[1], "neither a string literal nor a const")
	assert.Contains(t, problems[2], `"removed-long-ago" is listed in versions.go but no workflow.GetVersion uses it`)
}

// forkProblems finds every workflow.GetVersion call in files and reports
// change ids missing from listed, ids it cannot read, and listed ids no
// call uses.
func forkProblems(fset *token.FileSet, files []*ast.File, listed []versionChange) []string {
	consts := map[string]string{}
	for _, f := range files {
		for _, decl := range f.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.CONST {
				continue
			}
			for _, spec := range gen.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						if s, ok := stringLiteral(vs.Values[i]); ok {
							consts[name.Name] = s
						}
					}
				}
			}
		}
	}
	var problems []string
	used := map[string]bool{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || !isGetVersion(call.Fun) || len(call.Args) < 2 {
				return true
			}
			at := fset.Position(call.Pos())
			id, ok := stringLiteral(call.Args[1])
			if ident, isIdent := call.Args[1].(*ast.Ident); !ok && isIdent {
				id, ok = consts[ident.Name]
			}
			switch {
			case !ok:
				problems = append(problems, at.String()+": the change id of workflow.GetVersion is neither a string literal nor a const of this package")
			case !slices.ContainsFunc(listed, func(c versionChange) bool { return c.ID == id }):
				problems = append(problems, at.String()+": change id "+strconv.Quote(id)+" is not listed in versions.go")
			}
			used[id] = true
			return true
		})
	}
	for _, c := range listed {
		if !used[c.ID] {
			problems = append(problems, "change id "+strconv.Quote(c.ID)+" is listed in versions.go but no workflow.GetVersion uses it")
		}
	}
	return problems
}

func isGetVersion(fun ast.Expr) bool {
	sel, ok := fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "GetVersion" {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "workflow"
}

func stringLiteral(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}
