package app

import (
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/licenseflow/licenseflow/httpx"
	"github.com/licenseflow/licenseflow/payloadcodec"
)

// maxCodecRequest bounds one codec request: the Web UI sends the payloads
// of one history event at a time.
const maxCodecRequest = 4 << 20

// codecHandler answers Temporal's codec-server protocol: POST …/encode or
// …/decode with {"payloads":[{"metadata":{…},"data":"<base64>"}]}, the
// payloads encrypted or decrypted in the same shape. web mounts it behind
// the operator check.
func codecHandler(codec *payloadcodec.Codec) gin.HandlerFunc {
	return func(c *gin.Context) {
		transform := codec.Decode
		if strings.HasSuffix(c.Request.URL.Path, "/encode") {
			transform = codec.Encode
		}
		body, err := io.ReadAll(io.LimitReader(c.Request.Body, maxCodecRequest+1))
		if err != nil || len(body) > maxCodecRequest {
			httpx.Fail(c, httpx.NewError(http.StatusRequestEntityTooLarge, "body_too_large", "", "a codec request holds at most 4 MiB of payloads"))
			return
		}
		var in commonpb.Payloads
		if err := protojson.Unmarshal(body, &in); err != nil {
			httpx.Fail(c, httpx.Invalid("invalid_payloads", "payloads", `send {"payloads":[{"metadata":{…},"data":"<base64>"}]}`))
			return
		}
		out, err := transform(in.GetPayloads())
		if err != nil {
			httpx.Fail(c, httpx.NewError(http.StatusUnprocessableEntity, "payload_not_decodable", "", err.Error()))
			return
		}
		answer, err := protojson.Marshal(&commonpb.Payloads{Payloads: out})
		if err != nil {
			httpx.Fail(c, err)
			return
		}
		c.Data(http.StatusOK, "application/json", answer)
	}
}
