package main

import (
	"io"

	"github.com/spf13/cobra"
)

func newCompletionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `completion prints the script that makes SHELL complete secretboot's commands
and flags. Load it in the current shell, or install it once:

  bash:        source <(secretboot completion bash)
               secretboot completion bash > /etc/bash_completion.d/secretboot
  zsh:         secretboot completion zsh > "${fpath[1]}/_secretboot"
  fish:        secretboot completion fish > ~/.config/fish/completions/secretboot.fish
  powershell:  secretboot completion powershell | Out-String | Invoke-Expression

bash needs the bash-completion package; zsh needs "autoload -U compinit; compinit"
in ~/.zshrc.`,
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			generate := map[string]func(io.Writer) error{
				"bash":       func(w io.Writer) error { return root.GenBashCompletionV2(w, true) },
				"zsh":        root.GenZshCompletion,
				"fish":       func(w io.Writer) error { return root.GenFishCompletion(w, true) },
				"powershell": root.GenPowerShellCompletionWithDesc,
			}
			return generate[args[0]](a.streams.Out) // OnlyValidArgs: a key of the map
		},
	}
}
