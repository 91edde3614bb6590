package openapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/licenseflow/licenseflow/models"
)

// Schema is a JSON Schema (2020-12, the dialect of OpenAPI 3.1).
type Schema map[string]any

// schemas turns Go types into JSON Schemas the way encoding/json writes
// them: json tags name the properties, fields without omitempty are
// required, pointers may be null, and structs admit no other properties
// (so an answer that drifts from its type fails the response checks).
// Named struct types become components, referenced by name.
type schemas struct {
	components map[string]Schema
	names      map[reflect.Type]string
}

func newSchemas() *schemas {
	return &schemas{components: map[string]Schema{}, names: map[reflect.Type]string{}}
}

var (
	timeType       = reflect.TypeFor[time.Time]()
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	// enums lists the values of the string types that have a closed set.
	enums = map[reflect.Type][]string{
		reflect.TypeFor[models.LicenseStatus]():    stringsOf(models.LicenseStatuses),
		reflect.TypeFor[models.WebhookEventType](): stringsOf(models.WebhookEventTypes),
		reflect.TypeFor[models.DeliveryStatus]():   {string(models.DeliveryPending), string(models.DeliveryDelivered), string(models.DeliveryFailed)},
	}
	genericArgs = regexp.MustCompile(`\[.*\]`)
)

func stringsOf[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// of returns the schema of v's type.
func (s *schemas) of(v any) Schema { return s.schema(reflect.TypeOf(v)) }

func (s *schemas) schema(t reflect.Type) Schema {
	switch {
	case t == nil || t.Kind() == reflect.Interface:
		return Schema{}
	case t == timeType:
		return Schema{"type": "string", "format": "date-time"}
	case t == rawMessageType:
		return Schema{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(s.schema(t.Elem()))
	case reflect.String:
		if values, ok := enums[t]; ok {
			return Schema{"type": "string", "enum": values}
		}
		return Schema{"type": "string"}
	case reflect.Bool:
		return Schema{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return Schema{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return Schema{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return Schema{"type": "string", "contentEncoding": "base64"}
		}
		return Schema{"type": "array", "items": s.schema(t.Elem())}
	case reflect.Map:
		return Schema{"type": "object", "additionalProperties": s.schema(t.Elem())}
	case reflect.Struct:
		return s.component(t)
	}
	return Schema{}
}

// component registers a struct type under its name and refers to it.
func (s *schemas) component(t reflect.Type) Schema {
	if t.Name() == "" {
		return s.object(t)
	}
	name, ok := s.names[t]
	if !ok {
		name = componentName(t)
		s.names[t] = name
		s.components[name] = Schema{} // placeholder: types may refer to themselves
		s.components[name] = s.object(t)
	}
	return Schema{"$ref": "#/components/schemas/" + name}
}

// componentName is the type's name; a generic type is named after its
// arguments too (Page[api.LicenseView] is LicenseViewPage).
func componentName(t reflect.Type) string {
	name := t.Name()
	base := genericArgs.ReplaceAllString(name, "")
	if base == name {
		return name
	}
	arg := strings.TrimSuffix(strings.TrimPrefix(genericArgs.FindString(name), "["), "]")
	if i := strings.LastIndex(arg, "."); i >= 0 {
		arg = arg[i+1:]
	}
	return arg + base
}

// object is a struct's schema: its json properties, required unless
// omitempty, embedded structs flattened.
func (s *schemas) object(t reflect.Type) Schema {
	props := map[string]any{}
	var required []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				walk(f.Type)
				continue
			}
			if name == "" {
				name = f.Name
			}
			props[name] = s.schema(f.Type)
			if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
				required = append(required, name)
			}
		}
	}
	walk(t)
	out := Schema{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

// requiring is v's object schema with exactly the required fields given;
// a name that is no property of v is a mistake in the operations table.
func (s *schemas) requiring(v any, required []string) Schema {
	out := s.object(reflect.TypeOf(v))
	props := out["properties"].(map[string]any)
	for _, name := range required {
		if _, ok := props[name]; !ok {
			panic(fmt.Sprintf("openapi: %T has no property %q to require", v, name))
		}
	}
	delete(out, "required")
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

// nullable lets a schema be null too.
func nullable(s Schema) Schema {
	if typ, ok := s["type"].(string); ok && len(s) <= 3 && s["properties"] == nil {
		out := Schema{}
		for k, v := range s {
			out[k] = v
		}
		out["type"] = []string{typ, "null"}
		if enum, ok := out["enum"].([]string); ok {
			out["enum"] = append(append([]any{}, anySlice(enum)...), nil)
		}
		return out
	}
	return Schema{"oneOf": []any{s, Schema{"type": "null"}}}
}

func anySlice(values []string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}
