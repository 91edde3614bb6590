// Package payloadcodec encrypts every payload licenseflow hands to Temporal
// (workflow and activity inputs and results, signals, updates, queries,
// memos and failures) with AES-GCM under the sealing keyring, so the
// Temporal database, its archive, the Web UI and the CLI hold ciphertext;
// only a process holding LICENSEFLOW_SECRET_KEYS (the worker, the API and
// the codec endpoint the Web UI asks) reads them. Search attributes are
// not payloads of the codec and stay searchable.
package payloadcodec

import (
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"github.com/licenseflow/licenseflow/sealing"
)

const (
	// purpose binds sealed payloads to their use: a sealed webhook secret
	// never opens as a payload, nor a payload as anything else.
	purpose = "temporal payload"
	// Encoding marks an encrypted payload; a payload without it (written
	// before encryption was on) passes through unchanged.
	Encoding = "binary/encrypted"
	// metadataKeyID names the key a payload was sealed under, so keys rotate:
	// the current key seals, every key in the ring opens.
	metadataKeyID = "encryption-key-id"
)

// Codec is the Temporal PayloadCodec over a keyring.
type Codec struct {
	keys *sealing.Keyring
}

// New returns the codec sealing under keys' current key.
func New(keys *sealing.Keyring) *Codec { return &Codec{keys: keys} }

// Encode seals each whole payload (metadata and data) into a new one.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encrypt payload: %w", err)
		}
		id, sealed, err := c.keys.Seal(purpose, plain)
		if err != nil {
			return nil, fmt.Errorf("encrypt payload: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{converter.MetadataEncoding: []byte(Encoding), metadataKeyID: []byte(id)},
			Data:     sealed,
		}
	}
	return out, nil
}

// Decode opens encrypted payloads and passes every other one through, so
// histories written before encryption still replay and read.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != Encoding {
			out[i] = p
			continue
		}
		plain, err := c.keys.Open(purpose, string(p.GetMetadata()[metadataKeyID]), p.GetData())
		if err != nil {
			return nil, fmt.Errorf("decrypt payload: %w", err)
		}
		decoded := &commonpb.Payload{}
		if err := proto.Unmarshal(plain, decoded); err != nil {
			return nil, fmt.Errorf("decrypt payload: %w", err)
		}
		out[i] = decoded
	}
	return out, nil
}

// DataConverter is Temporal's default converter with payloads encrypted.
func DataConverter(keys *sealing.Keyring) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), New(keys))
}

// FailureConverter encrypts failures too: their message and stack trace
// move into an encrypted payload (Temporal's "encoded attributes"), so an
// error naming an address or a URL is no more readable than an input.
func FailureConverter(keys *sealing.Keyring) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter: DataConverter(keys), EncodeCommonAttributes: true,
	})
}

// Install sets the encrypting converters on client options; every client
// (and so every worker built on one) of licenseflow is made through it.
func Install(opts *client.Options, keys *sealing.Keyring) {
	opts.DataConverter = DataConverter(keys)
	opts.FailureConverter = FailureConverter(keys)
}

// ErrNotEncrypted is returned by KeyID for a payload left in clear.
var ErrNotEncrypted = errors.New("payload is not encrypted")

// KeyID returns the id of the key a payload was sealed under, so a test or
// a rotation can tell which key still holds history.
func KeyID(p *commonpb.Payload) (string, error) {
	if string(p.GetMetadata()[converter.MetadataEncoding]) != Encoding {
		return "", ErrNotEncrypted
	}
	return string(p.GetMetadata()[metadataKeyID]), nil
}
