package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tanglegate/gateway/adapters/modbus"
	"github.com/tanglegate/gateway/config"
)

func newProbeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "probe",
		Short: "Probe field devices: decode registers in every type and byte order, suggest config",
	}
	cmd.AddCommand(newProbeModbusCmd())
	return cmd
}

func newProbeModbusCmd() *cobra.Command {
	var (
		addr, register string
		unit, count    int
		timeout        time.Duration
	)
	cmd := &cobra.Command{
		Use:   "modbus",
		Short: "Read registers and print them as every type in every byte order",
		Example: `  tanglegate probe modbus --addr tcp://10.0.3.50:502 --unit 1 --register 100 --count 4
  tanglegate probe modbus --addr 'rtu:///dev/ttyUSB0?baud=9600' --unit 3 --register "input 20" --count 2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			reg, err := config.ParseRegister(register)
			if err != nil {
				if reg, err = config.ParseRegister("holding " + register); err != nil {
					return fmt.Errorf("--register: %w", err)
				}
			}
			if count < 1 || count > 125 {
				return fmt.Errorf("--count must be between 1 and 125, got %d", count)
			}
			data, err := modbus.ReadRaw(addr, unit, reg.Table, reg.Address, uint16(count), timeout)
			if err != nil {
				return err
			}
			return printProbe(cmd, reg, count, data)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "", "device address: tcp://HOST:PORT, rtu:///dev/ttyUSB0?baud=9600, ascii://...")
	cmd.Flags().IntVar(&unit, "unit", 1, "unit (slave) ID")
	cmd.Flags().StringVar(&register, "register", "holding 0", `first register: "holding 100", "input 20", "coil 5" or a number (holding)`)
	cmd.Flags().IntVar(&count, "count", 4, "number of registers (or bits)")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Second, "request timeout")
	cmd.MarkFlagRequired("addr")
	return cmd
}

func printProbe(cmd *cobra.Command, reg config.Register, count int, data []byte) error {
	w := cmd.OutOrStdout()
	if reg.Table.IsBit() {
		for i := range count {
			fmt.Fprintf(w, "%s %d: %v\n", reg.Table, int(reg.Address)+i, data[i/8]>>(i%8)&1 != 0)
		}
		fmt.Fprintf(w, "\nsuggested point:\n  - { name: NAME, register: %s, type: bool }\n", reg)
		return nil
	}
	fmt.Fprintf(w, "raw:")
	for i := 0; i+1 < len(data); i += 2 {
		fmt.Fprintf(w, " %02x%02x", data[i], data[i+1])
	}
	fmt.Fprintln(w)
	types := []modbus.Type{modbus.Uint16, modbus.Int16, modbus.Uint32, modbus.Int32, modbus.Float32, modbus.Uint64, modbus.Int64, modbus.Float64}
	for _, t := range types {
		n := t.Registers(0)
		if n > count {
			continue
		}
		for _, o := range modbus.Orders {
			if n == 1 && (o == modbus.CDAB || o == modbus.DCBA) {
				continue // same as ABCD/BADC for one register
			}
			fmt.Fprintf(w, "%-8s %s:", t, o)
			for off := 0; off+n <= count; off += n {
				v, err := modbus.Codec{Type: t, Order: o}.Decode(data[2*off:])
				if err != nil {
					return err
				}
				fmt.Fprintf(w, " %v", v)
			}
			fmt.Fprintln(w)
		}
	}
	s, _ := modbus.Codec{Type: modbus.String, Length: 2 * count}.Decode(data)
	fmt.Fprintf(w, "string   ABCD: %q\n", s.Str)
	typ := "uint16"
	if count >= 2 {
		typ = "float32"
	}
	fmt.Fprintf(w, "\nsuggested point (pick the type and order whose values look right above):\n  - { name: NAME, register: %s, type: %s, order: ABCD }\n", reg, typ)
	return nil
}
