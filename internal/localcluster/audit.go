package localcluster

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
`

func (c *Cluster) auditArgs() ([]string, error) {
	policy := c.path("audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		return nil, fmt.Errorf("writing the audit policy: %w", err)
	}
	c.AuditLogPath = c.path("audit.log")
	return []string{"--audit-policy-file=" + policy, "--audit-log-path=" + c.AuditLogPath,
		"--audit-log-mode=blocking", "--audit-log-maxsize=0"}, nil
}

// auditEvent is the part of an audit.k8s.io/v1 Event that MutatingRequests reads.
type auditEvent struct {
	Stage      string `json:"stage"`
	Verb       string `json:"verb"`
	RequestURI string `json:"requestURI"`
	User       struct {
		Username string `json:"username"`
	} `json:"user"`
}

// MutatingRequests counts the completed create, update, patch and delete requests that
// user made and that were not dry-runs, from the audit log (Options.AuditLog).
func (c *Cluster) MutatingRequests(user string) (int, error) {
	f, err := os.Open(c.AuditLogPath)
	if err != nil {
		return 0, fmt.Errorf("opening the audit log: %w", err)
	}
	defer func() { _ = f.Close() }()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e auditEvent
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Stage != "ResponseComplete" || e.User.Username != user {
			continue
		}
		switch e.Verb {
		case "create", "update", "patch", "delete", "deletecollection":
			if !strings.Contains(e.RequestURI, "dryRun=") {
				n++
			}
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("reading the audit log: %w", err)
	}
	return n, nil
}
