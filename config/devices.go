package config

// Device is one entry of the devices list: a name and exactly one bus section.
type Device struct {
	Name   string  `yaml:"name"`
	Vendor string  `yaml:"vendor,omitempty"` // for the identity document; discovered when empty
	Model  string  `yaml:"model,omitempty"`
	Modbus *Modbus `yaml:"modbus,omitempty"`
	OPCUA  *OPCUA  `yaml:"opcua,omitempty"`
	Serial *Serial `yaml:"serial,omitempty"`
	MQTT   *MQTT   `yaml:"mqtt,omitempty"`
}
