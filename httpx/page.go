package httpx

// Page is a page of a list; NextCursor fetches the next one.
type Page[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor,omitempty"`
}
