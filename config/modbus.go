package config

// Modbus is the modbus section of a device. (Owned by the modbus adapter; fields to come.)
type Modbus struct {
	Points []struct{} `yaml:"points,omitempty"`
}
