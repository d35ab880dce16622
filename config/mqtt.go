package config

// MQTT is the mqtt section of a device. (Owned by the mqtt adapter; fields to come.)
type MQTT struct {
	Points []struct{} `yaml:"points,omitempty"`
}
