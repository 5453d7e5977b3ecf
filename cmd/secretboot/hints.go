package main

import (
	"errors"
	"strings"

	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"
)

// commandLine renders "secretboot SUB" followed by the flags that pick the
// spec, the stage and the account as the user gave them to cmd, then args:
// the command a hint tells the user to run next must reach the same stage.
// --var is left out: its values may be payloads.
func commandLine(cmd *cobra.Command, sub string, args ...string) string {
	words := []string{"secretboot", sub}
	f := cmd.Flags()
	for _, name := range []string{"spec", "stage", "profile"} {
		if fl := f.Lookup(name); fl != nil && fl.Changed {
			words = append(words, "--"+name, shellQuote(fl.Value.String()))
		}
	}
	if fl := f.Lookup("sandbox"); fl != nil && fl.Changed {
		if sb := fl.Value.(*sandboxFlag); sb.dir != "" {
			words = append(words, "--sandbox="+shellQuote(sb.dir))
		} else {
			words = append(words, "--sandbox")
		}
	}
	for _, arg := range args {
		words = append(words, shellQuote(arg))
	}
	return strings.Join(words, " ")
}

// shellQuote quotes s for a POSIX shell when it holds anything but the
// characters paths and names usually consist of.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:@,+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// errNoCredentials replaces the SDK's account of a credential chain that
// found nothing, which ends in instance-metadata errors a user without
// an EC2 instance cannot act on.
var errNoCredentials = errors.New("no AWS credentials found: secretboot uses the AWS SDK's chain " +
	"(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, --profile or AWS_PROFILE with ~/.aws/config including SSO, " +
	"web identity, container or instance metadata); --sandbox needs none")

// explainNoCredentials returns errNoCredentials when err says the default
// credential chain fell through to instance metadata and failed there:
// the chain's last resort, reached only when nothing else supplied keys.
func explainNoCredentials(err error) error {
	if fromIMDS(err) {
		return errNoCredentials
	}
	return err
}

// fromIMDS reports whether any error in err's tree is an instance-metadata
// operation's (errors.As would stop at the first operation error, STS's).
func fromIMDS(err error) bool {
	if oe, ok := err.(*smithy.OperationError); ok && oe.ServiceID == "ec2imds" {
		return true
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return fromIMDS(u.Unwrap())
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if fromIMDS(e) {
				return true
			}
		}
	}
	return false
}
