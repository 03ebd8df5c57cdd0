package backup

import (
	"bytes"
	"strings"
	"testing"
)

func TestReadRefusesOtherFormats(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{name: "not JSON", in: "tar", want: "reading the backup"},
		{name: "other version", in: `{"version":"v0"}`, want: `version "v0"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Read(strings.NewReader(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %q", err, tc.want)
			}
		})
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	in := &File{Version: Version, Tenant: "t", Entries: []Entry{{Key: "/registry/a", Value: []byte{0, 1, 2}}}}
	if err := Write(&buf, in); err != nil {
		t.Fatal(err)
	}
	out, err := Read(&buf)
	if err != nil || out.Tenant != "t" || len(out.Entries) != 1 || !bytes.Equal(out.Entries[0].Value, []byte{0, 1, 2}) {
		t.Fatalf("round trip: %+v, %v", out, err)
	}
}
