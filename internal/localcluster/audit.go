package localcluster

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
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
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
}

// AuditCount is how many completed requests one user made with one verb on one resource.
type AuditCount struct {
	User, Verb, Resource string // Resource is "resource[/subresource]", or the path for non-resource requests
	DryRun               bool
	N                    int
}

// AuditCounts counts the completed requests in the audit log (Options.AuditLog) from byte
// offset from on, by user, verb and resource, most first; end is the offset it read up to,
// the from of the next call.
func (c *Cluster) AuditCounts(from int64) (counts []AuditCount, end int64, err error) {
	f, err := os.Open(c.AuditLogPath)
	if err != nil {
		return nil, from, fmt.Errorf("opening the audit log: %w", err)
	}
	defer func() { _ = f.Close() }()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return nil, from, fmt.Errorf("reading the audit log: %w", err)
	}
	byKey := map[AuditCount]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	end = from
	for sc.Scan() {
		end += int64(len(sc.Bytes())) + 1
		var e auditEvent
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Stage != "ResponseComplete" {
			continue
		}
		k := AuditCount{User: e.User.Username, Verb: e.Verb, DryRun: strings.Contains(e.RequestURI, "dryRun=")}
		switch {
		case e.ObjectRef == nil:
			k.Resource, _, _ = strings.Cut(e.RequestURI, "?")
		case e.ObjectRef.Subresource != "":
			k.Resource = e.ObjectRef.Resource + "/" + e.ObjectRef.Subresource
		default:
			k.Resource = e.ObjectRef.Resource
		}
		byKey[k]++
	}
	if err := sc.Err(); err != nil {
		return nil, end, fmt.Errorf("reading the audit log: %w", err)
	}
	for k, n := range byKey {
		k.N = n
		counts = append(counts, k)
	}
	sort.Slice(counts, func(i, j int) bool {
		if counts[i].N != counts[j].N {
			return counts[i].N > counts[j].N
		}
		return fmt.Sprint(counts[i]) < fmt.Sprint(counts[j])
	})
	return counts, end, nil
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
