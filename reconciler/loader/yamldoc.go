package loader

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"

	yaml "go.yaml.in/yaml/v3"
)

// singleDocument parses data as exactly one YAML document and returns its root node. It
// returns nil, after recording why, when there is nothing to check: a syntax error or
// no document. Extra documents are an error, but the first one is still returned.
func singleDocument(c *collector, data []byte, kind string) *yaml.Node {
	roots, err := decodeAll(data)
	if err != nil {
		line, msg := syntaxError(data, err)
		c.at(line, "", "invalid YAML: %s", msg)
		return nil
	}
	if len(roots) == 0 {
		c.at(0, "", "the file is empty: expected one %s", kind)
		return nil
	}
	if len(roots) > 1 {
		c.at(roots[1].Line, "", "a second YAML document starts here: the file must hold exactly one %s", kind)
	}
	return roots[0]
}

// decodeAll returns the root node of every non-empty document in data.
func decodeAll(data []byte) (roots []*yaml.Node, err error) {
	defer func() {
		// The YAML parser reports errors by panicking internally; never let a bad file
		// crash the agent if one escapes.
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: parser failure: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				return roots, nil
			}
			return roots, err
		}
		if len(doc.Content) > 0 && !isNull(doc.Content[0]) {
			roots = append(roots, doc.Content[0])
		}
	}
}

var syntaxErrorLine = regexp.MustCompile(`(?s)^yaml: (?:line (\d+): )?(.*)$`)

// syntaxError returns the line and message of a YAML parser error. The parser often
// reports the line where the enclosing block starts, or no line at all (for every error
// on the first line, for one), so the line is found by parsing ever longer prefixes of
// the file until the same error shows up; the parser's line is the fallback.
func syntaxError(data []byte, err error) (int, string) {
	m := syntaxErrorLine.FindStringSubmatch(err.Error())
	if m == nil {
		return 0, err.Error()
	}
	if line := lineOfError(data, m[2]); line > 0 {
		return line, m[2]
	}
	line, _ := strconv.Atoi(m[1])
	return line, m[2]
}

// lineOfError returns the first line at which a prefix of data fails with msg, or 0.
func lineOfError(data []byte, msg string) int {
	ends := lineEnds(data)
	failsWith := func(i int) bool {
		_, err := decodeAll(data[:ends[i]])
		m := syntaxErrorLine.FindStringSubmatch(fmt.Sprint(err))
		return err != nil && m != nil && m[2] == msg
	}
	i := sort.Search(len(ends), failsWith)
	if i == len(ends) {
		return 0
	}
	return i + 1
}

// lineEnds returns, for each line of data, the offset just past its end.
func lineEnds(data []byte) []int {
	var ends []int
	for i, b := range data {
		if b == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		ends = append(ends, len(data))
	}
	return ends
}
