package payloadcodec_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/licenseflow/licenseflow/payloadcodec"
	"github.com/licenseflow/licenseflow/sealing"
)

const (
	oldKey = "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	newKey = "k2:ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="
)

func keyring(t *testing.T, spec string) *sealing.Keyring {
	t.Helper()
	k, err := sealing.Parse(spec)
	require.NoError(t, err)
	return k
}

type order struct {
	Email string
	DLID  string
}

var secret = order{Email: "alice@customer.example", DLID: "7f21b9ff979fce861bb482a1bc3e753f"}

func TestPayloadsAreUnreadableWithoutTheKey(t *testing.T) {
	dc := payloadcodec.DataConverter(keyring(t, oldKey))
	p, err := dc.ToPayload(secret)
	require.NoError(t, err)
	assert.NotContains(t, string(p.Data), "alice@customer.example")
	assert.NotContains(t, string(p.Data), secret.DLID)
	for k, v := range p.Metadata {
		assert.NotContains(t, string(v), "alice", k)
	}
	id, err := payloadcodec.KeyID(p)
	require.NoError(t, err)
	assert.Equal(t, "k1", id)

	var back order
	require.NoError(t, dc.FromPayload(p, &back))
	assert.Equal(t, secret, back)

	// Another installation's key does not open it.
	other := payloadcodec.DataConverter(keyring(t, "k1:ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="))
	assert.Error(t, other.FromPayload(p, &back))
}

func TestPayloadsSealedUnderARetiredKeyOpenAfterRotation(t *testing.T) {
	before, err := payloadcodec.DataConverter(keyring(t, oldKey)).ToPayload(secret)
	require.NoError(t, err)

	rotated := payloadcodec.DataConverter(keyring(t, newKey+","+oldKey))
	var back order
	require.NoError(t, rotated.FromPayload(before, &back))
	assert.Equal(t, secret, back)
	after, err := rotated.ToPayload(secret)
	require.NoError(t, err)
	id, err := payloadcodec.KeyID(after)
	require.NoError(t, err)
	assert.Equal(t, "k2", id, "the first key of the ring seals")
}

func TestUnencryptedPayloadsStillDecode(t *testing.T) {
	plain, err := converter.GetDefaultDataConverter().ToPayload(secret)
	require.NoError(t, err)
	_, err = payloadcodec.KeyID(plain)
	assert.ErrorIs(t, err, payloadcodec.ErrNotEncrypted)
	var back order
	require.NoError(t, payloadcodec.DataConverter(keyring(t, oldKey)).FromPayload(plain, &back))
	assert.Equal(t, secret, back)
}

func TestFailuresAreEncryptedToo(t *testing.T) {
	fc := payloadcodec.FailureConverter(keyring(t, oldKey))
	f := fc.ErrorToFailure(temporal.NewApplicationError("webhook https://crm.example/hook?token=s3cr3t for alice@customer.example failed", "delivery"))
	raw, err := f.Marshal()
	require.NoError(t, err)
	for _, s := range []string{"s3cr3t", "alice@customer.example", "crm.example"} {
		assert.False(t, bytes.Contains(raw, []byte(s)), "failure holds %q in clear", s)
	}
	back := fc.FailureToError(f)
	assert.Contains(t, back.Error(), "alice@customer.example", "the worker reads the failure back")
	var app *temporal.ApplicationError
	assert.True(t, errors.As(back, &app))
}

func TestCorruptPayloadIsAnErrorNotAPanic(t *testing.T) {
	codec := payloadcodec.New(keyring(t, oldKey))
	p, err := converter.GetDefaultDataConverter().ToPayload(secret)
	require.NoError(t, err)
	enc, err := codec.Encode(ptrs(p))
	require.NoError(t, err)
	enc[0].Data[len(enc[0].Data)-1] ^= 1
	_, err = codec.Decode(enc)
	assert.Error(t, err)
	enc[0].Data = enc[0].Data[:3]
	_, err = codec.Decode(enc)
	assert.Error(t, err)
}

func ptrs(p ...*commonpb.Payload) []*commonpb.Payload { return p }
