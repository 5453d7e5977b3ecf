//go:build leaktest

package main

// unmaskedEnv turns the output masker off in a binary built with -tags
// leaktest, so the leak harness proves that no payload text is produced at
// all, without the backstop hiding it.
const unmaskedEnv = "SECRETBOOT_LEAKTEST_UNMASKED"

func maskingDisabled(lookupEnv func(string) (string, bool)) bool {
	v, _ := lookupEnv(unmaskedEnv)
	return v == "1"
}
