package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// MaxFileSize is the largest configuration file [Load] reads.
const MaxFileSize = 4 << 20

// Load reads the configuration file at path: defaults first ([Default]),
// then the file, strictly (unknown keys are errors), with ${NAME} replaced by
// environment variables, then [Config.Validate]. Relative paths in the file
// are made relative to the file's directory.
//
// On failure the error joins one *[FieldError] per problem, each formatted
// as "path/to/gateway.yaml:12:7: devices[2].modbus.unit: ..."; use
// [FieldErrors] to list them.
func Load(path string) (*Config, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg, d, err := parse(path, data, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg.resolve(dir)
	var errs []error
	for _, fe := range cfg.checkFiles() {
		fe.File = path
		fe.Line, fe.Column = d.where(fe.Path)
		errs = append(errs, fe)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfg, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, MaxFileSize)
	}
	return data, nil
}

// Parse is [Load] without the file system: name is used in error messages,
// lookupEnv resolves ${NAME} (os.LookupEnv in Load), and relative paths are
// left as written (Dir is empty).
func Parse(name string, data []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	cfg, _, err := parse(name, data, lookupEnv)
	return cfg, err
}

// parse is Parse, also returning the decoder (for positions of later checks).
func parse(name string, data []byte, lookupEnv func(string) (string, bool)) (*Config, *decoder, error) {
	if len(data) > MaxFileSize {
		return nil, nil, &FieldError{File: name, Msg: fmt.Sprintf("file is larger than %d bytes", MaxFileSize)}
	}
	root, err := parseYAML(name, data)
	if err != nil {
		return nil, nil, err
	}
	cfg := Default()
	d := newDecoder(name, lookupEnv)
	if root != nil {
		d.collectAnchors(root)
		d.decode(root, "", reflect.ValueOf(cfg).Elem())
	}
	cfg.finish(d)
	errs := d.errs
	for _, fe := range FieldErrors(cfg.Validate()) {
		if coveredBy(fe.Path, d.errs) {
			continue // the decoder already said what is wrong there
		}
		fe.File = name
		fe.Line, fe.Column = d.where(fe.Path)
		errs = append(errs, fe)
	}
	if len(errs) == 0 {
		return cfg, d, nil
	}
	slices.SortStableFunc(errs, func(a, b *FieldError) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
	joined := make([]error, len(errs))
	for i, e := range errs {
		joined[i] = e
	}
	return nil, nil, errors.Join(joined...)
}

// parseYAML parses one YAML document. It returns nil for an empty one.
func parseYAML(name string, data []byte) (root ast.Node, err error) {
	defer func() {
		if r := recover(); r != nil { // goccy/go-yaml must not take the gateway down
			root, err = nil, &FieldError{File: name, Msg: fmt.Sprintf("cannot parse YAML: %v", r)}
		}
	}()
	f, err := parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey()) // the decoder reports them with their path
	if err != nil {
		fe := &FieldError{File: name, Msg: err.Error()}
		var ye yaml.Error
		if errors.As(err, &ye) {
			fe.Msg = ye.GetMessage()
			if tk := ye.GetToken(); tk != nil && tk.Position != nil {
				fe.Line, fe.Column = tk.Position.Line, tk.Position.Column
			}
		}
		return nil, fe
	}
	var docs []ast.Node
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if _, comment := doc.Body.(*ast.CommentGroupNode); comment {
			continue
		}
		docs = append(docs, doc.Body)
	}
	switch len(docs) {
	case 0:
		return nil, nil
	case 1:
		return docs[0], nil
	}
	fe := &FieldError{File: name, Msg: "want one YAML document, found another here"}
	if p := nodePos(docs[1]); p != nil {
		fe.Line, fe.Column = p.Line, p.Column
	}
	return nil, fe
}

// coveredBy reports whether a problem at path is at or under the path of a
// decoding error (a wrong type there leaves the field at its default, which
// Validate would then misreport).
func coveredBy(path string, errs []*FieldError) bool {
	for _, e := range errs {
		if isUnder(path, e.Path) {
			return true
		}
	}
	return false
}

// where returns the position of path in the file, or that of its closest
// ancestor present in the file (a missing key is reported at its parent).
// Both are 0 when nothing is known.
func (d *decoder) where(path string) (line, col int) {
	for {
		if p, found := d.pos[path]; found {
			return p.Line, p.Column
		}
		if path == "" {
			return 0, 0
		}
		path = parentPath(path)
	}
}

// parentPath drops the last element of a field path: "a.b[2]" -> "a.b" -> "a".
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// present reports whether the file set the field at path.
func (d *decoder) present(path string) bool {
	_, ok := d.pos[path]
	return ok
}
