package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadReportsMissingSecretFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := "helpers:\n  - { name: fence, channel: { root: " + strings.Repeat("A", 81) + ", side_key_file: keys/t.key } }\n" +
		"mqtt:\n  broker: tcp://127.0.0.1:1883\n  username: gw\n  password_file: /nonexistent/north.pass\n"
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	var got []string
	for _, fe := range FieldErrors(err) {
		got = append(got, fe.Error())
	}
	want := []string{
		path + ":2:135: helpers[0].channel.side_key_file: file " + filepath.Join(dir, "keys/t.key") + " does not exist (create it, or remove the setting)",
		path + ":6:18: mqtt.password_file: file /nonexistent/north.pass does not exist (create it, or remove the setting)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Once the files exist the configuration loads; files the gateway creates need not exist.
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{filepath.Join(dir, "keys/t.key")} {
		if err := os.WriteFile(f, []byte("KEY"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	src = strings.Replace(src, "/nonexistent/north.pass", "keys/t.key", 1) + "identity: { seed_file: not/yet/seed }\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Fatal(err)
	}
}
