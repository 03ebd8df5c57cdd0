package notify

import (
	"context"
	"testing"
	"time"
)

func TestSignKnownVector(t *testing.T) {
	// HMAC-SHA256 of the classic pangram with key "key".
	const want = "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
	if got := Sign([]byte("key"), []byte("The quick brown fox jumps over the lazy dog")); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestHMACWebhookSignatureVerifies(t *testing.T) {
	c := newCapture(t, nil)
	w := NewHMACWebhook(c.srv.URL+"/hook", []byte(testHMACSecret))
	w.Backoff = time.Millisecond
	if err := w.Notify(context.Background(), driftEvent()); err != nil {
		t.Fatal(err)
	}
	body, header := c.body(0), c.headers[0].Get(SignatureHeader)
	tampered := append(append([]byte(nil), body...), ' ')
	tests := []struct {
		name   string
		secret string
		body   []byte
		header string
		want   bool
	}{
		{"right secret", testHMACSecret, body, header, true},
		{"wrong secret", "other-secret", body, header, false},
		{"tampered body", testHMACSecret, tampered, header, false},
		{"no prefix", testHMACSecret, body, header[len("sha256="):], false},
		{"not hex", testHMACSecret, body, "sha256=zz", false},
		{"empty", testHMACSecret, body, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifySignature([]byte(tt.secret), tt.body, tt.header); got != tt.want {
				t.Fatalf("VerifySignature = %v, want %v", got, tt.want)
			}
		})
	}
	if header != Sign([]byte(testHMACSecret), body) {
		t.Fatalf("header %q is not Sign(secret, body)", header)
	}
}
