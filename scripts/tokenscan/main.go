// Command tokenscan finds the service's tokens in files, folders or
// standard input, without a database: a token is 32 lowercase hex
// characters at word boundaries whose last 8 are the CRC-32 of the rest
// (secret.FindTokens), so a digest or a UUID without dashes is passed
// over. For each token found it prints where it is and its hint (the
// last 4 characters), never the token:
//
//	config/app.js:12:18: token ending 6f03
//
// It exits 1 if it found any, 0 if none, 2 if it could not read an input:
// usable as a pre-commit hook or a CI step (README, "Leaked tokens").
//
//	go run ./scripts/tokenscan [path ...]   # files and folders (recursively; .git skipped)
//	git diff --cached -U0 | go run ./scripts/tokenscan   # standard input ("-" or no path)
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/acmedata/tokenservice/pkg/secret"
)

// Exit codes.
const (
	exitClean = 0
	exitFound = 1
	exitError = 2
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// run scans every path (standard input for none or "-") and answers the
// exit code.
func run(paths []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(paths) == 0 {
		paths = []string{"-"}
	}
	found, failed := 0, false
	for _, p := range paths {
		n, err := scanPath(p, stdin, stdout)
		found += n
		if err != nil {
			fmt.Fprintf(stderr, "tokenscan: %v\n", err)
			failed = true
		}
	}
	switch {
	case failed:
		return exitError
	case found > 0:
		fmt.Fprintf(stderr, "tokenscan: %d token(s) found; disable them (POST /operator/leaks, or in the console) and remove them\n", found)
		return exitFound
	}
	return exitClean
}

// scanPath scans standard input ("-"), a file, or every regular file
// under a folder (symbolic links are not followed; .git is skipped).
func scanPath(path string, stdin io.Reader, out io.Writer) (int, error) {
	if path == "-" {
		b, err := io.ReadAll(stdin)
		if err != nil {
			return 0, fmt.Errorf("standard input: %w", err)
		}
		return report("-", b, out), nil
	}
	found := 0
	var errs []error
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			errs = append(errs, err)
			return nil
		case d.IsDir() && d.Name() == ".git" && p != path:
			return filepath.SkipDir
		case !d.Type().IsRegular():
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		found += report(p, b, out)
		return nil
	})
	return found, errors.Join(append(errs, err)...)
}

// report prints each token in text as name:line:column and its hint, and
// returns how many it found. Lines and columns count from 1; a column is
// a byte offset in its line.
func report(name string, text []byte, out io.Writer) int {
	found, line, lineStart, counted := 0, 1, 0, 0
	secret.FindTokens(text, func(at int) bool {
		// Count the lines between the previous token and this one only.
		nl := bytes.Count(text[counted:at], []byte{'\n'})
		if nl > 0 {
			line += nl
			lineStart = bytes.LastIndexByte(text[:at], '\n') + 1
		}
		counted = at
		fmt.Fprintf(out, "%s:%d:%d: token ending %s\n", name, line, at-lineStart+1, secret.Hint(string(text[at:at+secret.TokenLength])))
		found++
		return true
	})
	return found
}
