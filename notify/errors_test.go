package notify

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// providerSecrets are the credentials providerCases put into URLs and headers.
var providerSecrets = []string{"XXXXSECRET", testBotToken, "SIGSECRET", "DISCORDSECRET", "GCHATKEY", "GCHATSECRET",
	"WEBHOOKSECRET", "HMACPATH", testHMACSecret}

// TestNoCredentialInErrors makes every provider fail in every way and checks that no
// credential reaches the error, even when the server echoes the request back.
func TestNoCredentialInErrors(t *testing.T) {
	echo := func(status int) func(int, http.ResponseWriter, *http.Request, []byte) {
		return func(_ int, w http.ResponseWriter, r *http.Request, _ []byte) {
			w.WriteHeader(status)
			fmt.Fprintf(w, "bad request to %s with %s", r.URL.RequestURI(), r.Header.Get("Authorization"))
		}
	}
	failures := []struct {
		name    string
		respond func(int, http.ResponseWriter, *http.Request, []byte)
		closed  bool
		wantIn  string
	}{
		{name: "404 echoing the request", respond: echo(http.StatusNotFound), wantIn: "404"},
		{name: "500 echoing the request, retried", respond: echo(http.StatusInternalServerError), wantIn: "500"},
		{name: "connection refused", closed: true, wantIn: "posting to http://127.0.0.1"},
	}
	for _, pc := range providerCases() {
		for _, f := range failures {
			t.Run(pc.name+"/"+f.name, func(t *testing.T) {
				c := newCapture(t, f.respond)
				if f.closed {
					c.srv.Close()
				}
				n := pc.build(c.srv.URL)
				err := n.Notify(context.Background(), driftEvent())
				if err == nil {
					t.Fatal("no error")
				}
				if !strings.Contains(err.Error(), f.wantIn) {
					t.Errorf("error %q does not mention %q", err, f.wantIn)
				}
				assertNoSecrets(t, "error", err.Error(), providerSecrets...)
				assertNoSecrets(t, "provider printed", fmt.Sprintf("%v %+v", n, n), providerSecrets...)
			})
		}
	}
}

func TestNoCredentialInBadURLErrors(t *testing.T) {
	bad := "http://hooks.example.com/services/XXXXSECRET\x7f"
	for _, n := range []Notifier{NewSlack(bad), NewTeams(bad), NewDiscord(bad), NewGoogleChat(bad), NewWebhook(bad), NewHMACWebhook(bad, []byte("k"))} {
		err := n.Notify(context.Background(), driftEvent())
		if err == nil {
			t.Fatalf("%T: no error", n)
		}
		assertNoSecrets(t, fmt.Sprintf("%T error", n), err.Error(), "XXXXSECRET")
	}
}
