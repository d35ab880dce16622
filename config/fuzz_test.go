package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary files to Parse: it must return a valid config or
// errors that each carry a message, and never panic.
func FuzzLoad(f *testing.F) {
	f.Add(Example())
	for _, pattern := range []string{"testdata/good/*.yaml", "testdata/bad/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("pow: {<<: [{threads: 1}, {threads: 2}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data, testEnv)
		if err != nil {
			if cfg != nil {
				t.Fatal("config returned with an error")
			}
			fes := FieldErrors(err)
			if len(fes) == 0 {
				t.Fatalf("error without *FieldError: %v", err)
			}
			for _, fe := range fes {
				if fe.Msg == "" || fe.File != "fuzz.yaml" {
					t.Fatalf("incomplete error %#v", fe)
				}
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Parse accepted a config that Validate rejects: %v", err)
		}
	})
}
