package opcua

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/ua"
)

// ErrCertificateMismatch is returned (wrapped in a [*CertificateMismatchError])
// when a server presents another certificate than the pinned one.
var ErrCertificateMismatch = errors.New("opcua: server certificate does not match the pinned thumbprint")

// CertificateMismatchError says which certificate a server presented instead
// of the pinned one.
type CertificateMismatchError struct {
	Endpoint string
	Want     string // the pinned thumbprint
	Got      string // the presented certificate's thumbprint
	Subject  string // the presented certificate's subject
}

// Error explains the mismatch and how to re-pin.
func (e *CertificateMismatchError) Error() string {
	return fmt.Sprintf("server %s presented certificate %s (%s), but %s is pinned: refusing to connect; "+
		"if the server's certificate was replaced on purpose, check it with `tanglegate trust opcua --endpoint %s` and update security.server_cert",
		e.Endpoint, e.Got, e.Subject, e.Want, e.Endpoint)
}

// Unwrap returns [ErrCertificateMismatch].
func (e *CertificateMismatchError) Unwrap() error { return ErrCertificateMismatch }

// Endpoint is one endpoint a server offers, as shown by `tanglegate trust opcua`.
type Endpoint struct {
	URL            string    `json:"url"`
	Policy         string    `json:"policy"` // short name: None, Basic256Sha256, ...
	Mode           string    `json:"mode"`   // None, Sign, SignAndEncrypt
	SecurityLevel  uint8     `json:"security_level"`
	UserTokens     []string  `json:"user_tokens"` // Anonymous, UserName, Certificate, IssuedToken
	Thumbprint     string    `json:"thumbprint,omitempty"`
	Subject        string    `json:"subject,omitempty"`
	ApplicationURI string    `json:"application_uri,omitempty"`
	NotAfter       time.Time `json:"not_after,omitzero"`
	Certificate    []byte    `json:"-"` // DER
}

// Discover asks the server at endpoint for its endpoints (GetEndpoints over
// an unsecured discovery channel, as OPC UA intends).
func Discover(ctx context.Context, endpoint string) ([]Endpoint, error) {
	eps, err := opcua.GetEndpoints(ctx, endpoint)
	if err != nil {
		return nil, fmt.Errorf("discover endpoints of %s: %w", endpoint, err)
	}
	out := make([]Endpoint, 0, len(eps))
	for _, ep := range eps {
		e := Endpoint{
			URL:           ep.EndpointURL,
			Policy:        policyName(ep.SecurityPolicyURI),
			Mode:          modeName(ep.SecurityMode),
			SecurityLevel: ep.SecurityLevel,
			Certificate:   ep.ServerCertificate,
		}
		if ep.Server != nil {
			e.ApplicationURI = ep.Server.ApplicationURI
		}
		for _, t := range ep.UserIdentityTokens {
			e.UserTokens = append(e.UserTokens, strings.TrimPrefix(t.TokenType.String(), "UserTokenType"))
		}
		if len(ep.ServerCertificate) > 0 {
			e.Thumbprint = Thumbprint(ep.ServerCertificate)
			if x, err := x509.ParseCertificate(ep.ServerCertificate); err == nil {
				e.Subject = x.Subject.String()
				e.NotAfter = x.NotAfter
			}
		}
		out = append(out, e)
	}
	return out, nil
}

func policyName(uri string) string {
	if i := strings.LastIndexByte(uri, '#'); i >= 0 {
		return uri[i+1:]
	}
	return uri
}

func modeName(m ua.MessageSecurityMode) string {
	switch m {
	case ua.MessageSecurityModeSign:
		return "Sign"
	case ua.MessageSecurityModeSignAndEncrypt:
		return "SignAndEncrypt"
	default:
		return "None"
	}
}

// pickEndpoint returns the server endpoint with policy and mode, checking its
// certificate against pin ("" = no pin, allowed only with policy None).
func pickEndpoint(endpoint string, eps []*ua.EndpointDescription, policy, mode, pin string) (*ua.EndpointDescription, error) {
	var offered []string
	for _, ep := range eps {
		p, m := policyName(ep.SecurityPolicyURI), modeName(ep.SecurityMode)
		offered = append(offered, p+"/"+m)
		if p != policy || m != mode {
			continue
		}
		if pin != "" {
			got := Thumbprint(ep.ServerCertificate)
			if !strings.EqualFold(strings.ReplaceAll(pin, ":", ""), strings.ReplaceAll(got, ":", "")) {
				e := &CertificateMismatchError{Endpoint: endpoint, Want: pin, Got: got}
				if x, err := x509.ParseCertificate(ep.ServerCertificate); err == nil {
					e.Subject = x.Subject.String()
				}
				return nil, e
			}
		}
		return ep, nil
	}
	return nil, fmt.Errorf("server %s offers no endpoint with policy %s and mode %s (it offers %s)",
		endpoint, policy, mode, strings.Join(offered, ", "))
}
