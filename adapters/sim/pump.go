package sim

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// Register map of a simulated [Pump] (0-based addresses), matching the pump1
// device of the example gateway.yaml:
//
//	holding 100  float32 CDAB  temperature, °C
//	input   20   uint16        vibration, 0.01 mm/s
//	coil    5    bool          running
//	holding 300  uint16        cooling, % (writable, 0-100)
const (
	PumpTemperature = 100
	PumpVibration   = 20
	PumpRunning     = 5
	PumpCooling     = 300
)

// Pump is a simulated centrifugal pump. Running heats it towards 40 °C plus
// up to 50 °C of load, cooling (0-100 %) pulls it down, vibration grows with
// temperature and with a bearing fault. Its registers live in Bank.
type Pump struct {
	Bank *Bank

	mu      sync.Mutex
	temp    float64 // °C
	vib     float64 // mm/s
	load    float64 // 0..1
	bearing bool    // bearing fault: vibration jumps
	rng     *rand.Rand
}

// NewPump returns a running pump at ambient temperature, with noise from seed.
func NewPump(seed uint64) *Pump {
	p := &Pump{Bank: NewBank(), temp: 20, vib: 1, load: 0.5, rng: rand.New(rand.NewPCG(seed, 1))}
	p.Bank.SetCoil(PumpRunning, true)
	p.Bank.SetHolding(PumpCooling, 20)
	p.publish()
	return p
}

// SetLoad sets the load, 0..1 (clamped).
func (p *Pump) SetLoad(l float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.load = math.Max(0, math.Min(1, l))
}

// SetBearingFault injects or clears a bearing fault.
func (p *Pump) SetBearingFault(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bearing = on
}

// Temperature returns the current temperature in °C.
func (p *Pump) Temperature() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.temp
}

// Step advances the simulation by dt and updates the registers.
func (p *Pump) Step(dt time.Duration) {
	running := p.Bank.Coil(PumpRunning)
	cooling := float64(min(p.Bank.Holding(PumpCooling, 1)[0], 100)) / 100
	p.mu.Lock()
	s := dt.Seconds()
	target := 20.0
	if running {
		target = 40 + 50*p.load
	}
	target -= 30 * cooling
	target = math.Max(target, 15)
	p.temp += (target - p.temp) * (1 - math.Exp(-s/30)) // 30 s time constant
	vt := 0.0
	if running {
		vt = 1 + 0.05*math.Max(0, p.temp-40)
		if p.bearing {
			vt += 6
		}
	}
	p.vib += (vt - p.vib) * (1 - math.Exp(-s/2))
	p.vib = math.Max(0, p.vib+p.rng.NormFloat64()*0.05*math.Sqrt(s))
	p.mu.Unlock()
	p.publish()
}

func (p *Pump) publish() {
	p.mu.Lock()
	t := math.Float32bits(float32(p.temp))
	v := uint16(math.Min(p.vib*100, math.MaxUint16))
	p.mu.Unlock()
	p.Bank.SetHolding(PumpTemperature, uint16(t), uint16(t>>16)) // CDAB: low word first
	p.Bank.SetInput(PumpVibration, v)
}

// Run steps the pump every tick until ctx ends.
func (p *Pump) Run(ctx context.Context, tick time.Duration) error {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			p.Step(tick)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
