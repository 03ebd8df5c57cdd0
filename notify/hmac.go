package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// SignatureHeader carries the HMAC-SHA256 signature of a signed webhook's body.
const SignatureHeader = "X-Tenantry-Signature"

// NewHMACWebhook returns a generic JSON webhook (see Webhook) that signs every request
// body with secret: SignatureHeader: "sha256=" + hex(HMAC-SHA256(secret, body)).
// Receivers verify the exact bytes received with VerifySignature.
func NewHMACWebhook(u string, secret []byte) *Webhook {
	w := NewWebhook(u)
	w.Secret = append([]byte(nil), secret...)
	return w
}

// Sign returns the SignatureHeader value for body: "sha256=<hex>".
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature reports, in constant time, whether header is the signature of body with secret.
func VerifySignature(secret, body []byte, header string) bool {
	got, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok {
		return false
	}
	sig, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(sig, mac.Sum(nil))
}
