package output

import "os"

// exchangeByRename swaps the folders at a and b with three renames, for
// systems without an atomic exchange. b is missing only between the
// second and third.
func exchangeByRename(a, b string) error {
	old := b + ".old"
	if err := os.RemoveAll(old); err != nil {
		return err
	}
	if err := os.Rename(b, old); err != nil {
		return err
	}
	if err := os.Rename(a, b); err != nil {
		_ = os.Rename(old, b)
		return err
	}
	return os.Rename(old, a)
}
