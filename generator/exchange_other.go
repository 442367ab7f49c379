//go:build !linux

package generator

// exchange swaps the folders at a and b.
func exchange(a, b string) error { return exchangeByRename(a, b) }
