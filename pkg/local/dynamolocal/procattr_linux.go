package dynamolocal

import "syscall"

// sysProcAttr puts the server in its own process group (so Stop reaches
// everything it spawns) and has the kernel kill it if its parent dies first.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
