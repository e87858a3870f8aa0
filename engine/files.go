package engine

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// The engine's files (the startup-config, the MAC state file) follow one
// policy:
//   - reads open the path without blocking and refuse anything that is not
//     a regular file (a FIFO or a device at the path is an error, never a
//     wait), and at most maxFileSize bytes are read;
//   - a symlink is followed both ways: reads read its target, and writes
//     replace the target atomically (temp file beside the target, fsync,
//     rename, fsync of the directory), so a deliberate link stays a link;
//   - the temp files of a write that was interrupted (kill -9, power loss)
//     are removed at start and by `write erase`: they may hold the
//     failover key.

// maxFileSize bounds what the engine reads from one of its files.
const maxFileSize = 64 << 20

// maxLinkHops bounds symlink resolution, as the kernel does (ELOOP).
const maxLinkHops = 40

// syncOverride, when set, replaces fsync: tests make the disk slow.
var syncOverride atomic.Pointer[func(*os.File) error]

func syncFile(f *os.File) error {
	if p := syncOverride.Load(); p != nil {
		return (*p)(f)
	}
	return f.Sync()
}

var errNotRegular = errors.New("not a regular file")

// readRegular reads the regular file at path (following symlinks). It
// never blocks on a FIFO: the open is non-blocking and the type is checked
// before any read.
func readRegular(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("failed to stat %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("failed to read %s: %w (%s)", path, errNotRegular, fileType(fi.Mode()))
	}
	if fi.Size() > maxFileSize {
		return nil, fmt.Errorf("failed to read %s: larger than %d MiB", path, maxFileSize>>20)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", path, err)
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("failed to read %s: larger than %d MiB", path, maxFileSize>>20)
	}
	return b, nil
}

func fileType(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}

// resolveLink follows path while it is a symlink and returns the file a
// write must replace. The target need not exist yet.
func resolveLink(path string) (string, error) {
	for range maxLinkHops {
		fi, err := os.Lstat(path)
		if errors.Is(err, os.ErrNotExist) {
			return path, nil
		}
		if err != nil {
			return "", fmt.Errorf("failed to stat %s: %w", path, err)
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			return path, nil
		}
		to, err := os.Readlink(path)
		if err != nil {
			return "", fmt.Errorf("failed to read link %s: %w", path, err)
		}
		if !filepath.IsAbs(to) {
			to = filepath.Join(filepath.Dir(path), to)
		}
		path = to
	}
	return "", fmt.Errorf("failed to resolve %s: too many levels of symbolic links", path)
}

// tempPrefix names the temp files of writes to path (os.CreateTemp adds
// digits).
func tempPrefix(path string) string { return "." + filepath.Base(path) + "-" }

// writeAtomic replaces the file at path (or a symlink's target) with
// text, mode 0600: temp file, fsync, rename, fsync of the directory. A
// crash leaves the old or the new file, and at worst a temp file that
// removeStaleTemps deletes.
func writeAtomic(path, text string) error {
	path, err := resolveLink(path)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("failed to write %s: %w (%s)", path, errNotRegular, fileType(fi.Mode()))
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, tempPrefix(path)+"*")
	if err != nil {
		return fmt.Errorf("failed to create a temporary file: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("failed to set mode: %w", err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return fmt.Errorf("failed to write %s: %w", tmp, err)
	}
	if err := syncFile(f); err != nil {
		f.Close()
		return fmt.Errorf("failed to sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("failed to close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("failed to rename to %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("failed to open %s: %w", dir, err)
	}
	defer d.Close()
	if err := syncFile(d); err != nil {
		return fmt.Errorf("failed to sync %s: %w", dir, err)
	}
	return nil
}

// tempDigits matches the suffix os.CreateTemp puts in place of "*".
var tempDigits = regexp.MustCompile(`^[0-9]+$`)

// removeStaleTemps deletes the temp files an interrupted writeAtomic(path)
// left behind. Only regular files named exactly as writeAtomic names them
// are touched. It must not run while a write to path is under way.
func removeStaleTemps(path string) (int, error) {
	path, err := resolveLink(path)
	if err != nil {
		return 0, err
	}
	dir, prefix := filepath.Dir(path), tempPrefix(path)
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, nil
		}
		return 0, fmt.Errorf("failed to list %s: %w", dir, err)
	}
	n := 0
	for _, de := range ents {
		name := de.Name()
		if !strings.HasPrefix(name, prefix) || !tempDigits.MatchString(name[len(prefix):]) || !de.Type().IsRegular() {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return n, fmt.Errorf("failed to remove %s: %w", name, err)
		}
		n++
	}
	return n, nil
}
