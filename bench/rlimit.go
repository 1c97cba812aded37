package bench

import "syscall"

// RaiseFileLimit raises this process's soft limit on open files to its hard
// limit and returns the limit now in force. The idle workload holds 10,000
// connections, one file each, on each side.
func RaiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
			return lim.Cur, err
		}
	}
	return lim.Cur, nil
}

// processCPU returns the user and system CPU time this process has used,
// all threads together, in nanoseconds.
func processCPU() (user, sys int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return ru.Utime.Nano(), ru.Stime.Nano()
}
