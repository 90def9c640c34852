package engine

import "os"

// openUnlinked creates a temporary file in dir and removes its name at
// once: a crash between the two leaves one empty file behind.
func openUnlinked(dir string) (*os.File, error) {
	f, err := os.CreateTemp(dir, "mizuchi-spool-")
	if err != nil {
		return nil, err
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
