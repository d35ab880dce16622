package opcua

import (
	"fmt"
	"math"
	"time"

	"github.com/gopcua/opcua/ua"
	"github.com/tanglegate/gateway/adapters"
)

// quality maps an OPC UA status code to a reading quality by its severity bits.
func quality(s ua.StatusCode) adapters.Quality {
	switch uint32(s) >> 30 {
	case 0:
		return adapters.Good
	case 1:
		return adapters.Uncertain
	default:
		return adapters.Bad
	}
}

// fromVariant converts a scalar OPC UA value to a point value.
func fromVariant(v *ua.Variant) (adapters.Value, error) {
	if v == nil {
		return adapters.Value{}, fmt.Errorf("no value")
	}
	switch x := v.Value().(type) {
	case bool:
		return adapters.Bool(x), nil
	case int8:
		return adapters.Number(float64(x)), nil
	case uint8:
		return adapters.Number(float64(x)), nil
	case int16:
		return adapters.Number(float64(x)), nil
	case uint16:
		return adapters.Number(float64(x)), nil
	case int32:
		return adapters.Number(float64(x)), nil
	case uint32:
		return adapters.Number(float64(x)), nil
	case int64:
		return adapters.Number(float64(x)), nil
	case uint64:
		return adapters.Number(float64(x)), nil
	case float32:
		return adapters.Number(float64(x)), nil
	case float64:
		return adapters.Number(x), nil
	case string:
		return adapters.String(x), nil
	case *ua.LocalizedText:
		if x == nil {
			return adapters.String(""), nil
		}
		return adapters.String(x.Text), nil
	case time.Time:
		return adapters.String(x.UTC().Format(time.RFC3339Nano)), nil
	default:
		return adapters.Value{}, fmt.Errorf("unsupported OPC UA type %T", x)
	}
}

// reading builds the reading of one data value; bad or unsupported values
// get Bad quality.
func reading(device string, p pointCfg, dv *ua.DataValue, now time.Time) adapters.Reading {
	r := adapters.Reading{Device: device, Point: p.Name, Unit: p.Unit, Gateway: now, Quality: adapters.Bad}
	if dv == nil {
		return r
	}
	r.Source = dv.SourceTimestamp
	r.Quality = quality(dv.Status)
	if r.Quality == adapters.Bad {
		return r
	}
	v, err := fromVariant(dv.Value)
	if err != nil {
		r.Quality = adapters.Bad
		return r
	}
	r.Value = v
	return r
}

// toVariant converts v to the OPC UA type t of the target variable, refusing
// values the type cannot hold.
func toVariant(v adapters.Value, t ua.TypeID) (*ua.Variant, error) {
	if t == ua.TypeIDString {
		return ua.NewVariant(v.String())
	}
	if t == ua.TypeIDBoolean {
		switch {
		case v.Kind == adapters.KindBool, v.Kind == adapters.KindNumber && (v.Num == 0 || v.Num == 1):
			return ua.NewVariant(v.Num != 0)
		default:
			return nil, fmt.Errorf("cannot write %s to a Boolean", v)
		}
	}
	if v.Kind == adapters.KindString {
		return nil, fmt.Errorf("cannot write text %q to a %s", v.Str, t)
	}
	f := v.Num
	integer := func(lo, hi float64) error {
		if f != math.Trunc(f) || f < lo || f > hi {
			return fmt.Errorf("%g does not fit a %s (%g..%g, whole numbers)", f, t, lo, hi)
		}
		return nil
	}
	var (
		val any
		err error
	)
	switch t {
	case ua.TypeIDSByte:
		err, val = integer(math.MinInt8, math.MaxInt8), int8(f)
	case ua.TypeIDByte:
		err, val = integer(0, math.MaxUint8), uint8(f)
	case ua.TypeIDInt16:
		err, val = integer(math.MinInt16, math.MaxInt16), int16(f)
	case ua.TypeIDUint16:
		err, val = integer(0, math.MaxUint16), uint16(f)
	case ua.TypeIDInt32:
		err, val = integer(math.MinInt32, math.MaxInt32), int32(f)
	case ua.TypeIDUint32:
		err, val = integer(0, math.MaxUint32), uint32(f)
	case ua.TypeIDInt64:
		err, val = integer(-(1<<53), 1<<53), int64(f)
	case ua.TypeIDUint64:
		err, val = integer(0, 1<<53), uint64(f)
	case ua.TypeIDFloat:
		if math.Abs(f) > math.MaxFloat32 {
			err = fmt.Errorf("%g does not fit a Float", f)
		}
		val = float32(f)
	case ua.TypeIDDouble:
		val = f
	default:
		return nil, fmt.Errorf("writing to a %s variable is not supported", t)
	}
	if err != nil {
		return nil, err
	}
	return ua.NewVariant(val)
}
