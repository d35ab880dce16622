package config

// Device is one entry of the devices list: a name and exactly one bus section.
//
// The name is how rules refer to the device ("pump1.temperature > 80"), so it
// must be an identifier (see [CheckIdent]); so must its point names.
type Device struct {
	Name   string  `yaml:"name"`
	Vendor string  `yaml:"vendor,omitempty"` // for the identity document; discovered when empty
	Model  string  `yaml:"model,omitempty"`
	Modbus *Modbus `yaml:"modbus,omitempty"`
	OPCUA  *OPCUA  `yaml:"opcua,omitempty"`
	Serial *Serial `yaml:"serial,omitempty"`
	MQTT   *MQTT   `yaml:"mqtt,omitempty"`
}

// Bus returns the key of the device's bus section ("modbus", "opcua",
// "serial" or "mqtt"), or "" if none is set.
func (d *Device) Bus() string {
	switch {
	case d.Modbus != nil:
		return "modbus"
	case d.OPCUA != nil:
		return "opcua"
	case d.Serial != nil:
		return "serial"
	case d.MQTT != nil:
		return "mqtt"
	}
	return ""
}

// Validate reports every problem of the device at path (devices[i]): its
// name, that exactly one bus section is given, and the section's own checks.
func (d *Device) Validate(path string) (errs []error) {
	if err := CheckIdent(path+".name", d.Name); err != nil {
		errs = append(errs, err)
	}
	var set []string
	if d.Modbus != nil {
		set = append(set, "modbus")
		errs = append(errs, d.Modbus.Validate(path+".modbus")...)
	}
	if d.OPCUA != nil {
		set = append(set, "opcua")
		errs = append(errs, d.OPCUA.Validate(path+".opcua")...)
	}
	if d.Serial != nil {
		set = append(set, "serial")
		errs = append(errs, d.Serial.Validate(path+".serial")...)
	}
	if d.MQTT != nil {
		set = append(set, "mqtt")
		errs = append(errs, d.MQTT.Validate(path+".mqtt")...)
	}
	switch len(set) {
	case 0:
		errs = append(errs, Errorf(path, "give one bus section: modbus, opcua, serial or mqtt"))
	case 1:
	default:
		errs = append(errs, Errorf(path+"."+set[1], "a device has one bus section, this one already has %s", set[0]))
	}
	return errs
}
