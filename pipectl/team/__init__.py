"""A team on one pipeline: the semantic merge of deal files, git's merge driver, and `sync`.

The merge is a pure function of three texts (merge.py); the driver and sync run git only
through `gitrepo`. Registering the driver is the kernel's (mergesetup.py), so `init` can too.
"""
