// Package docsite checks licenseflow's documentation as a reader meets it:
// README.md is the front door, every document under docs/ is one click from
// it, every relative link lands on a file and heading that exist, and the
// README's package map is the true map of the code.
package docsite

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The repository root, seen from this package.
var root = ".."

const module = "github.com/licenseflow/licenseflow"

// page is one markdown file: the anchors its headings make and the links it
// holds, both outside code.
type page struct {
	path    string // relative to the root
	anchors map[string]bool
	links   []link
	lines   []string
}

type link struct {
	line   int
	target string
}

var (
	// [text](target) and ![alt](target), with an optional "title".
	linkPattern = regexp.MustCompile(`!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	codeSpan    = regexp.MustCompile("`[^`]*`")
	headingLine = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
)

func readPage(t *testing.T, path string) page {
	t.Helper()
	f, err := os.Open(filepath.Join(root, path))
	require.NoError(t, err)
	defer f.Close()
	p := page{path: path, anchors: map[string]bool{}}
	seen := map[string]int{}
	fence := ""
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; scanner.Scan(); n++ {
		line := scanner.Text()
		p.lines = append(p.lines, line)
		trimmed := strings.TrimSpace(line)
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fence = trimmed[:3]
			continue
		}
		if m := headingLine.FindStringSubmatch(line); m != nil {
			slug := anchor(m[1])
			if k := seen[slug]; k > 0 {
				p.anchors[fmt.Sprintf("%s-%d", slug, k)] = true
			} else {
				p.anchors[slug] = true
			}
			seen[slug]++
		}
		for _, m := range linkPattern.FindAllStringSubmatch(codeSpan.ReplaceAllString(line, ""), -1) {
			p.links = append(p.links, link{line: n, target: m[1]})
		}
	}
	require.NoError(t, scanner.Err())
	return p
}

// anchor is the id GitHub gives a heading: its text without markup, lower
// case, punctuation dropped, spaces turned into hyphens.
func anchor(heading string) string {
	heading = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`).ReplaceAllString(heading, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

// pages are the README and every document under docs/.
func pages(t *testing.T) []page {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	require.NoError(t, err)
	require.NotEmpty(t, docs)
	out := []page{readPage(t, "README.md")}
	for _, d := range docs {
		rel, err := filepath.Rel(root, d)
		require.NoError(t, err)
		out = append(out, readPage(t, rel))
	}
	return out
}

// relative says whether a link target is inside the repository.
func relative(target string) bool {
	return !strings.Contains(target, "://") && !strings.HasPrefix(target, "mailto:")
}

// resolve turns a relative link of p into the root-relative file and the
// anchor it names; the file is p's own for "#anchor".
func resolve(p page, target string) (file, frag string) {
	file, frag, _ = strings.Cut(target, "#")
	if file == "" {
		return p.path, frag
	}
	return filepath.Clean(filepath.Join(filepath.Dir(p.path), file)), frag
}

func TestRelativeLinksResolve(t *testing.T) {
	loaded := map[string]page{}
	for _, p := range pages(t) {
		loaded[p.path] = p
	}
	checked := 0
	for _, p := range loaded {
		for _, l := range p.links {
			if !relative(l.target) {
				continue
			}
			checked++
			file, frag := resolve(p, l.target)
			where := fmt.Sprintf("%s:%d: link %s", p.path, l.line, l.target)
			if _, err := os.Stat(filepath.Join(root, file)); err != nil {
				t.Errorf("%s: %s does not exist", where, file)
				continue
			}
			if frag == "" {
				continue
			}
			if !strings.HasSuffix(file, ".md") {
				t.Errorf("%s: an anchor into %s, which is no markdown file", where, file)
				continue
			}
			target, ok := loaded[file]
			if !ok {
				target = readPage(t, file)
				loaded[file] = target
			}
			if !target.anchors[frag] {
				t.Errorf("%s: %s has no heading whose anchor is #%s", where, file, frag)
			}
		}
	}
	assert.Greater(t, checked, 50, "the documents link to each other")
}

// Every document under docs/ is one click from the README.
func TestEveryDocumentIsLinkedFromTheReadme(t *testing.T) {
	all := pages(t)
	readme := all[0]
	linked := map[string]bool{}
	for _, l := range readme.links {
		if relative(l.target) {
			file, _ := resolve(readme, l.target)
			linked[file] = true
		}
	}
	for _, p := range all[1:] {
		assert.True(t, linked[p.path], "README.md does not link to %s", p.path)
	}
}

// row is one line of the package map.
type row struct {
	folder    string
	mayImport []string
}

var backticked = regexp.MustCompile("^`([^`]+)`$")

// packageMap reads the README's table `Folder | Role | May import`.
func packageMap(t *testing.T) []row {
	t.Helper()
	lines := readPage(t, "README.md").lines
	start := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "| Folder | Role | May import |") })
	require.GreaterOrEqual(t, start, 0, "README.md has no package map (a table | Folder | Role | May import |)")
	var rows []row
	for _, line := range lines[start+2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		require.Len(t, cells, 3, "package map row %q", line)
		folder := backticked.FindStringSubmatch(strings.TrimSpace(cells[0]))
		require.NotNil(t, folder, "package map row %q: the folder is one `name`", line)
		r := row{folder: folder[1]}
		if imports := strings.TrimSpace(cells[2]); imports != "—" {
			for _, name := range strings.Split(imports, ",") {
				m := backticked.FindStringSubmatch(strings.TrimSpace(name))
				require.NotNil(t, m, "package map row %q: may import is `name`, `name` or —", line)
				r.mayImport = append(r.mayImport, m[1])
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// goPackage is one package as go list sees it, its imports narrowed to the
// project's own packages.
type goPackage struct {
	folder string
	// imports are the module's packages it imports (as folders), external
	// the rest (standard library and dependencies).
	imports  []string
	external []string
}

func goPackages(t *testing.T) []goPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}} {{len .GoFiles}} {{join .Imports \",\"}} {{join .TestImports \",\"}},{{join .XTestImports \",\"}}", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	require.NoError(t, err, "go list ./...")
	folderOf := func(path string) (string, bool) {
		if path == module {
			return ".", true
		}
		rest, ok := strings.CutPrefix(path, module+"/")
		return rest, ok
	}
	var pkgs []goPackage
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Split(line, " ")
		require.Len(t, fields, 4, "go list line %q", line)
		folder, _ := folderOf(fields[0])
		imports := fields[2]
		if fields[1] == "0" { // only tests: they are what the package imports
			imports = fields[3]
		}
		p := goPackage{folder: folder}
		for _, imp := range strings.Split(imports, ",") {
			f, ok := folderOf(imp)
			switch {
			case !ok:
				p.external = append(p.external, imp)
			case f != folder && !slices.Contains(p.imports, f):
				p.imports = append(p.imports, f)
			}
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestThePackageMapIsTrue(t *testing.T) {
	rows := packageMap(t)
	mapped := map[string]row{}
	for _, r := range rows {
		assert.NotContains(t, mapped, r.folder, "the package map lists %s twice", r.folder)
		mapped[r.folder] = r
	}
	pkgs := goPackages(t)
	exists := map[string]bool{}
	for _, p := range pkgs {
		exists[p.folder] = true
	}
	for _, r := range rows {
		assert.True(t, exists[r.folder], "the package map lists %s, which is no Go package", r.folder)
		for _, name := range r.mayImport {
			assert.True(t, exists[name], "the package map lets %s import %s, which is no Go package", r.folder, name)
		}
	}
	for _, p := range pkgs {
		r, ok := mapped[p.folder]
		if !assert.True(t, ok, "the package map has no row for %s", p.folder) {
			continue
		}
		for _, imp := range p.imports {
			if slices.Contains(r.mayImport, imp) {
				continue
			}
			t.Errorf("%s imports %s, which its row in the README's package map does not list", p.folder, imp)
		}
	}
}

// TestTheHTTPSideReachesTemporalOnlyThroughLifecycle: handlers send typed
// messages through lifecycle, which alone speaks Temporal and turns its
// errors into licenseflow's; an HTTP package importing the SDK would let
// Temporal's types leak past the door (the map above already keeps
// workflows and activities out of their rows).
func TestTheHTTPSideReachesTemporalOnlyThroughLifecycle(t *testing.T) {
	rooms := []string{"api", "siteapi", "paymenthooks", "web", "httpx"}
	seen := 0
	for _, p := range goPackages(t) {
		if !slices.Contains(rooms, p.folder) {
			continue
		}
		seen++
		for _, imp := range p.external {
			assert.False(t, strings.HasPrefix(imp, "go.temporal.io/"), "%s imports %s: go through lifecycle", p.folder, imp)
		}
	}
	assert.Equal(t, len(rooms), seen, "an HTTP package is gone: update this test and the package map")
}
