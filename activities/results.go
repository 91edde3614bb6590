package activities

import (
	"bytes"
	"encoding/json"
)

// decodeEarlierShape reads an activity result that earlier workers returned
// bare (a list, a number) into bare, and today's object into full. Workflow
// histories keep results as they were recorded, and replaying an old
// history decodes them with today's types.
func decodeEarlierShape(b []byte, bare, full any) error {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] != '{' && !bytes.Equal(t, []byte("null")) {
		return json.Unmarshal(t, bare)
	}
	return json.Unmarshal(b, full)
}
