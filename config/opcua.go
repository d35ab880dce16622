package config

import (
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// OPCUA is the opcua section of a device: one OPC UA server and the points
// read from it.
//
//	opcua:
//	  endpoint: opc.tcp://10.0.3.60:4840
//	  security: { policy: Basic256Sha256, mode: SignAndEncrypt, server_cert: "sha256:9a0b..." }
//	  auth: { username: gateway, password_file: /etc/tanglegate/secrets/boiler.pass }
//	  points:
//	    - { name: pressure, node: "nsu=urn:plant:boiler;s=Drum.Pressure", subscribe: 500ms, unit: bar }
//	    - { name: level, namespace: "urn:plant:boiler", path: Boiler/Drum/Level, poll: 2s }
type OPCUA struct {
	// Endpoint is the server's URL, opc.tcp://host:port[/path].
	Endpoint string `yaml:"endpoint"`
	// Security selects the secure channel and pins the server certificate.
	Security OPCUASecurity `yaml:"security,omitempty"`
	// Auth is the user identity: anonymous when empty.
	Auth OPCUAAuth `yaml:"auth,omitempty"`
	// CertDir holds the gateway's own application certificate and key
	// (generated at first start). Empty means <state_dir>/tls/opcua, filled in
	// by cmd/gateway.
	CertDir string `yaml:"cert_dir,omitempty"`
	// Poll is the read interval of points that set neither subscribe nor poll.
	Poll Duration `yaml:"poll,omitempty"`
	// Timeout bounds each request to the server (default 10s).
	Timeout Duration `yaml:"timeout,omitempty"`
	// Points are the variables read from the server.
	Points []OPCUAPoint `yaml:"points"`
}

// OPCUASecurity is the security section of an OPC UA device.
type OPCUASecurity struct {
	// Policy is None, Basic256Sha256, Aes128_Sha256_RsaOaep or Aes256_Sha256_RsaPss.
	Policy string `yaml:"policy,omitempty"`
	// Mode is None, Sign or SignAndEncrypt.
	Mode string `yaml:"mode,omitempty"`
	// ServerCert pins the server's certificate: "sha256:" and 64 hex digits
	// (`tanglegate trust opcua --endpoint URL` prints it). Required unless
	// Policy is None.
	ServerCert string `yaml:"server_cert,omitempty"`
}

// OPCUAAuth is the user identity of an OPC UA session: anonymous (all empty),
// username + password_file, or cert_file + key_file.
type OPCUAAuth struct {
	Username     string `yaml:"username,omitempty"`
	PasswordFile string `yaml:"password_file,omitempty"`
	CertFile     string `yaml:"cert_file,omitempty"`
	KeyFile      string `yaml:"key_file,omitempty"`
}

// OPCUAPoint is one variable of an OPC UA device. It names its node either
// directly (Node) or as a browse path from the Objects folder (Path), whose
// segments are browse names in Namespace.
type OPCUAPoint struct {
	Name string `yaml:"name"`
	// Node is a node ID: "ns=2;s=Drum.Pressure", "nsu=urn:plant:boiler;s=Drum.Pressure", "i=2258".
	Node string `yaml:"node,omitempty"`
	// Namespace is the namespace URI of the browse names in Path.
	Namespace string `yaml:"namespace,omitempty"`
	// Path is a browse path below Objects, segments separated by "/".
	Path string `yaml:"path,omitempty"`
	// Subscribe makes the point a monitored item with this sampling interval.
	Subscribe Duration `yaml:"subscribe,omitempty"`
	// Poll reads the point with this interval (the device's poll when both are 0).
	Poll Duration `yaml:"poll,omitempty"`
	// Queue is the monitored item's queue size (subscriptions only, default 1).
	Queue uint32 `yaml:"queue,omitempty"`
	// Deadband is an absolute deadband: smaller changes are not reported
	// (subscriptions only; 0 reports every change).
	Deadband float64 `yaml:"deadband,omitempty"`
	// Unit is the engineering unit copied into readings.
	Unit string `yaml:"unit,omitempty"`
	// Writable allows write-back to this point.
	Writable bool `yaml:"writable,omitempty"`
}

// opcuaPolicies are the security policies an OPC UA device may use.
var opcuaPolicies = []string{"None", "Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"}

// opcuaModes are the message security modes an OPC UA device may use.
var opcuaModes = []string{"None", "Sign", "SignAndEncrypt"}

// DefaultOPCUAPoll is the poll interval of points that name none.
const DefaultOPCUAPoll = Duration(time.Second)

// DefaultOPCUATimeout is the request timeout when none is set.
const DefaultOPCUATimeout = Duration(10 * time.Second)

// ParseThumbprint parses a pinned certificate thumbprint "sha256:<64 hex>"
// (colons between bytes are allowed) and returns the 32 bytes.
func ParseThumbprint(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(s)), "sha256:")
	if !ok {
		return nil, fmt.Errorf("thumbprint %q must start with sha256:", s)
	}
	rest = strings.ReplaceAll(rest, ":", "")
	b, err := hex.DecodeString(rest)
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("thumbprint %q: want sha256: and 64 hex digits", s)
	}
	return b, nil
}

// Validate reports every problem of the section; path is its field path
// ("devices[1].opcua").
func (o *OPCUA) Validate(path string) []error {
	var errs []error
	u, err := url.Parse(o.Endpoint)
	switch {
	case o.Endpoint == "":
		errs = append(errs, Errorf(path+".endpoint", "is required (opc.tcp://host:port)"))
	case err != nil || u.Scheme != "opc.tcp" || u.Host == "":
		errs = append(errs, Errorf(path+".endpoint", "%q is not an opc.tcp://host:port URL", o.Endpoint))
	}
	errs = append(errs, o.Security.validate(path+".security")...)
	errs = append(errs, o.Auth.validate(path+".auth", o.Security.Policy)...)
	if o.Poll < 0 {
		errs = append(errs, Errorf(path+".poll", "must not be negative"))
	}
	if o.Timeout < 0 {
		errs = append(errs, Errorf(path+".timeout", "must not be negative"))
	}
	if len(o.Points) == 0 {
		errs = append(errs, Errorf(path+".points", "at least one point is required"))
	}
	seen := map[string]bool{}
	for i, p := range o.Points {
		pp := fmt.Sprintf("%s.points[%d]", path, i)
		if p.Name != "" && seen[p.Name] {
			errs = append(errs, Errorf(pp+".name", "duplicate point name %q", p.Name))
		}
		seen[p.Name] = true
		errs = append(errs, p.validate(pp)...)
	}
	return errs
}

func (s *OPCUASecurity) validate(path string) []error {
	var errs []error
	policy, mode := s.Policy, s.Mode
	if policy == "" {
		policy = "None"
	}
	if mode == "" {
		mode = "None"
	}
	if !slices.Contains(opcuaPolicies, policy) {
		errs = append(errs, Errorf(path+".policy", "unknown security policy %q (want %s)", s.Policy, strings.Join(opcuaPolicies, ", ")))
	}
	if !slices.Contains(opcuaModes, mode) {
		errs = append(errs, Errorf(path+".mode", "unknown security mode %q (want %s)", s.Mode, strings.Join(opcuaModes, ", ")))
	}
	if (policy == "None") != (mode == "None") {
		errs = append(errs, Errorf(path+".mode", "mode %s does not go with policy %s (policy None needs mode None, other policies Sign or SignAndEncrypt)", mode, policy))
	}
	if s.ServerCert != "" {
		if _, err := ParseThumbprint(s.ServerCert); err != nil {
			errs = append(errs, Errorf(path+".server_cert", "%v", err))
		}
	} else if policy != "None" {
		errs = append(errs, Errorf(path+".server_cert", "is required with policy %s: pin the server certificate (run `tanglegate trust opcua --endpoint URL`)", policy))
	}
	return errs
}

func (a *OPCUAAuth) validate(path, policy string) []error {
	var errs []error
	user := a.Username != "" || a.PasswordFile != ""
	cert := a.CertFile != "" || a.KeyFile != ""
	if user && cert {
		errs = append(errs, Errorf(path, "use either username/password_file or cert_file/key_file, not both"))
	}
	if user && (a.Username == "" || a.PasswordFile == "") {
		errs = append(errs, Errorf(path+".password_file", "username and password_file go together"))
	}
	if cert && (a.CertFile == "" || a.KeyFile == "") {
		errs = append(errs, Errorf(path+".key_file", "cert_file and key_file go together"))
	}
	if cert && (policy == "" || policy == "None") {
		errs = append(errs, Errorf(path+".cert_file", "certificate authentication needs a security policy other than None"))
	}
	return errs
}

func (p *OPCUAPoint) validate(path string) []error {
	var errs []error
	if err := CheckIdent(path+".name", p.Name); err != nil {
		errs = append(errs, err)
	}
	switch {
	case p.Node != "" && p.Path != "":
		errs = append(errs, Errorf(path+".path", "give either node or path, not both"))
	case p.Node == "" && p.Path == "":
		errs = append(errs, Errorf(path+".node", "is required (a node ID such as \"nsu=urn:x;s=Tag\", or namespace + path)"))
	case p.Node != "":
		if err := checkNodeID(p.Node); err != nil {
			errs = append(errs, Errorf(path+".node", "%v", err))
		}
		if p.Namespace != "" {
			errs = append(errs, Errorf(path+".namespace", "only goes with path; put nsu= in node instead"))
		}
	default:
		for seg := range strings.SplitSeq(strings.Trim(p.Path, "/"), "/") {
			if seg == "" {
				errs = append(errs, Errorf(path+".path", "%q has an empty segment", p.Path))
				break
			}
		}
	}
	if p.Subscribe < 0 || p.Poll < 0 {
		errs = append(errs, Errorf(path+".subscribe", "intervals must not be negative"))
	}
	if p.Subscribe > 0 && p.Poll > 0 {
		errs = append(errs, Errorf(path+".poll", "give either subscribe or poll, not both"))
	}
	if p.Subscribe == 0 && (p.Queue != 0 || p.Deadband != 0) {
		errs = append(errs, Errorf(path+".deadband", "queue and deadband apply to subscribed points only (set subscribe)"))
	}
	if p.Deadband < 0 {
		errs = append(errs, Errorf(path+".deadband", "must not be negative, got %g", p.Deadband))
	}
	return errs
}

// checkNodeID checks the shape of an OPC UA node ID string ("ns=2;s=X",
// "nsu=URI;i=5", "i=2258", "g=...", "b=...").
func checkNodeID(s string) error {
	rest := s
	if ns, after, ok := strings.Cut(s, ";"); ok && (strings.HasPrefix(ns, "ns=") || strings.HasPrefix(ns, "nsu=")) {
		if ns == "ns=" || ns == "nsu=" {
			return fmt.Errorf("node ID %q has an empty namespace", s)
		}
		rest = after
	}
	for _, p := range []string{"i=", "s=", "g=", "b="} {
		if strings.HasPrefix(rest, p) && len(rest) > len(p) {
			return nil
		}
	}
	return fmt.Errorf("node ID %q: want [ns=N;|nsu=URI;]i=|s=|g=|b=<id>", s)
}
