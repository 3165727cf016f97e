//go:build unix && !linux

package dynamolocal

import "syscall"

// sysProcAttr puts the server in its own process group, so Stop reaches
// everything it spawns. Only Linux offers a parent-death signal.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
