package source

import (
	"errors"
	"testing"
)

func TestSafeTreePath(t *testing.T) {
	tests := []struct {
		path string
		ok   bool
	}{
		{"tenants/team-a.yaml", true},
		{"defaults.yaml", true},
		{"policies/.hidden.yaml", true},
		{"../escape", false},
		{"tenants/../../escape", false},
		{".git/config", false},
		{"sub/.GIT/hooks/post-checkout", false},
		{"a//b", false},
		{"./a", false},
		{`a\..\b`, false},
	}
	for _, tt := range tests {
		err := safeTreePath(tt.path)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, errUnsafePath)) {
			t.Errorf("safeTreePath(%q) = %v, want ok %v", tt.path, err, tt.ok)
		}
	}
}
