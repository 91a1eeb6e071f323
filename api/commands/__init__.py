"""The commands of `comptune`, one module per subject: `plan` (solve, pay, generate), `align`
(recommend, simulate), `service` (load, token, serve), `bench`; `common` holds what they share.
`api/cli.py` assembles them into the `comptune` command line."""
