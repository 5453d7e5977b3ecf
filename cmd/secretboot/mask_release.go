//go:build !leaktest

package main

// maskingDisabled is false: secretboot as built and shipped has no switch
// that turns the output masker off (mask_leaktest.go has the test one).
func maskingDisabled(func(string) (string, bool)) bool { return false }
