package config

import (
	"fmt"
	"os"
	"reflect"
	"strings"
)

// createdFiles are file settings the gateway creates itself at first start;
// they need not exist beforehand.
var createdFiles = map[string]bool{"api_token_file": true, "seed_file": true}

// FileRef is a file the configuration refers to (a secret, a certificate).
type FileRef struct {
	Path string // field path, e.g. "helpers[0].channel.side_key_file"
	File string // the file name as resolved
}

// Files lists every file setting that must exist before the gateway starts
// (secrets, side keys, certificates), with its field path. Settings the
// gateway creates itself (api_token_file, seed_file) are not listed.
func (c *Config) Files() []FileRef {
	var out []FileRef
	walkFiles(reflect.ValueOf(c).Elem(), "", &out)
	return out
}

func walkFiles(v reflect.Value, path string, out *[]FileRef) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			walkFiles(v.Elem(), path, out)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			walkFiles(v.Index(i), fmt.Sprintf("%s[%d]", path, i), out)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" || !f.IsExported() {
				continue
			}
			p := joinPath(path, name)
			fv := v.Field(i)
			if fv.Kind() == reflect.String && strings.HasSuffix(name, "_file") {
				if s := fv.String(); s != "" && !createdFiles[name] {
					*out = append(*out, FileRef{Path: p, File: s})
				}
				continue
			}
			walkFiles(fv, p, out)
		}
	}
}

// checkFiles reports every file setting whose file cannot be read.
func (c *Config) checkFiles() []*FieldError {
	var errs []*FieldError
	for _, f := range c.Files() {
		f.File = c.Abs(f.File)
		fh, err := os.Open(f.File)
		if err != nil {
			msg := fmt.Sprintf("cannot read %s: %v", f.File, err)
			if os.IsNotExist(err) {
				msg = fmt.Sprintf("file %s does not exist (create it, or remove the setting)", f.File)
			}
			errs = append(errs, &FieldError{Path: f.Path, Msg: msg})
			continue
		}
		fh.Close()
	}
	return errs
}
