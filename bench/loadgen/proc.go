package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// This file reads Linux's /proc. On other systems every reader returns an
// error and the report leaves the CPU and RSS fields out.

// clockTick is USER_HZ, the unit of utime/stime in /proc/PID/stat. It is 100
// on every Linux architecture Go supports (the kernel ABI fixes it; sysconf
// would need cgo).
const clockTick = 10 * time.Millisecond

// procCPU returns utime+stime of a whole process (all its threads, not its
// children) from /proc/PID/stat; pid 0 means this process.
func procCPU(pid int) (time.Duration, error) {
	path := "/proc/self/stat"
	if pid != 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/stat"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU extracts utime (field 14) and stime (field 15). The comm field
// (2) may hold spaces and parentheses, so fields are counted from the last ')'.
func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat: no ')'")
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, errors.New("malformed /proc stat: too few fields")
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("malformed /proc stat: utime/stime")
	}
	return time.Duration(ut+st) * clockTick, nil
}

// procMem returns VmRSS and VmHWM (lifetime peak RSS) in bytes from
// /proc/PID/status.
func procMem(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	return parseStatusKB(b, "VmRSS:") * 1024, parseStatusKB(b, "VmHWM:") * 1024, nil
}

func parseStatusKB(b []byte, key string) int64 {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return 0
	}
	line := b[i+len(key):]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	f := strings.Fields(string(line))
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.ParseInt(f[0], 10, 64)
	return n
}

func procComm(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// hostCPU is the machine-wide CPU time from the first line of /proc/stat,
// plus the CPU pressure stall total from /proc/pressure/cpu when present.
type hostCPU struct {
	busy, steal, total time.Duration
	psiSome            time.Duration // time some runnable task waited for a CPU
	psiOK              bool
}

func readHostCPU() (hostCPU, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return hostCPU{}, err
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return hostCPU{}, errors.New("malformed /proc/stat")
	}
	var v [8]uint64 // user nice system idle iowait irq softirq steal
	for i := range v {
		v[i], _ = strconv.ParseUint(f[i+1], 10, 64)
	}
	var total uint64
	for _, x := range v {
		total += x
	}
	idle := v[3] + v[4]
	h := hostCPU{
		busy:  time.Duration(total-idle-v[7]) * clockTick,
		steal: time.Duration(v[7]) * clockTick,
		total: time.Duration(total) * clockTick,
	}
	h.psiSome, h.psiOK = readPSISome()
	return h, nil
}

// readPSISome returns the "some" total (µs) of /proc/pressure/cpu.
func readPSISome() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/pressure/cpu")
	if err != nil {
		return 0, false
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	i := bytes.Index(line, []byte("total="))
	if !bytes.HasPrefix(line, []byte("some ")) || i < 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(line[i+len("total="):]), 10, 64)
	if err != nil {
		return 0, false
	}
	return time.Duration(n) * time.Microsecond, true
}

// watched is one -pid process measured over a run.
type watched struct {
	pid      int
	role     string
	comm     string
	cpuStart time.Duration
	cpuEnd   time.Duration
	maxRSS   int64
	hwm      int64
	err      error
}

// pidWatch samples the watched processes' RSS every 100 ms while a run is in
// progress and takes their CPU time at start and stop.
type pidWatch struct {
	procs []*watched
	stop  chan struct{}
	done  sync.WaitGroup
}

func startPidWatch(specs []pidSpec) *pidWatch {
	w := &pidWatch{stop: make(chan struct{})}
	for _, s := range specs {
		p := &watched{pid: s.pid, role: s.role, comm: procComm(s.pid)}
		if p.role == "" {
			p.role = p.comm
		}
		p.cpuStart, p.err = procCPU(s.pid)
		w.procs = append(w.procs, p)
	}
	w.sample()
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
				w.sample()
			}
		}
	}()
	return w
}

func (w *pidWatch) sample() {
	for _, p := range w.procs {
		if p.err != nil {
			continue
		}
		rss, hwm, err := procMem(p.pid)
		if err != nil {
			p.err = err
			continue
		}
		p.maxRSS = max(p.maxRSS, rss)
		p.hwm = hwm
	}
}

// finish stops sampling and reads the final CPU times.
func (w *pidWatch) finish() {
	close(w.stop)
	w.done.Wait()
	w.sample()
	for _, p := range w.procs {
		if p.err != nil {
			continue
		}
		cpu, err := procCPU(p.pid)
		if err != nil {
			p.err = fmt.Errorf("pid %d ended during the run: %w", p.pid, err)
			continue
		}
		p.cpuEnd = cpu
	}
}

// pidSpec is one -pid value: "PID" or "ROLE=PID".
type pidSpec struct {
	role string
	pid  int
}

// pidFlag collects -pid values; it may be repeated and takes comma lists.
type pidFlag []pidSpec

func (f *pidFlag) String() string {
	var parts []string
	for _, s := range *f {
		if s.role != "" {
			parts = append(parts, s.role+"="+strconv.Itoa(s.pid))
		} else {
			parts = append(parts, strconv.Itoa(s.pid))
		}
	}
	return strings.Join(parts, ",")
}

func (f *pidFlag) Set(v string) error {
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		role, num, ok := strings.Cut(item, "=")
		if !ok {
			role, num = "", item
		}
		pid, err := strconv.Atoi(num)
		if err != nil || pid <= 0 {
			return fmt.Errorf("cannot parse pid %q: want PID or ROLE=PID", item)
		}
		*f = append(*f, pidSpec{role: role, pid: pid})
	}
	return nil
}
