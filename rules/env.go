package rules

import "github.com/tanglegate/gateway/config"

// EnvFromConfig returns the points and helpers that rules may name, from the
// gateway configuration.
func EnvFromConfig(cfg *config.Config) Env {
	env := Env{Points: Points{}}
	for _, p := range cfg.Points() {
		k := NumberPoint
		switch {
		case p.IsBool():
			k = BoolPoint
		case p.IsString():
			k = StringPoint
		}
		env.Points[PointRef{p.Device, p.Point}] = k
	}
	for _, h := range cfg.Helpers {
		env.Helpers = append(env.Helpers, h.Name)
	}
	return env
}
