package opcua

import (
	"crypto/x509"
	"errors"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/config"
)

var testTime = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func TestToVariantConvertsOrRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		v       adapters.Value
		typ     ua.TypeID
		want    any
		wantErr bool
	}{
		{"double takes any number", adapters.Number(21.5), ua.TypeIDDouble, 21.5, false},
		{"float takes a small number", adapters.Number(1.5), ua.TypeIDFloat, float32(1.5), false},
		{"int16 takes a whole number", adapters.Number(-300), ua.TypeIDInt16, int16(-300), false},
		{"uint16 refuses a negative number", adapters.Number(-1), ua.TypeIDUint16, nil, true},
		{"int32 refuses a fraction", adapters.Number(2.5), ua.TypeIDInt32, nil, true},
		{"byte refuses 256", adapters.Number(256), ua.TypeIDByte, nil, true},
		{"boolean takes a bool", adapters.Bool(true), ua.TypeIDBoolean, true, false},
		{"boolean takes 0", adapters.Number(0), ua.TypeIDBoolean, false, false},
		{"boolean refuses 2", adapters.Number(2), ua.TypeIDBoolean, nil, true},
		{"string takes a number as text", adapters.Number(3), ua.TypeIDString, "3", false},
		{"double refuses text", adapters.String("x"), ua.TypeIDDouble, nil, true},
		{"float refuses a huge number", adapters.Number(math.MaxFloat64), ua.TypeIDFloat, nil, true},
		{"datetime is not supported", adapters.Number(1), ua.TypeIDDateTime, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := toVariant(tc.v, tc.typ)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("toVariant(%v, %v) = %v, want an error", tc.v, tc.typ, got.Value())
				}
				return
			}
			if err != nil {
				t.Fatalf("toVariant(%v, %v): %v", tc.v, tc.typ, err)
			}
			if got.Value() != tc.want {
				t.Fatalf("toVariant(%v, %v) = %#v, want %#v", tc.v, tc.typ, got.Value(), tc.want)
			}
		})
	}
}

func TestReadingMapsStatusAndTypes(t *testing.T) {
	t.Parallel()
	p := config.OPCUAPoint{Name: "p", Unit: "bar"}
	tests := []struct {
		name string
		dv   *ua.DataValue
		want adapters.Reading
	}{
		{"good double", &ua.DataValue{Value: ua.MustVariant(2.5)}, adapters.Reading{Value: adapters.Number(2.5), Quality: adapters.Good}},
		{"good int32", &ua.DataValue{Value: ua.MustVariant(int32(-4))}, adapters.Reading{Value: adapters.Number(-4), Quality: adapters.Good}},
		{"good bool", &ua.DataValue{Value: ua.MustVariant(true)}, adapters.Reading{Value: adapters.Bool(true), Quality: adapters.Good}},
		{"good string", &ua.DataValue{Value: ua.MustVariant("on")}, adapters.Reading{Value: adapters.String("on"), Quality: adapters.Good}},
		{"uncertain keeps the value", &ua.DataValue{Status: ua.StatusUncertain, Value: ua.MustVariant(1.0)}, adapters.Reading{Value: adapters.Number(1), Quality: adapters.Uncertain}},
		{"bad status drops the value", &ua.DataValue{Status: ua.StatusBadNodeIDUnknown, Value: ua.MustVariant(1.0)}, adapters.Reading{Quality: adapters.Bad}},
		{"array is bad", &ua.DataValue{Value: ua.MustVariant([]float64{1, 2})}, adapters.Reading{Quality: adapters.Bad}},
		{"missing value is bad", nil, adapters.Reading{Quality: adapters.Bad}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := reading("dev", p, tc.dv, testTime)
			if got.Value != tc.want.Value || got.Quality != tc.want.Quality || got.Device != "dev" || got.Point != "p" || got.Unit != "bar" {
				t.Fatalf("reading = %+v, want value %v quality %v", got, tc.want.Value, tc.want.Quality)
			}
		})
	}
}

func TestPickEndpointRefusesAnotherCertificate(t *testing.T) {
	t.Parallel()
	certA, certB := []byte("certificate A"), []byte("certificate B")
	eps := []*ua.EndpointDescription{
		{SecurityPolicyURI: ua.SecurityPolicyURINone, SecurityMode: ua.MessageSecurityModeNone, ServerCertificate: certA},
		{SecurityPolicyURI: ua.SecurityPolicyURIBasic256Sha256, SecurityMode: ua.MessageSecurityModeSignAndEncrypt, ServerCertificate: certA},
	}
	if _, err := pickEndpoint("opc.tcp://x:4840", eps, "Basic256Sha256", "SignAndEncrypt", Thumbprint(certA)); err != nil {
		t.Fatalf("pinned certificate refused: %v", err)
	}
	_, err := pickEndpoint("opc.tcp://x:4840", eps, "Basic256Sha256", "SignAndEncrypt", Thumbprint(certB))
	if !errors.Is(err, ErrCertificateMismatch) {
		t.Fatalf("another certificate: err = %v, want ErrCertificateMismatch", err)
	}
	if _, err := pickEndpoint("opc.tcp://x:4840", eps, "Aes256_Sha256_RsaPss", "Sign", ""); err == nil {
		t.Fatal("missing policy accepted")
	}
}

func TestAppCertIsCreatedOnceWithMatchingURI(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "opcua")
	var wg sync.WaitGroup
	certs := make([]*AppCert, 4)
	errs := make([]error, 4)
	for i := range certs {
		wg.Go(func() { certs[i], errs[i] = LoadOrCreateAppCert(dir) })
	}
	wg.Wait()
	for i := range certs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if Thumbprint(certs[i].DER) != Thumbprint(certs[0].DER) {
			t.Fatal("concurrent first starts made different certificates")
		}
	}
	x, err := x509.ParseCertificate(certs[0].DER)
	if err != nil {
		t.Fatal(err)
	}
	if len(x.URIs) != 1 || x.URIs[0].String() != certs[0].URI {
		t.Fatalf("certificate URIs %v, application URI %q", x.URIs, certs[0].URI)
	}
	st, err := os.Stat(filepath.Join(dir, appCertFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
	again, err := LoadOrCreateAppCert(dir)
	if err != nil || Thumbprint(again.DER) != Thumbprint(certs[0].DER) {
		t.Fatalf("second start: %v, same certificate: %v", err, err == nil && Thumbprint(again.DER) == Thumbprint(certs[0].DER))
	}
}
