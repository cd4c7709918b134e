"""pipectl's language server (`pipectl lsp`): a front end over the same core as the CLI.

Lint's diagnostics on the unsaved text, completion, hover and code actions whose edits are
the operations' own. It never writes a file, never commits and never imports the CLI; only
`pipectl lsp` imports it, so pygls stays off every other command's start-up.
"""
