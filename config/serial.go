package config

// Serial is the serial section of a device. (Owned by the serial adapter; fields to come.)
type Serial struct {
	Points []struct{} `yaml:"points,omitempty"`
}
