package config

import (
	"os"
	"testing"
)

func TestZZPackaging(t *testing.T) {
	data, err := os.ReadFile("../packaging/gateway.yaml")
	if err != nil {
		t.Skip(err)
	}
	if _, err := Parse("packaging/gateway.yaml", data, testEnv); err != nil {
		t.Fatal(err)
	}
}
