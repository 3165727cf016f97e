package lambdarie

import (
	"slices"
	"testing"
	"time"
)

// emulatorOutput is the emulator's own output for a cold start and a warm
// invocation, then a failed init and the near-empty init it reports next.
const emulatorOutput = `01 Dec 2026 22:59:06,030 [INFO] (rapid) INIT START(type: on-demand, phase: init)
01 Dec 2026 22:59:06,055 [INFO] (rapid) INIT REPORT(durationMs: 24.135000)
REPORT RequestId: 2c9a1c78-0279-4082-906e-75e80adc76c9	Init Duration: 0.02 ms	Duration: 25.76 ms	Billed Duration: 26 ms	Memory Size: 128 MB	Max Memory Used: 128 MB	
REPORT RequestId: cbd25f04-1a1a-4742-967d-973cd71928f0	Duration: 0.91 ms	Billed Duration: 1 ms	Memory Size: 128 MB	Max Memory Used: 128 MB	
01 Dec 2026 22:33:33,374 [INFO] (rapid) INIT REPORT(durationMs: 12.683000)
01 Dec 2026 22:33:33,374 [INFO] (rapid) INIT REPORT(durationMs: 0.022000)
`

func TestReportReadsTheEmulatorsInitAndInvokeDurations(t *testing.T) {
	f := &Function{out: &lockedBuffer{}}
	if _, err := f.out.Write([]byte(emulatorOutput)); err != nil {
		t.Fatal(err)
	}
	r := f.Report()
	wantInits := []time.Duration{24135 * time.Microsecond, 12683 * time.Microsecond}
	wantInvokes := []time.Duration{25760 * time.Microsecond, 910 * time.Microsecond}
	if !slices.Equal(r.Inits, wantInits) || !slices.Equal(r.Invokes, wantInvokes) {
		t.Fatalf("Report() = %+v, want inits %v and invokes %v", r, wantInits, wantInvokes)
	}
}
