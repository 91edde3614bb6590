package config

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// The repository root, seen from this package.
var root = filepath.Join("..", "..", "..")

type composeFile struct {
	Services map[string]struct {
		Image       string         `yaml:"image"`
		Build       any            `yaml:"build"`
		Command     []string       `yaml:"command"`
		Environment map[string]any `yaml:"environment"`
		Ports       []string       `yaml:"ports"`
		DependsOn   any            `yaml:"depends_on"`
		Healthcheck map[string]any `yaml:"healthcheck"`
	} `yaml:"services"`
}

func loadCompose(t *testing.T) composeFile {
	raw, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	require.NoError(t, err)
	var c composeFile
	require.NoError(t, yaml.Unmarshal(raw, &c))
	return c
}

// docker-compose.yml cannot be run here (no Docker engine), so its shape is
// checked: the services of a production layout, their ports, and that
// licenseflow's containers are configured only with variables it reads.
func TestComposeFileHasTheProductionLayout(t *testing.T) {
	c := loadCompose(t)
	for _, name := range []string{"postgres", "temporal", "temporal-ui", "mailpit", "migrate", "api", "worker"} {
		require.Contains(t, c.Services, name)
	}
	ports := map[string]string{"api": "8080:8080", "temporal-ui": "8233:8080", "temporal": "7233:7233", "mailpit": "8025:8025"}
	for svc, port := range ports {
		assert.Contains(t, c.Services[svc].Ports, port, svc)
	}
	assert.NotEmpty(t, c.Services["postgres"].Healthcheck, "others wait for a healthy database")
	assert.Equal(t, "postgres12", c.Services["temporal"].Environment["DB"], "Temporal is PostgreSQL-backed")

	known := map[string]bool{}
	for _, v := range Vars {
		known[v.Name] = true
	}
	// Secrets compose takes from the operator's environment, never from the
	// file, and what the test gives for them.
	required := map[string]string{
		"LICENSEFLOW_SECRET_KEYS": "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"LICENSEFLOW_ADMIN_TOKEN": "lft_an-operator-chosen-secret",
	}
	for _, name := range []string{"migrate", "api", "worker"} {
		svc := c.Services[name]
		for k := range required {
			v, _ := svc.Environment[k].(string)
			assert.True(t, strings.HasPrefix(v, "${"+k+":?"), "%s takes %s from the environment, or refuses to start", name, k)
		}
		assert.NotNil(t, svc.Build, "%s is built from this repository", name)
		assert.Equal(t, []string{name}, svc.Command, "%s runs `licenseflow %s`", name, name)
		for key := range svc.Environment {
			assert.True(t, known[key], "%s sets %s, which licenseflow does not read", name, key)
		}
		env := func(k string) string {
			v, _ := svc.Environment[k].(string)
			if strings.HasPrefix(v, "${"+k+":?") {
				return required[k] // compose refuses to start without it
			}
			return v
		}
		cfg, err := Load(env, Role(name))
		require.NoError(t, err, "%s's environment must be valid configuration", name)
		db, err := url.Parse(cfg.DatabaseURL)
		require.NoError(t, err)
		assert.Equal(t, "postgres", db.Scheme, "%s uses PostgreSQL", name)
		assert.Contains(t, c.Services, db.Hostname(), "%s's DATABASE_URL names a compose service", name)
		assert.Contains(t, c.Services, strings.Split(cfg.Temporal.Address, ":")[0], "%s's TEMPORAL_ADDRESS names a compose service", name)
		assert.Contains(t, c.Services, cfg.SMTP.Host, "%s mails through the catcher", name)
		for dep := range dependsOn(svc.DependsOn) {
			assert.Contains(t, c.Services, dep, "%s depends on an existing service", name)
		}
	}
}

func dependsOn(v any) map[string]bool {
	out := map[string]bool{}
	switch d := v.(type) {
	case []any:
		for _, s := range d {
			out[s.(string)] = true
		}
	case map[string]any:
		for s := range d {
			out[s] = true
		}
	}
	return out
}

func TestProductionImageLeavesOutTheEmbeddedServer(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	require.NoError(t, err)
	assert.Contains(t, string(raw), "-tags nodev")
}

// The configuration table of docs/configuration.md and its list of what
// each production command requires are made from Vars;
// LICENSEFLOW_UPDATE_DOCS=1 rewrites them.
func TestConfigurationDocIsMadeFromVars(t *testing.T) {
	path := filepath.Join(root, "docs", "configuration.md")
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	doc := string(raw)
	for _, part := range []struct{ start, text string }{{TableStart, Table()}, {RequirementsStart, Requirements()}} {
		i := strings.Index(doc, part.start)
		require.GreaterOrEqual(t, i, 0, "docs/configuration.md lacks the marker %s", part.start)
		j := strings.Index(doc[i:], GeneratedEnd)
		require.GreaterOrEqual(t, j, 0, "docs/configuration.md lacks %s after %s", GeneratedEnd, part.start)
		current := doc[i+len(part.start) : i+j]
		want := "\n" + part.text
		if current != want && os.Getenv("LICENSEFLOW_UPDATE_DOCS") == "1" {
			doc = doc[:i+len(part.start)] + want + doc[i+j:]
			require.NoError(t, os.WriteFile(path, []byte(doc), 0o644))
			continue
		}
		assert.Equal(t, want, current, "docs/configuration.md text after %s is out of date: LICENSEFLOW_UPDATE_DOCS=1 go test ./cmd/licenseflow/config", part.start)
	}
}
